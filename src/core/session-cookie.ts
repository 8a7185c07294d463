/**
 * The session cookie's Set-Cookie lines, built in one place: the value in the PocketBase JS SDK's
 * format (auth-cookie.ts) and the attributes the options ask for. Max-Age is the token's lifetime,
 * so the cookie never outlives what it carries; `secure: 'auto'` follows the request's scheme.
 */
import { encodeAuthCookieValue } from './auth-cookie'
import { type CookieAttributes, serializeCookie } from './cookie'
import type { ResolvedOptions } from './options'
import type { AuthRecord } from './ports'

type CookieOptions = ResolvedOptions['cookie']

/** The cookie that carries `token` for `record`. */
export function sessionCookie(
  cookie: CookieOptions,
  record: AuthRecord,
  token: string,
  anonymous: boolean,
  https: boolean,
  nowMs: number,
): string {
  const collection = record.collection()
  const value = encodeAuthCookieValue(token, {
    id: record.id,
    collectionId: collection.id,
    collectionName: collection.name,
    email: record.email(),
    verified: record.verified(),
    anonymous,
  })
  return serializeCookie(cookie.name, value, attributes(cookie, collection.authToken.duration, https), nowMs)
}

/** The cookie's deletion (same name, path and domain; expired). */
export function clearedSessionCookie(cookie: CookieOptions, https: boolean, nowMs: number): string {
  return serializeCookie(cookie.name, '', attributes(cookie, 0, https), nowMs)
}

/**
 * Another cookie of the plugin's (the guest trace, the form key): the session cookie's path, domain,
 * SameSite and Secure, always HttpOnly (no page script needs them); `maxAgeSeconds` 0 deletes it.
 */
export function sideCookie(
  cookie: CookieOptions,
  name: string,
  encodedValue: string,
  maxAgeSeconds: number,
  https: boolean,
  nowMs: number,
): string {
  return serializeCookie(name, encodedValue, { ...attributes(cookie, maxAgeSeconds, https), httpOnly: true }, nowMs)
}

function attributes(cookie: CookieOptions, maxAgeSeconds: number, https: boolean): CookieAttributes {
  return {
    path: cookie.path,
    domain: cookie.domain,
    maxAgeSeconds,
    httpOnly: cookie.httpOnly,
    secure: cookie.secure === 'auto' ? https : cookie.secure,
    sameSite: cookie.sameSite,
  }
}
