/**
 * This plugin's options, resolved one way: from its entry in `pb_hooks/pages/+config.js`, read in
 * the JS VM that asks (plugin-entry.ts reads the entry, options.ts checks and completes it).
 *
 * Why +config.js and not only what PocketPages passes the factory: start-up, the cleanup cron job
 * and its route get no options from PocketPages; and upstream PocketPages keeps its config in
 * `$app.store()`, so a function option (`onMerge`, `beforeGuestSignIn`) would reach the plugin
 * bound to the JS VM that ran bootstrap, which may be serving another request right now (goja VMs
 * are not thread-safe). `require` caches +config.js per VM, and the config does not change while
 * PocketBase runs, so each VM resolves it once. Only an app that lists a wrapped factory (neither
 * the package name nor this factory) falls back to the options PocketPages passed.
 */
import { PLUGIN_NAME } from '../core/constants'
import { type ResolvedOptions, resolveOptions } from '../core/options'
import { readPluginEntry } from '../pocketpages/plugin-entry'

/** The resolved options in +config.js, or null when it does not list the plugin. Throws INVALID_OPTIONS. */
export function optionsFromPagesConfig(factory: unknown): ResolvedOptions | null {
  const exported: unknown = require(`${__hooks}/pages/+config.js`)
  const config = typeof exported === 'function' ? exported(pocketPagesGlobalApi()) : exported
  const plugins: unknown[] = config && Array.isArray(config.plugins) ? config.plugins : []
  for (const item of plugins) {
    const entry = readPluginEntry(item)
    if (entry && (entry.name === PLUGIN_NAME || (entry.fn !== undefined && entry.fn === factory))) {
      return resolveOptions(entry.options)
    }
  }
  return null
}

/** This VM's resolution of +config.js (a failure is not kept: it is thrown again on the next request). */
let configured: { factory: unknown; options: ResolvedOptions | null } | undefined
/** The last fallback resolution, reused while PocketPages passes equal options. */
let passedLast: { input: Record<string, unknown>; resolved: ResolvedOptions } | undefined

/** The options for one request: +config.js's, else (a wrapped factory) the ones PocketPages passed. */
export function requestOptions(factory: unknown, passed: unknown): ResolvedOptions {
  if (!configured || configured.factory !== factory) {
    configured = { factory, options: optionsFromPagesConfig(factory) }
  }
  return configured.options ?? resolvePassed(passed)
}

function resolvePassed(passed: unknown): ResolvedOptions {
  if (typeof passed !== 'object' || passed === null) return resolveOptions(passed)
  const input = passed as Record<string, unknown>
  // PocketPages rebuilds the object per request from the same module: same keys, same references.
  if (passedLast && sameShallow(passedLast.input, input)) return passedLast.resolved
  const resolved = resolveOptions(input)
  passedLast = { input: { ...input }, resolved }
  return resolved
}

function sameShallow(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  for (const key of keys) if (a[key] !== b[key]) return false
  return true
}

function pocketPagesGlobalApi(): unknown {
  try {
    return require('pocketpages').globalApi
  } catch {
    // Enough for the usual `(api) => ({ ... api.env('X') ... })` config outside PocketPages.
    return { env: (key: string) => $os.getenv(key) }
  }
}
