/**
 * The pages config, `+config.js`, as in PocketPages:
 * `module.exports = { plugins, debug }` or `module.exports = (globalApi) => ({ plugins, debug })`.
 * Only `plugins` and `debug` are accepted. Without a config file (or without `plugins`) the
 * plugin list is the built-in EJS renderer alone; a `plugins` list replaces that default, so a
 * config that still wants EJS lists `'pocketpages-plugin-ejs'` itself. `debug` defaults to
 * `'verbose'` when the DEBUG environment variable is truthy, else false.
 *
 * Deliberate difference from PocketPages 0.22: a config file that fails to load is an error
 * that stops startup (PocketPages logs it and silently runs with the defaults).
 */
import type { PagesConfig } from '../pocketpages/types'
import { fileExists } from './files'

export const EJS_PLUGIN_NAME = 'pocketpages-plugin-ejs'
export const CONFIG_FILE = '+config.js'

const VALID_KEYS = ['plugins', 'debug']

/** Reads a DEBUG-style environment value: `true`, `1`, `yes`, `on`, `enabled` are true. */
export function isTruthyFlag(value: string | undefined): boolean {
  return ['true', '1', 'yes', 'on', 'enabled'].includes((value ?? '').trim().toLowerCase())
}

/**
 * Validates what `+config.js` exported (already called if it was a function) and fills in the
 * defaults. `raw` undefined means there is no config file.
 */
export function normalizeConfig(raw: unknown, envDebug: string | undefined): PagesConfig {
  const config: PagesConfig = {
    plugins: [EJS_PLUGIN_NAME],
    debug: isTruthyFlag(envDebug) ? 'verbose' : false,
  }
  if (raw === undefined || raw === null) return config
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`${CONFIG_FILE} must export an object or a function returning one`)
  }
  for (const key of Object.keys(raw)) {
    if (!VALID_KEYS.includes(key)) {
      throw new Error(`Invalid config key: ${key} (${CONFIG_FILE} accepts only ${VALID_KEYS.join(', ')})`)
    }
  }
  const { plugins, debug } = raw as Partial<PagesConfig>
  if (plugins !== undefined) {
    if (!Array.isArray(plugins)) throw new Error(`${CONFIG_FILE}: plugins must be an array`)
    config.plugins = plugins
  }
  if (debug !== undefined) config.debug = debug
  return config
}

/**
 * Loads `+config.js` from the pages root (goja only). The module may be a function of
 * `globalApi`; it is called here, once per VM (the caller caches the result; PocketPages calls
 * it once at startup and keeps the result, plugin functions included, in `$app.store()`).
 */
export function loadConfig(pagesRoot: string, globalApi: unknown): PagesConfig {
  const path = $filepath.join(pagesRoot, CONFIG_FILE)
  let raw: unknown
  if (fileExists(path)) {
    try {
      const mod = require(path)
      raw = typeof mod === 'function' ? mod(globalApi) : mod
    } catch (e) {
      throw new Error(`Error loading ${path}: ${e}`)
    }
  }
  return normalizeConfig(raw, $os.getenv('DEBUG'))
}
