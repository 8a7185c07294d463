// The HTTP exchange the session sees (src/core/auth-session.ts HttpExchange), in memory: a request
// to read from and a response whose headers and Set-Cookie lines are recorded. It mirrors the
// adapter (src/plugin/exchange.ts) on PocketBase: header names are case-insensitive, a missing
// header is '', every Cookie line is kept apart (Go's Header.Values), Set-Cookie is appended.
import type { HttpExchange } from '../../src/core/auth-session.ts'
import type { AuthRecord } from '../../src/core/ports.ts'
import { parseSetCookie, type SetCookie } from './http.ts'

export interface RequestSpec {
  method?: string
  /** Request headers other than Cookie and Host. */
  headers?: Record<string, string>
  /** Cookie header lines, each as sent (`a=1; pb_auth=...`). */
  cookies?: string[]
  host?: string
  ip?: string
  tls?: boolean
  /** The form body's text fields. */
  form?: Record<string, string>
}

export const DEFAULT_HOST = 'app.test'

export class FakeExchange implements HttpExchange {
  /** Response headers in the order written: `set` replaces every value of the name, `add` appends. */
  readonly responseHeaders: [name: string, value: string][] = []
  readonly setCookies: string[] = []
  /** Set-Cookie lines of the plugin's side cookies (guest trace, form key). */
  readonly sideCookies: string[] = []
  readonly enriched: AuthRecord[] = []

  constructor(readonly request: RequestSpec = {}) {}

  method(): string {
    return this.request.method ?? 'GET'
  }
  header(name: string): string {
    const wanted = name.toLowerCase()
    for (const [key, value] of Object.entries(this.request.headers ?? {}))
      if (key.toLowerCase() === wanted) return value
    return ''
  }
  cookieLines(): string[] {
    return this.request.cookies ?? []
  }
  host(): string {
    return this.request.host ?? DEFAULT_HOST
  }
  clientIp(): string {
    return this.request.ip ?? '192.0.2.1'
  }
  isTls(): boolean {
    return this.request.tls ?? false
  }
  appendSetCookie(serialized: string): void {
    // The plugin's other cookies (the guest trace, the form key) are kept apart: `setCookies` is
    // the session cookie's history, which most scenarios compare.
    if (/^[^=]*_(guest|form)=/.test(serialized)) this.sideCookies.push(serialized)
    else this.setCookies.push(serialized)
    this.responseHeaders.push(['Set-Cookie', serialized])
  }
  setHeader(name: string, value: string): void {
    for (let i = this.responseHeaders.length - 1; i >= 0; i--) {
      if (this.responseHeaders[i]![0].toLowerCase() === name.toLowerCase()) this.responseHeaders.splice(i, 1)
    }
    this.responseHeaders.push([name, value])
  }
  addHeader(name: string, value: string): void {
    this.responseHeaders.push([name, value])
  }
  enrich(record: AuthRecord): void {
    this.enriched.push(record)
  }
  formField(name: string): string {
    return this.request.form?.[name] ?? ''
  }

  responseHeaderValues(name: string): string[] {
    return this.responseHeader(name)
  }

  /** Every value of a response header. */
  responseHeader(name: string): string[] {
    return this.responseHeaders.filter(([key]) => key.toLowerCase() === name.toLowerCase()).map(([, value]) => value)
  }
  /** The session cookies written, parsed. */
  cookiesSet(): SetCookie[] {
    return this.setCookies.map(parseSetCookie)
  }
}
