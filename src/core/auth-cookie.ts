/**
 * The `pb_auth` cookie value, in the PocketBase JS SDK's format: URL-encoded JSON
 * `{"token": "...", "record": {...}}` (what `authStore.exportToCookie()` writes and
 * `loadFromCookie()` reads), so an app can hand the cookie to the SDK unchanged.
 *
 * Policy: only the token is ever read back. The `record` half is a convenience copy for SDK
 * users and is never trusted: who you are comes from verifying the token.
 */
import { MAX_COOKIE_VALUE_LENGTH, MAX_TOKEN_LENGTH } from './constants'

/** The record fields copied into the cookie: enough for a client to show who is signed in. */
export interface CookieRecord {
  id: string
  collectionId: string
  collectionName: string
  email: string
  verified: boolean
  anonymous: boolean
}

export function encodeAuthCookieValue(token: string, record: CookieRecord): string {
  return encodeURIComponent(JSON.stringify({ token, record }))
}

/**
 * Returns the token carried by a raw (URL-encoded) cookie value, or null when the value is
 * oversized, not URL-encoded, not JSON, or has no string token. Never throws.
 */
export function decodeAuthCookieToken(rawValue: string): string | null {
  if (rawValue.length > MAX_COOKIE_VALUE_LENGTH) return null
  try {
    return tokenOf(JSON.parse(decodeURIComponent(rawValue)))
  } catch {
    // Not URL-encoded, not JSON, or JSON `null` (whose token cannot be read): no token either way.
    return null
  }
}

/** The `token` of a parsed cookie value, when it is a string of a token's size. Throws for null. */
function tokenOf(parsed: unknown): string | null {
  const token = (parsed as { token?: unknown }).token
  return typeof token === 'string' && token.length > 0 && token.length <= MAX_TOKEN_LENGTH ? token : null
}

/**
 * The token in a session cookie value as handed to `response.cookie()` by page code or another
 * plugin: an object `{ token }`, its JSON, or the URL-encoded JSON. Null when there is none.
 */
export function tokenFromCookieValue(value: unknown): string | null {
  if (value && typeof value === 'object') return tokenOf(value)
  if (typeof value !== 'string') return null
  try {
    return tokenFromCookieValue(JSON.parse(value))
  } catch {
    return decodeAuthCookieToken(value)
  }
}
