/**
 * Finds this plugin's options in `pb_hooks/pages/+config.js`, for code PocketPages hands no
 * options to (start-up, the cleanup cron job and its route) and for function options that must
 * come from the VM running the request (`onMerge`). Reads the file the way PocketPages does: an
 * object, or a function of PocketPages' globalApi. `require` caches the module per VM.
 */
import { PLUGIN_NAME } from '../core/constants'
import { type ResolvedOptions, resolveOptions } from '../core/options'

/** Returns the resolved options, or null when +config.js does not list the plugin. */
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

function pocketPagesGlobalApi(): unknown {
  try {
    return require('pocketpages').globalApi
  } catch {
    // Enough for the usual `(api) => ({ ... api.env('X') ... })` config outside PocketPages.
    return { env: (key: string) => $os.getenv(key) }
  }
}
