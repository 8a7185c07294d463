/**
 * Cookie parsing for `request.cookies()` and Set-Cookie serialization for `response.cookie()`.
 *
 * Parsing reads client input, so it never throws: malformed pairs are skipped, a value that is
 * not valid percent-encoding is kept as sent, and the first of several same-named cookies wins
 * (as in the `cookie` package PocketPages uses). Values are then JSON-parsed where possible,
 * like PocketPages does. Serializing throws only on programmer error (bad name or attribute),
 * and its messages never include the value, which may be a secret.
 */
import type { CookieSerializeOptions } from '../pocketpages/types'

/** RFC 6265 token: the characters a cookie name may use. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** Domain and Path attribute values: printable ASCII without `;`. */
const ATTRIBUTE_VALUE = /^[\x20-\x3A\x3C-\x7E]+$/

function decodeValue(raw: string): string {
  const unquoted = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw
  if (!unquoted.includes('%')) return unquoted
  try {
    return decodeURIComponent(unquoted)
  } catch {
    return unquoted
  }
}

function parseJsonOr(value: string): unknown {
  try {
    return JSON.parse(value)
  } catch {
    return value
  }
}

/** Parses a Cookie header into a prototype-less `{ name: value }` map of JSON-parsed values. */
export function parseCookieHeader(header: string | null | undefined): Record<string, unknown> {
  const cookies: Record<string, unknown> = Object.create(null)
  if (!header) return cookies
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq === -1) continue
    const name = pair.slice(0, eq).trim()
    if (name === '' || name in cookies) continue
    cookies[name] = parseJsonOr(decodeValue(pair.slice(eq + 1).trim()))
  }
  return cookies
}

function sameSiteAttribute(sameSite: CookieSerializeOptions['sameSite']): string {
  switch (typeof sameSite === 'string' ? sameSite.toLowerCase() : sameSite) {
    case true:
    case 'strict':
      return 'Strict'
    case 'lax':
      return 'Lax'
    case 'none':
      return 'None'
    default:
      throw new TypeError(`cookie: invalid sameSite option ${String(sameSite)}`)
  }
}

/** Serializes one Set-Cookie header value; `value` is URL-encoded. */
export function serializeCookie(name: string, value: string, options: CookieSerializeOptions = {}): string {
  if (!COOKIE_NAME.test(name)) throw new TypeError(`cookie: invalid cookie name ${JSON.stringify(name)}`)
  const parts = [`${name}=${encodeURIComponent(value)}`]
  if (options.maxAge !== undefined) {
    if (!Number.isFinite(options.maxAge)) throw new TypeError(`cookie ${name}: maxAge must be a finite number`)
    parts.push(`Max-Age=${Math.floor(options.maxAge)}`)
  }
  if (options.domain !== undefined) {
    if (!ATTRIBUTE_VALUE.test(options.domain)) throw new TypeError(`cookie ${name}: invalid domain`)
    parts.push(`Domain=${options.domain}`)
  }
  if (options.path !== undefined) {
    if (!ATTRIBUTE_VALUE.test(options.path)) throw new TypeError(`cookie ${name}: invalid path`)
    parts.push(`Path=${options.path}`)
  }
  if (options.expires !== undefined) {
    if (!(options.expires instanceof Date) || Number.isNaN(options.expires.getTime())) {
      throw new TypeError(`cookie ${name}: expires must be a valid Date`)
    }
    parts.push(`Expires=${options.expires.toUTCString()}`)
  }
  if (options.httpOnly) parts.push('HttpOnly')
  if (options.secure) parts.push('Secure')
  if (options.sameSite !== undefined && options.sameSite !== false) {
    parts.push(`SameSite=${sameSiteAttribute(options.sameSite)}`)
  }
  return parts.join('; ')
}
