/**
 * Cookie header parsing and Set-Cookie serialization.
 *
 * Policy: parsing client input never throws. It returns every value sent under a name, so the
 * caller can refuse ambiguity (two `pb_auth` cookies is a cookie-tossing attempt, not a choice
 * to make silently). Serializing throws only on programmer error (a bad name or attribute), and
 * its messages never echo the cookie value: for a session cookie that value is a secret.
 */

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
/** cookie-octet: printable ASCII minus space, DQUOTE, comma, semicolon and backslash. */
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/
/** Path and Domain attribute values: printable ASCII without semicolons. */
const ATTRIBUTE_VALUE = /^[\x20-\x3A\x3C-\x7E]+$/

/** True for a name a cookie may have (an RFC 6265 token). */
export function isValidCookieName(name: string): boolean {
  return COOKIE_NAME.test(name)
}

/**
 * Returns every raw (still URL-encoded) value the Cookie header carries under `name`, in order.
 * Pairs without `=` and empty names are skipped; surrounding double quotes are removed.
 */
export function readCookieValues(cookieHeader: string | undefined | null, name: string): string[] {
  if (!cookieHeader) return []
  const values: string[] = []
  for (const pair of cookieHeader.split(';')) {
    const eq = pair.indexOf('=')
    if (eq < 0) continue
    if (pair.slice(0, eq).trim() !== name) continue
    let value = pair.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    values.push(value)
  }
  return values
}

/** Builds one Set-Cookie header value. `value` must already be encoded (see encodeURIComponent). */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes): string {
  if (!isValidCookieName(name)) throw new TypeError(`Invalid cookie name "${name}"`)
  // The value is deliberately left out of this message: it may be a session token.
  if (!COOKIE_VALUE.test(value))
    throw new TypeError(`Cookie "${name}" has a value with characters not allowed in a cookie; encode it first`)

  const parts = [`${name}=${value}`]
  if (attributes.path !== undefined) {
    if (!ATTRIBUTE_VALUE.test(attributes.path)) throw new TypeError(`Invalid cookie path "${attributes.path}"`)
    parts.push(`Path=${attributes.path}`)
  }
  if (attributes.domain !== undefined) {
    if (!ATTRIBUTE_VALUE.test(attributes.domain)) throw new TypeError(`Invalid cookie domain "${attributes.domain}"`)
    parts.push(`Domain=${attributes.domain}`)
  }
  if (attributes.maxAgeSeconds !== undefined) {
    if (!Number.isInteger(attributes.maxAgeSeconds))
      throw new TypeError(`Cookie Max-Age must be a whole number of seconds`)
    parts.push(`Max-Age=${attributes.maxAgeSeconds}`)
    // Expires too, for the few clients that ignore Max-Age; Max-Age wins where both are known.
    const expires = attributes.maxAgeSeconds <= 0 ? new Date(0) : new Date(Date.now() + attributes.maxAgeSeconds * 1000)
    parts.push(`Expires=${expires.toUTCString()}`)
  }
  if (attributes.httpOnly) parts.push('HttpOnly')
  if (attributes.secure) parts.push('Secure')
  if (attributes.sameSite) parts.push(`SameSite=${attributes.sameSite}`)
  return parts.join('; ')
}
