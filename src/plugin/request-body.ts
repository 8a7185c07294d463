/**
 * Parsing the request body before the page does, without changing what the page's `body()` gives.
 *
 * Why this exists: PocketBase's record enrichment (`$apis.enrichRecord(e, record)`: hidden fields,
 * email visibility, `onRecordEnrich` hooks) calls `e.requestInfo()`, which parses the body. When
 * that parse fails (Go refuses a urlencoded body over 10 MB; PocketBase 0.40 more than 1,000 form
 * fields; a malformed multipart body), PocketBase caches nothing, but Go's form parser keeps an
 * EMPTY form: the page's own `body()` (in PocketPages `e.requestInfo().body`) would then return
 * `{}` instead of throwing, and a signed-in user's form would silently arrive empty.
 *
 * So the body is parsed through the page's own `body()`. A success is cached by PocketBase (the
 * page gets the same object later). A failure is kept and thrown by the page's next `body()` or
 * `formData()` call, the one that would have thrown without the plugin; calls after that get what
 * PocketBase answers, as they would have.
 */
import type { PagesRequest } from '../pocketpages/types'

/** True when the body parsed (or there is none); false when it cannot be read. */
export function parseBodyFirst(request: PagesRequest): boolean {
  // Without a body PocketBase reads nothing (`BindBody` returns at once): no parse to protect.
  if (request.event.request?.contentLength === 0) return true
  const { body, formData } = request
  let pending: { error: unknown } | null = null
  try {
    body()
    return true
  } catch (error) {
    pending = { error }
  }
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
  return false
}
