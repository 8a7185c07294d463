/**
 * `request`: the page's view of PocketBase's request event, as in PocketPages.
 * `auth` starts as `e.auth` (set by PocketBase from an Authorization header); plugins such as
 * an auth plugin may replace `auth`/`authToken` in `onRequest`.
 *
 * Deliberate difference: `url` is absolute (`http(s)://host/path?query`), built from the
 * request's Host header and TLS state; PocketPages parses Go's relative request URI.
 */
import type { PagesMethods, PagesRequest } from '../pocketpages/types'
import { parseCookieHeader } from './cookies'
import { parseUrl } from './url'

function requestHref(e: core.RequestEvent): string {
  const req = e.request!
  const uri = req.url!.string()
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) || !req.host) return uri
  const scheme = req.tls ? 'https' : 'http'
  return `${scheme}://${req.host}${uri}`
}

export function makeRequest(e: core.RequestEvent): PagesRequest {
  let cookies: Record<string, unknown> | undefined
  const header = (name: string) => e.request?.header.get(name) || ''
  const request: PagesRequest = {
    event: e,
    auth: e.auth,
    authToken: undefined,
    method: e.request!.method.toUpperCase() as PagesMethods,
    url: parseUrl(requestHref(e)),
    formData: () => e.requestInfo().body,
    body: () => e.requestInfo().body,
    header,
    cookies: ((name?: string) => {
      cookies ??= parseCookieHeader(header('Cookie'))
      return name === undefined ? cookies : cookies[name]
    }) as PagesRequest['cookies'],
  }
  return request
}
