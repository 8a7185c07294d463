/**
 * This plugin's options as written in `pb_hooks/pages/+config.js`, read in the JS VM that asks.
 *
 * Two kinds of callers need it: code PocketPages hands no options to (start-up, the cleanup cron
 * job and its route), and function options (`onMerge`, `beforeGuestSignIn`). Upstream PocketPages
 * keeps its config in `$app.store()`, so a function option reaches the plugin bound to the JS VM
 * that ran bootstrap, which may be serving another request right now (goja VMs are not
 * thread-safe). Function options are therefore always taken from +config.js in the serving VM,
 * never from the options PocketPages passes. `require` caches the module per VM.
 */
import { PLUGIN_NAME } from '../core/constants'
import { type GuestCheck, type MergeHook, type ResolvedOptions, resolveOptions } from '../core/options'

/** The resolved options, or null when +config.js does not list the plugin. Throws INVALID_OPTIONS. */
export function readPluginOptionsFromPagesConfig(factory: unknown): ResolvedOptions | null {
  const exported: unknown = require(`${__hooks}/pages/+config.js`)
  const config = typeof exported === 'function' ? exported(pocketPagesGlobalApi()) : exported
  const plugins: unknown[] = config && Array.isArray(config.plugins) ? config.plugins : []
  for (const entry of plugins) {
    if (entry === PLUGIN_NAME || entry === factory) return resolveOptions({})
    if (entry && typeof entry === 'object') {
      const { name, fn, ...options } = entry as { name?: unknown; fn?: unknown }
      if (name === PLUGIN_NAME || (fn !== undefined && fn === factory)) return resolveOptions(options)
    }
  }
  return null
}

export interface FunctionOptions {
  onMerge: MergeHook | null
  beforeGuestSignIn: GuestCheck | null
}

/** This VM's function options from +config.js, read once: the config does not change while PocketBase runs. */
let configured: { factory: unknown; options: FunctionOptions | null } | undefined

/**
 * The function options from +config.js in this VM. When +config.js does not list the plugin by
 * name or factory (e.g. an app wraps the factory), the options PocketPages passed are the fallback.
 */
export function functionOptions(factory: unknown, passed: FunctionOptions): FunctionOptions {
  if (!configured || configured.factory !== factory) {
    const options = readPluginOptionsFromPagesConfig(factory)
    configured = {
      factory,
      options: options ? { onMerge: options.onMerge, beforeGuestSignIn: options.beforeGuestSignIn } : null,
    }
  }
  return configured.options ?? passed
}

function pocketPagesGlobalApi(): unknown {
  try {
    return require('pocketpages').globalApi
  } catch {
    // Enough for the usual `(api) => ({ ... api.env('X') ... })` config outside PocketPages.
    return { env: (key: string) => $os.getenv(key) }
  }
}
