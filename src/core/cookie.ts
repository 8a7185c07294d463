/**
 * Cookie reading and Set-Cookie writing.
 *
 * Policy: reading client input never throws, and returns EVERY value sent under a name, across
 * every Cookie header line (HTTP/2 sends one line per cookie; a client may send several lines), so
 * the caller can refuse ambiguity: two `pb_auth` cookies is a cookie-tossing attempt, not a choice
 * to make silently. (The `cookie` package's parser keeps only the first value, which is why reading
 * is done here.) Writing uses the `cookie` package; a bad name or attribute is a programmer error.
 */
import { serialize } from 'cookie'

export interface CookieAttributes {
  path?: string
  domain?: string
  maxAgeSeconds?: number
  httpOnly?: boolean
  secure?: boolean
  sameSite?: 'Lax' | 'Strict' | 'None'
}

/** RFC 6265 token characters: what a cookie name may contain. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

export function isValidCookieName(name: string): boolean {
  return COOKIE_NAME.test(name)
}

/**
 * Every raw (still encoded) value sent under `name`, in order, from all Cookie header lines.
 * Pairs without `=` are skipped; surrounding double quotes are removed.
 */
export function readCookieValues(headerLines: readonly string[], name: string): string[] {
  const values: string[] = []
  for (const line of headerLines) {
    for (const pair of line.split(';')) {
      const eq = pair.indexOf('=')
      if (eq < 0 || pair.slice(0, eq).trim() !== name) continue
      let value = pair.slice(eq + 1).trim()
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
      values.push(value)
    }
  }
  return values
}

/** One Set-Cookie header value. `encodedValue` is already encoded (only cookie-octets). */
export function serializeCookie(
  name: string,
  encodedValue: string,
  attributes: CookieAttributes,
  nowMs: number,
): string {
  const maxAge = attributes.maxAgeSeconds
  return serialize(name, encodedValue, {
    // Identity: callers encode with encodeURIComponent, so the package's value check (whose error
    // message would echo the value, a token) always passes.
    encode: (value) => value,
    path: attributes.path,
    domain: attributes.domain,
    maxAge,
    // Expires too, for the few clients that ignore Max-Age; both name the same moment.
    expires: maxAge === undefined ? undefined : new Date(maxAge <= 0 ? 0 : nowMs + maxAge * 1000),
    httpOnly: attributes.httpOnly,
    secure: attributes.secure,
    sameSite: attributes.sameSite ? (attributes.sameSite.toLowerCase() as 'lax' | 'strict' | 'none') : undefined,
  })
}
