/**
 * One entry of `plugins` in `+config.js`, read the way PocketPages reads it: a package name, a
 * factory, `{ fn, ...options }` (fn wins) or `{ name, ...options }`. The stand-in host, the plugin
 * (which reads its own entry in every JS VM) and the benchmark all use this one reader.
 */
export interface PluginEntry {
  /** The package name, when the entry names one. */
  name?: string
  /** The factory, when the entry gives one. */
  fn?: unknown
  /** Everything else in an object entry: the plugin's options. */
  options: Record<string, unknown>
}

/** The entry's parts, or null when it is none of PocketPages' shapes. */
export function readPluginEntry(entry: unknown): PluginEntry | null {
  if (typeof entry === 'string') return { name: entry, options: {} }
  if (typeof entry === 'function') return { fn: entry, options: {} }
  if (entry && typeof entry === 'object' && !Array.isArray(entry)) {
    const { fn, name, ...options } = entry as { fn?: unknown; name?: unknown }
    if (typeof fn === 'function') return { fn, options }
    if (typeof name === 'string') return { name, options }
  }
  return null
}
