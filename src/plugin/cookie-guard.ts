/**
 * Keeps the session cookie alive through PocketPages' `response.cookie()`.
 *
 * Upstream PocketPages' `response.cookie()` *sets* the Set-Cookie header, replacing every cookie
 * already in the response: a page that signs a guest in and then sets its own cookie would
 * silently lose `pb_auth` (the guest would exist, but the browser would never hold its key).
 * The guard wraps `response.cookie()` so that, after the page's cookie is written, any session
 * cookie this request issued is appended again. Hosts that already append are unaffected.
 */
import type { PagesResponse } from '../pocketpages/types'

const GUARDED = '__pocketpagesAnonymousCookieGuard'

/** The parts of Go's http.Header the guard uses. */
export interface ResponseHeaders {
  values(key: string): string[]
  add(key: string, value: string): void
}

export function guardSessionCookies(
  response: PagesResponse,
  headers: () => ResponseHeaders,
  issued: () => readonly string[],
): void {
  const target = response as PagesResponse & { [GUARDED]?: true }
  if (target[GUARDED]) return
  const original = response.cookie
  target.cookie = ((name: string, value: unknown, options?: Parameters<PagesResponse['cookie']>[2]) => {
    const result = original(name, value, options)
    const present = headers().values('Set-Cookie')
    for (const cookie of issued()) {
      if (!present.includes(cookie)) headers().add('Set-Cookie', cookie)
    }
    return result
  }) as PagesResponse['cookie']
  target[GUARDED] = true
}
