/**
 * `+config.js` and plugin entries, as PocketPages reads them.
 *
 * The config is `{ plugins, debug }` or a function of `globalApi` returning it; other keys are an
 * error. Without a file the plugins are `['pocketpages-plugin-ejs']`; a `plugins` list replaces
 * that. `debug` defaults to 'verbose' when DEBUG is truthy. A file that fails to load is logged
 * and the defaults apply (as upstream). Unlike upstream, which loads it once at bootstrap and
 * keeps it (plugin functions included) in `$app.store()`, each VM requires it itself, so
 * functions in it never cross VMs.
 */

import { readPluginEntry } from '../pocketpages/plugin-entry'
import type {
  PagesConfig,
  PagesGlobalApi,
  PluginConfigItemShortHand,
  PluginFactory,
  PluginOptions,
} from '../pocketpages/types'
import { fileExists } from './files'

export const EJS_PLUGIN_NAME = 'pocketpages-plugin-ejs'
const VALID_KEYS = ['plugins', 'debug']

export const isTruthyFlag = (value: string | undefined): boolean =>
  ['true', '1', 'yes', 'on', 'enabled'].includes((value ?? '').toLowerCase())

/** What `+config.js` gave (already called if a function) over the defaults, validated. */
export function normalizeConfig(raw: object | undefined, envDebug: string | undefined): PagesConfig {
  const config: PagesConfig = { plugins: [EJS_PLUGIN_NAME], debug: isTruthyFlag(envDebug) ? 'verbose' : false, ...raw }
  for (const key of Object.keys(config)) {
    if (!VALID_KEYS.includes(key)) throw new Error(`Invalid config key: ${key}`)
  }
  if (!Array.isArray(config.plugins)) throw new Error('+config.js: plugins must be an array')
  return config
}

export function loadConfig(pagesRoot: string, globalApi: PagesGlobalApi): PagesConfig {
  const path = $filepath.join(pagesRoot, '+config.js')
  let raw: object | undefined
  try {
    if (fileExists(path)) {
      const mod = require(path)
      raw = typeof mod === 'function' ? mod(globalApi) : mod
    }
  } catch (e) {
    globalApi.error(`Error loading config file: ${e}`)
  }
  return normalizeConfig(raw, $os.getenv('DEBUG'))
}

/**
 * One `plugins` entry (read by src/pocketpages/plugin-entry.ts, as upstream reads it). The options
 * (with `debug: false` by default) become the factory's second argument.
 */
export function normalizePluginEntry(
  entry: PluginConfigItemShortHand,
  load: (name: string) => PluginFactory,
): { fn: PluginFactory; options: PluginOptions } {
  const read = readPluginEntry(entry)
  if (!read) throw new Error(`Invalid plugin config: ${String(entry)}`)
  const fn = read.fn !== undefined ? (read.fn as PluginFactory) : load(read.name!)
  return { fn, options: { debug: false, ...read.options } }
}
