/**
 * `globalApi`: the helpers PocketPages hands to `+config.js` functions and plugin factories and
 * spreads into every page's context: env, url, stringify, store and the loggers.
 */
import type { PagesGlobalApi, PagesUrl } from '../pocketpages/types'

const URL_PARTS = /^(?:([a-zA-Z][a-zA-Z0-9+.-]*:))?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(#.*)?$/

const decode = (s: string): string | null => {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '))
  } catch {
    return null
  }
}

export const parseJsonOr = (value: string): unknown => {
  try {
    return JSON.parse(value)
  } catch {
    return value
  }
}

/**
 * A query string, as url-parse (which PocketPages uses) reads it, then each value JSON-parsed
 * where it can be (`?n=1` gives 1). The first of repeated keys wins; broken pairs are skipped.
 */
export function parseQuery(search: string): Record<string, unknown> {
  const query: Record<string, unknown> = {}
  for (const pair of search.split('&')) {
    const eq = pair.indexOf('=')
    const key = decode(eq === -1 ? pair : pair.slice(0, eq))
    const value = decode(eq === -1 ? '' : pair.slice(eq + 1))
    if (!key || value === null || key in query) continue
    query[key] = parseJsonOr(value)
  }
  return query
}

/** An absolute (`https://h/p?q#h`) or, as PocketPages sees a request, relative (`/p?q`) URL. */
export function parseUrl(input: string): PagesUrl & { hash: string } {
  const [, protocol = '', host = '', pathname = '', search = '', hash = ''] = URL_PARTS.exec(input) ?? []
  const url: PagesUrl & { hash: string } = {
    href: input,
    protocol: protocol.toLowerCase(),
    host,
    hostname: host.replace(/:\d*$/, ''),
    port: /:(\d*)$/.exec(host)?.[1] ?? '',
    pathname: pathname || (host ? '/' : ''),
    query: parseQuery(search),
    hash,
    toString: () => {
      const pairs = Object.keys(url.query).map((k) => {
        const v = url.query[k]
        return `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'string' ? v : stringify(v))}`
      })
      const origin = url.host ? `${url.protocol}//${url.host}` : ''
      return `${origin}${url.pathname}${pairs.length ? `?${pairs.join('&')}` : ''}${url.hash}`
    },
  }
  return url
}

/** JSON.stringify that turns circular references into "[Circular]" and never returns undefined. */
export function stringify(value: unknown, space?: number | string): string {
  const ancestors: unknown[] = []
  const json = JSON.stringify(
    value,
    function (this: unknown, _key: string, current: unknown) {
      if (typeof current !== 'object' || current === null) return current
      // `this` holds `current`: drop the ancestors we have walked back out of.
      while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop()
      if (ancestors.includes(current)) return '[Circular]'
      ancestors.push(current)
      return current
    },
    space,
  )
  return json === undefined ? 'undefined' : json
}

/** Log arguments as one message: strings as they are, errors with their stack, the rest as JSON. */
export const formatLogArgs = (args: unknown[]): string =>
  args
    .map((arg) => (typeof arg === 'string' ? arg : arg instanceof Error ? (arg.stack ?? String(arg)) : stringify(arg)))
    .join(' ')

const logger =
  (level: 'debug' | 'info' | 'warn' | 'error') =>
  (...args: unknown[]): void =>
    $app.logger()[level](formatLogArgs(args))

export const globalApi: PagesGlobalApi = {
  url: parseUrl,
  stringify,
  env: (key: string) => $os.getenv(key),
  store: (name: string, value?: unknown) => {
    if (value === undefined) return $app.store().get(name)
    $app.store().set(name, value)
    return value
  },
  dbg: logger('debug'),
  info: logger('info'),
  warn: logger('warn'),
  error: logger('error'),
}
