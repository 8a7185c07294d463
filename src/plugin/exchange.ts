/** Maps PocketPages' request (and its PocketBase event) onto the core's HttpExchange. */
import type { HttpExchange } from '../core/auth-session'
import type { PagesRequest } from '../pocketpages/types'
import { guardBody } from './request-body'

/** The exchange, plus the Set-Cookie values it wrote (for the cookie guard). */
export type PagesExchange = HttpExchange & { readonly issuedCookies: readonly string[] }

export function exchangeFor(request: PagesRequest): PagesExchange {
  const event = request.event
  const issuedCookies: string[] = []
  // The plugin parses the body only through this, so a body PocketBase cannot read still throws
  // at the page's own first body() call (request-body.ts). exchangeFor runs in onRequest, before
  // PocketPages hands body() to the page.
  const bodyParsed = guardBody(request)
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
    responseHeaderValues: (name) => event.response.header().values(name),
    setHeader: (name, value) => event.response.header().set(name, value),
    addHeader: (name, value) => event.response.header().add(name, value),
    formField: (name) => {
      if (!bodyParsed()) return '' // unreadable: the error waits for the page's first body()
      try {
        const body = request.body()
        const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined
        return typeof value === 'string' ? value : ''
      } catch {
        return ''
      }
    },
    enrich: (record) => {
      // Enrichment parses the body (e.requestInfo()) and would swallow a parse error, after which
      // the page's body() would read {}. Parsing first through the guard keeps that error for the
      // page's first read (request-body.ts); enrichment then runs on what PocketBase has, as it
      // would for the page's later reads.
      bodyParsed()
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
