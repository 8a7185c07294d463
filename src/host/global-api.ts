/**
 * `globalApi`: the helpers PocketPages hands to `+config.js` functions and plugin factories,
 * and spreads into every page's context.
 */
import type { PagesGlobalApi } from '../pocketpages/types'
import { dbg, error, info, warn } from './log'
import { stringify } from './stringify'
import { parseUrl } from './url'

export const globalApi: PagesGlobalApi = {
  url: parseUrl,
  stringify,
  /** An environment variable, '' when unset. */
  env: (key: string) => $os.getenv(key),
  /** `store(name)` reads PocketBase's process-wide store; `store(name, value)` writes it. */
  store: (name: string, value?: unknown) => {
    if (value === undefined) return $app.store().get(name)
    $app.store().set(name, value)
    return value
  },
  dbg,
  info,
  warn,
  error,
}
