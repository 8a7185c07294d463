// Guest-flow helpers shared by the e2e tests: sign in through the demo's /login form, read the
// pb_auth cookie, fetch pages with it.
import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import jwt from 'jsonwebtoken'
import type { CookieRecord } from '../../src/core/auth-cookie.ts'
import { guestPasswordHash } from '../../src/core/guest-identity.ts'
import { getSetCookie, type PostFormOptions, postForm, type SetCookie } from './http.ts'
import type { PocketBaseServer } from './pocketbase.ts'

export interface GuestSession {
  token: string
  record: CookieRecord
  /** The Set-Cookie as received. */
  setCookie: SetCookie
  /** `pb_auth=<value>`, ready for a Cookie header. */
  cookie: string
}

/** Decodes a pb_auth cookie value (URL-encoded JSON {token, record}). */
export function decodeAuthCookie(value: string): { token: string; record: GuestSession['record'] } {
  return JSON.parse(decodeURIComponent(value))
}

/** A pb_auth cookie value in the SDK's format (URL-encoded JSON {token, record}); any token goes. */
export function encodeAuthCookie(token: unknown, record: unknown = {}): string {
  return encodeURIComponent(JSON.stringify({ token, record }))
}

export interface TokenClaims {
  id: string
  type: string
  collectionId: string
  refreshable?: boolean
  exp: number
}

/** The claims of a JWT, unverified. */
export function claimsOf(token: string): TokenClaims {
  const payload = jwt.decode(token)
  assert.ok(payload && typeof payload === 'object', `not a JWT: ${token.slice(0, 40)}…`)
  return payload as unknown as TokenClaims
}

/** POST /login mode=anonymous and return the session it set; asserts the redirect to /. */
export async function signInAsGuest(pb: PocketBaseServer, opts: PostFormOptions = {}): Promise<GuestSession> {
  const res = await postForm(`${pb.url}/login`, { mode: 'anonymous' }, opts)
  const body = res.status === 302 ? '' : await res.text()
  assert.equal(res.status, 302, `expected a redirect from /login, got ${res.status}: ${body.slice(0, 500)}`)
  assert.equal(res.headers.get('location'), '/')
  const setCookie = getSetCookie(res, 'pb_auth')
  assert.ok(setCookie, 'no pb_auth cookie was set')
  const { token, record } = decodeAuthCookie(setCookie.value)
  return { token, record, setCookie, cookie: `pb_auth=${setCookie.value}` }
}

/** GET a page with a Cookie header. */
export function getPage(
  pb: PocketBaseServer,
  path: string,
  cookie?: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return pb.fetch(path, { headers: { ...(cookie ? { cookie } : {}), ...headers } })
}

/** The text of `<dd id="...">` on the demo's home page, or null. */
export function field(html: string, id: string): string | null {
  const match = new RegExp(`<dd id="${id}">([^<]*)</dd>`).exec(html)
  return match ? match[1]!.trim() : null
}

/** auth-refresh through PocketBase's own API: 200 when the token is a live auth token. */
export function authRefresh(pb: PocketBaseServer, collection: string, token: string): Promise<Response> {
  return fetch(`${pb.url}/api/collections/${collection}/auth-refresh`, {
    method: 'POST',
    headers: { authorization: token },
  })
}

/** Minimal HTML entity decoding (what EJS's <%= %> escapes, plus numeric references). */
function htmlDecode(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

/** The decoded text of the demo's `<mark id="error">`, or null when the page has none. */
export function markText(html: string): string | null {
  const match = /<mark id="error">([\s\S]*?)<\/mark>/.exec(html)
  return match ? htmlDecode(match[1]!).trim() : null
}

/**
 * The demo form's messages next to its fields (`<small id="<field>-error">`), decoded, tags
 * removed (the "already used" one holds a link), by field name.
 */
export function fieldErrorTexts(html: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of html.matchAll(/<small id="([A-Za-z]+)-error">([\s\S]*?)<\/small>/g)) {
    out[m[1]!] = htmlDecode(m[2]!.replace(/<[^>]*>/g, ''))
      .replace(/\s+/g, ' ')
      .trim()
  }
  return out
}

/** A guest password marker, as the plugin writes it (for fixtures that make guests by SQL). */
export function guestMarkerHash(): string {
  const randomString = (length: number, alphabet: string) =>
    Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('')
  return guestPasswordHash({ randomString, hmac: () => '' }, 10)
}
