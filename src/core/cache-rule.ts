/**
 * The cache rule for responses that carry a session, written once.
 *
 * A page that shows who is signed in must never be served to someone else from a shared cache, so
 * it is `Cache-Control: private` with `Vary: Cookie`; a response that sets or clears the session
 * cookie may not be stored by any cache (`no-store`), or a browser's back button or a proxy could
 * replay the Set-Cookie. The rule only ever strengthens what the response already asks for: the
 * session applies it when it reads or writes the cookie, and again once the page has run, in case
 * the page asked for caching.
 */

/** The response headers the rule reads and writes. */
export interface CacheHeaders {
  /** Every value of a response header, in order. */
  responseHeaderValues(name: string): string[]
  setHeader(name: string, value: string): void
  addHeader(name: string, value: string): void
}

export function requirePrivateCaching(headers: CacheHeaders, writesCookie: boolean): void {
  const cacheControl = headers.responseHeaderValues('Cache-Control').join(', ')
  if (writesCookie) {
    if (!/\bno-store\b/i.test(cacheControl)) headers.setHeader('Cache-Control', 'private, no-store')
  } else if (!/\b(private|no-store)\b/i.test(cacheControl)) {
    headers.setHeader('Cache-Control', 'private, no-cache')
  }
  if (!headers.responseHeaderValues('Vary').some((v) => /(^|,)\s*(cookie|\*)\s*(,|$)/i.test(v))) {
    headers.addHeader('Vary', 'Cookie')
  }
}
