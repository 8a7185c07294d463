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
  /** The first value of a response header, '' when absent (cheaper than all of them). */
  firstResponseHeader(name: string): string
  /** Every value of a response header, in order. */
  responseHeaderValues(name: string): string[]
  setHeader(name: string, value: string): void
  addHeader(name: string, value: string): void
}

export function requirePrivateCaching(headers: CacheHeaders, writesCookie: boolean): void {
  requireCacheControl(headers, writesCookie)
  requireVaryCookie(headers)
}

// Each rule first looks at the first header line only: absent, or exactly what the rule writes, is
// the usual case (one cheap read, no regular expression); anything else takes the full look.

function requireCacheControl(headers: CacheHeaders, writesCookie: boolean): void {
  const first = headers.firstResponseHeader('Cache-Control')
  const wanted = writesCookie ? NO_STORE : NO_CACHE
  if (first === NO_STORE || (first === NO_CACHE && !writesCookie)) return
  if (first !== '') {
    const cacheControl = headers.responseHeaderValues('Cache-Control').join(', ')
    const strongEnough = writesCookie ? /\bno-store\b/i : /\b(private|no-store)\b/i
    if (strongEnough.test(cacheControl)) return
  }
  headers.setHeader('Cache-Control', wanted)
}

function requireVaryCookie(headers: CacheHeaders): void {
  const first = headers.firstResponseHeader('Vary')
  if (first === 'Cookie') return
  if (first !== '' && headers.responseHeaderValues('Vary').some((v) => /(^|,)\s*(cookie|\*)\s*(,|$)/i.test(v))) return
  headers.addHeader('Vary', 'Cookie')
}

const NO_STORE = 'private, no-store'
const NO_CACHE = 'private, no-cache'
