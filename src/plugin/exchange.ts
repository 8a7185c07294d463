/** Maps PocketPages' request (and its PocketBase event) onto the core's HttpExchange. */
import type { HttpExchange } from '../core/guest-auth'
import type { PagesRequest } from '../pocketpages/types'
import { parseBodyFirst } from './request-body'

/** The exchange, plus the Set-Cookie values it wrote (for the cookie guard). */
export type PagesExchange = HttpExchange & { readonly issuedCookies: readonly string[] }

export function exchangeFor(request: PagesRequest): PagesExchange {
  const event = request.event
  const issuedCookies: string[] = []
  return {
    issuedCookies,
    method: () => request.method,
    header: (name) => request.header(name) || '',
    // Go keeps repeated header lines apart; PocketPages' header() returns only the first.
    cookieLines: () => event.request?.header.values('Cookie') ?? [],
    host: () => event.request?.host || request.header('Host') || '',
    clientIp: () => event.realIP(),
    isTls: () => !!event.request?.tls,
    // PocketPages' response.cookie() *replaces* Set-Cookie (an upstream flaw), so a page setting its
    // own cookie would wipe ours, and vice versa. Appending through the event keeps both.
    appendSetCookie: (serialized) => {
      issuedCookies.push(serialized)
      event.response.header().add('Set-Cookie', serialized)
    },
    setHeader: (name, value) => event.response.header().set(name, value),
    addHeader: (name, value) => event.response.header().add(name, value),
    enrich: (record) => {
      // Enrichment parses the body; a body that cannot be parsed is left for the page to meet
      // (request-body.ts), and the record keeps PocketBase's default JSON form: hidden fields
      // and a non-visible email left out.
      if (!parseBodyFirst(request)) return
      try {
        $apis.enrichRecord(event, record as unknown as core.Record)
      } catch {
        // Enrichment only shapes the record's JSON form; a failing hook must not sign the user out.
      }
    },
  }
}

/** PocketBase's own routes: the cookie must never authenticate them, and we never touch them. */
export function isPocketBaseRoute(pathname: string): boolean {
  return pathname === '/api' || pathname.startsWith('/api/') || pathname === '/_' || pathname.startsWith('/_/')
}
