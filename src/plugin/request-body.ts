/**
 * Parsing the request body in the plugin without changing what the page's `body()` gives.
 *
 * Why this exists: the plugin parses the body before the page may: PocketBase's record enrichment
 * in the session read (`$apis.enrichRecord(e, record)`: hidden fields, email visibility,
 * `onRecordEnrich` hooks, through `e.requestInfo()`), and form fields an operation reads
 * (`ensureGuest()` reads `guestNonce`). When that parse fails (Go refuses a urlencoded body over
 * 10 MB; PocketBase 0.40 more than 1,000 form fields; a malformed multipart body), PocketBase
 * caches nothing, but Go's form parser keeps an EMPTY form: the page's own `body()` (in PocketPages
 * `e.requestInfo().body`) would then return `{}` instead of throwing, and a form would silently
 * arrive empty.
 *
 * So `body()` and `formData()` are wrapped in `onRequest`, before PocketPages hands them to the
 * page, and the plugin parses only through `guardBody`'s function: a success is cached by
 * PocketBase (the page gets the same object later); a failure is kept and thrown by the page's
 * next `body()` or `formData()` call, the one that would have thrown without the plugin. Calls
 * after that get what PocketBase answers, as they would have.
 */
import type { PagesRequest } from '../pocketpages/types'

/**
 * Wraps the request's `body()`/`formData()` (call it in `onRequest`) and returns the plugin's way
 * to parse: true when the body parsed (or there is none), false when it cannot be read. It parses
 * at most once per request.
 */
export function guardBody(request: PagesRequest): () => boolean {
  const { body, formData } = request
  let pending: { error: unknown } | null = null
  let readable: boolean | undefined
  const replay =
    <T>(read: () => T) =>
    (): T => {
      if (pending) {
        const { error } = pending
        pending = null
        throw error
      }
      return read()
    }
  request.body = replay(body)
  request.formData = replay(formData)
  return () => {
    if (readable !== undefined) return readable
    // Without a body PocketBase reads nothing (`BindBody` returns at once): no parse to protect.
    if (request.event.request?.contentLength === 0) {
      readable = true
      return readable
    }
    try {
      body()
      readable = true
    } catch (error) {
      pending = { error }
      readable = false
    }
    return readable
  }
}
