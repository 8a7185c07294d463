/**
 * Plugin loading, as in PocketPages. A `plugins` entry is one of:
 *   'package-name'              -> require(name), `.default ?? module` is the factory
 *   factory                     -> used as is
 *   { fn: factory, ...options } -> options reach the factory
 *   { name: 'package', ...options }
 * The options (the entry minus `fn`/`name`, with `debug: false` by default) are the factory's
 * second argument. The name `'pocketpages-plugin-ejs'` is the host's built-in EJS renderer.
 *
 * Factories run again on every request, as PocketPages does, so plugins should keep them cheap.
 */
import type {
  PagesConfig,
  PagesGlobalApi,
  Plugin,
  PluginConfigItemShortHand,
  PluginFactory,
  PluginOptions,
} from '../pocketpages/types'
import type { HostRoute } from './router'

export interface NormalizedPlugin {
  fn: PluginFactory
  options: PluginOptions
}

export type FactoryLoader = (name: string) => PluginFactory

function describe(entry: unknown): string {
  if (typeof entry === 'string') return `'${entry}'`
  if (typeof entry === 'function') return `function ${entry.name || '(anonymous)'}`
  return typeof entry
}

/** Turns one `plugins` entry into its factory and options. Throws on an unusable entry. */
export function normalizePluginEntry(entry: PluginConfigItemShortHand, load: FactoryLoader): NormalizedPlugin {
  if (typeof entry === 'string') return { fn: load(entry), options: { debug: false } }
  if (typeof entry === 'function') return { fn: entry, options: { debug: false } }
  if (entry && typeof entry === 'object') {
    const { fn, name, ...rest } = entry as { fn?: unknown; name?: unknown; [key: string]: unknown }
    const options: PluginOptions = { debug: false, ...rest }
    if (typeof fn === 'function') return { fn: fn as PluginFactory, options }
    if (typeof name === 'string') return { fn: load(name), options }
  }
  throw new Error(
    `Invalid plugin config entry (${describe(entry)}): expected a package name, a factory, { fn } or { name }`,
  )
}

/** `require`s a plugin package by name (goja only): its default export or the module itself. */
export function requireFactory(name: string): PluginFactory {
  let mod: { default?: unknown } | undefined
  try {
    mod = require(name)
  } catch (e) {
    // goja's own message for a missing package is just "Invalid module".
    throw new Error(
      `Cannot load plugin '${name}': ${e}. Is it installed? Packages resolve from node_modules in PocketBase's working directory or above.`,
    )
  }
  const factory = mod?.default ?? mod
  if (typeof factory !== 'function') throw new Error(`Plugin package '${name}' does not export a factory function`)
  return factory as PluginFactory
}

export interface PluginContext {
  pagesRoot: string
  config: PagesConfig
  globalApi: PagesGlobalApi
  routes: HostRoute[]
  /** The host's own debug logger (only logs in verbose mode). */
  systemDbg: (...args: unknown[]) => void
}

/** Calls every configured factory and returns the plugins, in config order. */
export function loadPlugins(context: PluginContext, load: FactoryLoader): Plugin[] {
  const { pagesRoot, config, globalApi, routes, systemDbg } = context
  return config.plugins.map((entry) => {
    const { fn, options } = normalizePluginEntry(entry, load)
    let name = '?'
    const dbg = (...args: unknown[]) =>
      options.debug ? globalApi.dbg(`[${name}]`, ...args) : systemDbg(`[${name}]`, ...args)
    const plugin = fn({ pagesRoot, config, globalApi, routes, dbg }, options)
    if (!plugin || typeof plugin !== 'object' || typeof plugin.name !== 'string') {
      throw new Error(`Plugin factory (${describe(entry)}) must return an object with a string name`)
    }
    name = plugin.name
    return plugin
  })
}
