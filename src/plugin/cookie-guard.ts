/**
 * Makes the plugin the one writer of the session cookie, through PocketPages' `response.cookie()`.
 *
 * 1. Upstream PocketPages' `response.cookie()` *sets* the Set-Cookie header, replacing every cookie
 *    already in the response: a page that signs a guest in and then sets its own cookie would
 *    silently lose the session. After any cookie is written, the guard appends again the session
 *    cookies this request issued.
 * 2. A write of the session cookie itself by page code or another plugin (pocketpages-plugin-auth's
 *    `signIn()` and `signOut()` end in exactly that) is routed to the plugin's own sign-in or
 *    sign-out, so every sign-in merges a guest and every session cookie gets the plugin's flags.
 *    Before the page runs (other plugins' onRequest), writes pass through untouched.
 */
import type { CookieSerializeOptions, PagesResponse } from '../pocketpages/types'

const GUARDED = '__pocketpagesAnonymousCookieGuard'

/** The parts of Go's http.Header the plugin uses. */
export interface ResponseHeaders {
  get(key: string): string
  values(key: string): string[]
  add(key: string, value: string): void
  set(key: string, value: string): void
  del(key: string): void
}

/** What the guard asks of the request it guards (the adapter's RequestSession implements it). */
export interface CookieGuard {
  readonly cookieName: string
  responseHeaders(): ResponseHeaders
  /** Set-Cookie values the plugin issued in this response. */
  issuedCookies(): readonly string[]
  /** Handles a write of the session cookie, or returns false to let it through unchanged. */
  routeSessionWrite(value: unknown, options: CookieSerializeOptions | undefined): boolean
}

export function guardSessionCookies(response: PagesResponse, guard: CookieGuard): void {
  const target = response as PagesResponse & { [GUARDED]?: true }
  if (target[GUARDED]) return
  const original = response.cookie
  target.cookie = ((name: string, value: unknown, options?: CookieSerializeOptions) => {
    if (name === guard.cookieName && guard.routeSessionWrite(value, options)) return ''
    const result = original(name, value, options)
    const issued = guard.issuedCookies()
    if (issued.length > 0) {
      const headers = guard.responseHeaders()
      const present = headers.values('Set-Cookie')
      for (const cookie of issued) if (!present.includes(cookie)) headers.add('Set-Cookie', cookie)
    }
    return result
  }) as PagesResponse['cookie']
  target[GUARDED] = true
}

/** True when a cookie write means "delete it": an empty value, or an expiry now or in the past. */
export function isCookieDeletion(value: unknown, options: CookieSerializeOptions | undefined): boolean {
  if (value === '' || value === null || value === undefined) return true
  if (options?.maxAge !== undefined && options.maxAge <= 0) return true
  return options?.expires !== undefined && options.expires.getTime() <= Date.now()
}

/**
 * On PocketBase's own routes (/api/, /_/) the session cookie means nothing, so nobody may write it:
 * removes what an earlier plugin wrote (pocketpages-plugin-auth clears a cookie it cannot read on
 * every request) and makes later writes no-ops. Other cookies are left alone.
 */
export function keepSessionCookieOff(response: PagesResponse, headers: ResponseHeaders, cookieName: string): void {
  removeSetCookieLines(headers, (line) => line.startsWith(`${cookieName}=`))
  guardSessionCookies(response, {
    cookieName,
    responseHeaders: () => headers,
    issuedCookies: () => NONE_ISSUED,
    routeSessionWrite: () => true,
  })
}

/**
 * Removes the clearings of the session cookie already in the response (another plugin's onRequest
 * wrote them), for a request that carried no session cookie: there was nothing to clear, except a
 * session the browser holds and withheld (SameSite=Lax: another site's form post). Clearing that
 * would let any site sign a user out, and a guest out of its account for good.
 * pocketpages-plugin-auth 0.2.2 as released writes `pb_auth=; Path=/` on every such request.
 */
export function dropSessionClearings(headers: ResponseHeaders, cookieName: string): void {
  removeSetCookieLines(headers, (line) => line.startsWith(`${cookieName}=`) && isDeletionLine(line))
}

/** Removes the Set-Cookie lines `unwanted` picks, keeping the others in their order. */
function removeSetCookieLines(headers: ResponseHeaders, unwanted: (line: string) => boolean): void {
  // The usual case on every request, no Set-Cookie written yet, costs one read.
  if (headers.get('Set-Cookie') === '') return
  const lines = headers.values('Set-Cookie')
  if (!lines.some(unwanted)) return
  headers.del('Set-Cookie')
  for (const line of lines) if (!unwanted(line)) headers.add('Set-Cookie', line)
}

/** A Set-Cookie line that deletes its cookie: an empty value, Max-Age <= 0, or Expires now or past. */
function isDeletionLine(line: string): boolean {
  const [pair = '', ...attributes] = line.split(';')
  if (pair.slice(pair.indexOf('=') + 1).trim() === '') return true
  for (const attribute of attributes) {
    const [key = '', value = ''] = attribute.split('=').map((part) => part.trim())
    if (key.toLowerCase() === 'max-age' && Number(value) <= 0) return true
    if (key.toLowerCase() === 'expires' && Date.parse(value) <= Date.now()) return true
  }
  return false
}

const NONE_ISSUED: readonly string[] = []
