/**
 * `request` and `response`: a page's view of PocketBase's request event, as in PocketPages 0.22.3.
 *
 * Request bodies as upstream: `body()` and `formData()` are `e.requestInfo().body`, nothing more.
 * PocketBase parses on the first call and caches a success; a body it cannot parse (Go refuses a
 * urlencoded body over 10 MB, PocketBase 0.40 more than 1,000 form fields, a malformed multipart)
 * makes the call throw, and a page that does not catch that answers PocketPages' generic 500 page.
 * The host adds no limit of its own, so the tests see what apps get: a page must catch it (the
 * demo's `_private/read-form.js` answers 400).
 */
import { parse, type SerializeOptions, serialize } from 'cookie'
import type { PagesMethods, PagesRequest, PagesResponse } from '../pocketpages/types'
import { parseJsonOr, parseUrl, stringify } from './global-api'

/** A Cookie header as PocketPages reads it: the `cookie` package, then values JSON-parsed. */
export function parseCookies(header: string): Record<string, unknown> {
  const raw = parse(header)
  return Object.fromEntries(Object.keys(raw).map((name) => [name, parseJsonOr(raw[name] ?? '')]))
}

export function makeRequest(e: core.RequestEvent): PagesRequest {
  let cookies: Record<string, unknown> | undefined
  const header = (name: string) => e.request!.header.get(name) || ''
  return {
    event: e,
    auth: e.auth,
    method: e.request!.method.toUpperCase() as PagesMethods,
    url: parseUrl(e.request!.url!.string()),
    formData: () => e.requestInfo().body,
    body: () => e.requestInfo().body,
    header,
    cookies: ((name?: string) => {
      cookies ??= parseCookies(header('Cookie'))
      return name === undefined ? cookies : cookies[name]
    }) as PagesRequest['cookies'],
  }
}

export function makeResponse(e: core.RequestEvent): PagesResponse {
  const response: PagesResponse = {
    file: (path) => e.fileFS($os.dirFS($filepath.dir(path)), $filepath.base(path)),
    write: (s) => {
      e.response.write(s)
    },
    redirect: (path, status = 302) => e.redirect(status, path),
    json: (status, data) => e.json(status, data),
    html: (status, data) => e.html(status, data),
    header: (name, value) => {
      if (value === undefined) return e.response.header().get(name) || ''
      e.response.header().set(name, value)
      return value
    },
    // As upstream: this SETS Set-Cookie, replacing any cookie already in the response.
    cookie: (name, value, options = {}) => {
      const text = typeof value === 'string' ? value : stringify(value)
      const serialized = serialize(name, text, { path: '/', ...(options as SerializeOptions) })
      response.header('Set-Cookie', serialized)
      return serialized
    },
  }
  return response
}

const escapeHtml = (text: string) =>
  text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&quot;' })[c]!)

export const statusPage = (title: string, details: string, pre = false): string =>
  `<!doctype html><html><body><h1>${escapeHtml(title)}</h1>${pre ? `<pre><code>${escapeHtml(details)}</code></pre>` : `<p>${escapeHtml(details)}</p>`}</body></html>`

/** The 500 page: the error and its stack (paths shortened) only in debug mode. */
export function errorPage(err: unknown, debug: boolean, hooksDir: string): string {
  if (!debug) return statusPage('Internal Server Error', 'Something went wrong. Please try again later.')
  const details = err instanceof Error && err.stack ? err.stack : String(err)
  return statusPage('PocketPages Error', details.split(hooksDir).join(''), true)
}
