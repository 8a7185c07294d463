/**
 * `request` and `response`: a page's view of PocketBase's request event, as in PocketPages, plus
 * the host's request-body limits (upstream has none).
 *
 * Body limits, for page routes: the middleware refuses a declared length over 1 MiB (413) and a
 * body of unknown length, i.e. chunked (411), before anything reads it. `body()`/`formData()`
 * parse lazily; a body PocketBase cannot parse or one with more than 1,000 fields makes them
 * throw a clear message and is remembered, so the request answers 400 whether or not the page
 * catches it.
 */
import { parse, type SerializeOptions, serialize } from 'cookie'
import type { PagesMethods, PagesRequest, PagesResponse } from '../pocketpages/types'
import { parseJsonOr, parseUrl, stringify } from './global-api'

export const MAX_BODY_BYTES = 1024 * 1024
export const MAX_FIELDS = 1000

export interface BodyFailure {
  status: number
  message: string
}

/** Refuses a body by its declared length; -1 is Go's "unknown" (chunked). */
export function lengthFailure(contentLength: number): BodyFailure | null {
  if (contentLength > MAX_BODY_BYTES) {
    return { status: 413, message: `The request body is larger than ${MAX_BODY_BYTES / 1024} KiB.` }
  }
  if (contentLength < 0) return { status: 411, message: 'A request body must have a Content-Length.' }
  return null
}

/** How many values a parsed body holds (a repeated field counts once per value). */
export const countFields = (body: Record<string, unknown>): number =>
  Object.keys(body).reduce((n, key) => n + (Array.isArray(body[key]) ? (body[key] as unknown[]).length : 1), 0)

/** A Cookie header as PocketPages reads it: the `cookie` package, then values JSON-parsed. */
export function parseCookies(header: string): Record<string, unknown> {
  const raw = parse(header)
  return Object.fromEntries(Object.keys(raw).map((name) => [name, parseJsonOr(raw[name] ?? '')]))
}

export function makeRequest(e: core.RequestEvent): { request: PagesRequest; bodyFailure: () => BodyFailure | null } {
  let body: Record<string, unknown> | undefined
  let failure: BodyFailure | null = null
  let cookies: Record<string, unknown> | undefined
  const fail = (status: number, message: string): never => {
    failure = { status, message }
    throw new Error(message)
  }
  const readBody = () => {
    if (failure) throw new Error(failure.message)
    if (!body) {
      let parsed: Record<string, unknown> = {}
      try {
        parsed = e.requestInfo().body
      } catch {
        fail(400, 'The request body could not be read: it is malformed or of an unsupported type.')
      }
      if (countFields(parsed) > MAX_FIELDS) fail(400, `The form has more than ${MAX_FIELDS} fields.`)
      body = parsed
    }
    return body
  }
  const header = (name: string) => e.request!.header.get(name) || ''
  const request: PagesRequest = {
    event: e,
    auth: e.auth,
    method: e.request!.method.toUpperCase() as PagesMethods,
    url: parseUrl(e.request!.url!.string()),
    formData: readBody,
    body: readBody,
    header,
    cookies: ((name?: string) => {
      cookies ??= parseCookies(header('Cookie'))
      return name === undefined ? cookies : cookies[name]
    }) as PagesRequest['cookies'],
  }
  return { request, bodyFailure: () => failure }
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
