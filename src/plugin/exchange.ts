/** Maps PocketPages' request (and its PocketBase event) onto the core's HttpExchange. */
import type { HttpExchange } from '../core/auth-session'
import type { AuthRecord } from '../core/ports'
import type { PagesRequest } from '../pocketpages/types'
import type { ResponseHeaders } from './cookie-guard'
import { guardBody } from './request-body'

/**
 * The exchange of one request, plus the Set-Cookie values it wrote (for the cookie guard).
 * A class, not an object of closures: it is built on every request that reads or writes a session,
 * and one object with shared methods costs less than a dozen function objects.
 */
export class PagesExchange implements HttpExchange {
  /** The Set-Cookie values this request's session wrote, in order. */
  readonly issuedCookies: string[] = []
  private cookieLinesRead: string[] | undefined
  private responseHeaderMap: ResponseHeaders | undefined

  /**
   * The plugin parses the body only through this, so a body PocketBase cannot read still throws at
   * the page's own first body() call (request-body.ts). The exchange is built in onRequest, before
   * PocketPages hands body() to the page.
   */
  private readonly bodyParsed: () => boolean

  constructor(private readonly request: PagesRequest) {
    this.bodyParsed = guardBody(request)
  }

  method(): string {
    return this.request.method
  }

  header(name: string): string {
    return this.request.header(name) || ''
  }

  /** Go keeps repeated header lines apart; PocketPages' header() returns only the first. Read once. */
  cookieLines(): string[] {
    this.cookieLinesRead ??= this.request.event.request?.header.values('Cookie') ?? []
    return this.cookieLinesRead
  }

  host(): string {
    return this.request.event.request?.host || this.request.header('Host') || ''
  }

  clientIp(): string {
    return this.request.event.realIP()
  }

  isTls(): boolean {
    return !!this.request.event.request?.tls
  }

  /** The response's header map (Go's http.Header: the same map for the whole response). */
  responseHeaders(): ResponseHeaders {
    this.responseHeaderMap ??= this.request.event.response.header() as unknown as ResponseHeaders
    return this.responseHeaderMap
  }

  /**
   * PocketPages' response.cookie() *replaces* Set-Cookie (an upstream flaw), so a page setting its
   * own cookie would wipe ours, and vice versa. Appending through the event keeps both.
   */
  appendSetCookie(serialized: string): void {
    this.issuedCookies.push(serialized)
    this.responseHeaders().add('Set-Cookie', serialized)
  }

  firstResponseHeader(name: string): string {
    return this.responseHeaders().get(name)
  }

  responseHeaderValues(name: string): string[] {
    return this.responseHeaders().values(name)
  }

  setHeader(name: string, value: string): void {
    this.responseHeaders().set(name, value)
  }

  addHeader(name: string, value: string): void {
    this.responseHeaders().add(name, value)
  }

  /** A field of the parsed request body, '' when absent, not a string, or the body is unreadable. */
  formField(name: string): string {
    if (!this.bodyParsed()) return '' // unreadable: the error waits for the page's first body()
    try {
      const body = this.request.body()
      const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined
      return typeof value === 'string' ? value : ''
    } catch {
      return ''
    }
  }

  enrich(record: AuthRecord): void {
    // Enrichment parses the body (e.requestInfo()) and would swallow a parse error, after which the
    // page's body() would read {}. Parsing first through the guard keeps that error for the page's
    // first read (request-body.ts); enrichment then runs on what PocketBase has, as it would for
    // the page's later reads.
    this.bodyParsed()
    try {
      $apis.enrichRecord(this.request.event, record as unknown as core.Record)
    } catch {
      // Enrichment only shapes the record's JSON form; a failing hook must not sign the user out.
    }
  }
}

/** PocketBase's own routes: the cookie must never authenticate them, and we never touch them. */
export function isPocketBaseRoute(pathname: string): boolean {
  return pathname === '/api' || pathname.startsWith('/api/') || pathname === '/_' || pathname.startsWith('/_/')
}
