/**
 * URL parsing for `globalApi.url()` and `request.url`, shaped like the `url-parse` result
 * PocketPages exposes: `href`, `protocol`, `host`, `hostname`, `port`, `pathname`, `query`,
 * `hash`, and a `toString()` that rebuilds the URL from the (possibly edited) `query`.
 *
 * Like PocketPages, each query value is JSON-parsed when it can be (`?n=1` gives the number 1,
 * `?on=true` the boolean true); otherwise it stays a string. The first occurrence of a repeated
 * key wins, and a pair that is not valid percent-encoding is skipped. Never throws.
 */
import type { PagesUrl } from '../pocketpages/types'
import { stringify } from './stringify'

export type HostUrl = PagesUrl & { hash: string; query: Record<string, any> }

const URL_PARTS = /^(?:([a-zA-Z][a-zA-Z0-9+.-]*:))?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(#.*)?$/

function decodeComponent(s: string): string | null {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '))
  } catch {
    return null
  }
}

function parseJsonOr(value: string): unknown {
  try {
    return JSON.parse(value)
  } catch {
    return value
  }
}

/** Parses a query string (with or without the leading `?`) into JSON-parsed values. */
export function parseQuery(search: string): Record<string, any> {
  const query: Record<string, any> = {}
  const pairs = search.replace(/^\?/, '').split('&')
  for (const pair of pairs) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const key = decodeComponent(eq === -1 ? pair : pair.slice(0, eq))
    const value = decodeComponent(eq === -1 ? '' : pair.slice(eq + 1))
    if (key === null || value === null || key === '') continue
    // biome-ignore lint/suspicious/noPrototypeBuiltins: goja (ES2020 runtime) has no Object.hasOwn
    if (Object.prototype.hasOwnProperty.call(query, key) || key === '__proto__') continue
    query[key] = parseJsonOr(value)
  }
  return query
}

/** Serializes a query object; non-string values are JSON-encoded, undefined ones dropped. */
export function stringifyQuery(query: Record<string, unknown>): string {
  return Object.keys(query)
    .filter((key) => query[key] !== undefined)
    .map((key) => {
      const value = query[key]
      const text = typeof value === 'string' ? value : stringify(value)
      return `${encodeURIComponent(key)}=${encodeURIComponent(text)}`
    })
    .join('&')
}

function splitHost(host: string): { hostname: string; port: string } {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(host)
  if (!match) return { hostname: host, port: '' }
  return { hostname: match[1] ?? '', port: match[2] ?? '' }
}

/** Parses an absolute (`https://h/p?q`) or relative (`/p?q`) URL. */
export function parseUrl(input: string): HostUrl {
  const match = URL_PARTS.exec(input) ?? []
  const protocol = (match[1] ?? '').toLowerCase()
  const host = match[2] ?? ''
  const { hostname, port } = splitHost(host)
  const url: HostUrl = {
    href: '',
    protocol,
    host,
    hostname,
    port,
    pathname: match[3] || (host ? '/' : ''),
    query: parseQuery(match[4] ?? ''),
    hash: match[5] ?? '',
    toString() {
      const origin = url.protocol || url.host ? `${url.protocol}//${url.host}` : ''
      const search = stringifyQuery(url.query)
      return `${origin}${url.pathname}${search ? `?${search}` : ''}${url.hash}`
    },
  }
  url.href = url.toString()
  return url
}
