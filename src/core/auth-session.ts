/**
 * AuthSession: who is signed in on one HTTP request, and the session cookie that says so.
 *
 * Policy, in one place:
 * - It is the one reader and writer of the session cookie. Reading accepts only a verified auth
 *   token of a configured collection (verify-token.ts); anything else is signed out and the cookie is
 *   cleared. The cookie never authenticates PocketBase's own /api/ routes (the adapter skips them).
 * - Sliding renewal: past `refreshAfterFraction` of its lifetime, a token is re-issued, but only a
 *   token PocketBase itself would refresh (`refreshable` claim): an impersonation token stays as
 *   short as the superuser asked, exactly as PocketBase's auth-refresh refuses to extend it.
 * - A session cookie is HttpOnly, SameSite=Lax, Secure over HTTPS, Max-Age = the token's lifetime.
 * - The CSRF gate (`refuseCrossSite`) is here because every operation that starts or ends a
 *   session passes through it; the operations decide when to call it.
 * - A response that read or wrote a session is `Cache-Control: private` (`no-store` when it writes
 *   the cookie) with `Vary: Cookie` (cache-rule.ts).
 *
 * The operations (src/core/operations) own their preconditions and transactions; they end in
 * `start()` or `end()`. Nothing here calls an operation.
 */

import { requirePrivateCaching } from './cache-rule'
import { clientNetwork } from './client-network'
import { PLUGIN_NAME } from './constants'
import { checkSameOrigin } from './csrf'
import { formatPocketBaseDate } from './dates'
import { AnonymousAuthError, ErrorCodes } from './errors'
import { isGuestRecord } from './guest-identity'
import { shouldRefreshToken, shouldWriteLastSeen } from './keep-alive'
import type { ResolvedOptions } from './options'
import type { AuthRecord, Backend } from './ports'
import { clearedSessionCookie, sessionCookie, sideCookie } from './session-cookie'
import type { UnverifiedClaimsParser } from './token-claims'
import { readSession } from './verify-token'

/** What a sign-in returns to the page. */
export interface AuthData {
  token: string
  record: AuthRecord
}

/** What the session needs from the HTTP exchange; the adapter implements it. */
export interface HttpExchange {
  method(): string
  /** The first value of a request header, '' when absent. */
  header(name: string): string
  /** Every `Cookie` request header line. */
  cookieLines(): string[]
  /** The request's Host (Go moves it out of the header map, so it is not a header here). */
  host(): string
  /** The client IP as PocketBase sees it (trusted-proxy settings applied). */
  clientIp(): string
  /** True when the request reached PocketBase over TLS. */
  isTls(): boolean
  /** Adds one Set-Cookie header, keeping any others. */
  appendSetCookie(serialized: string): void
  /** Every value of a response header, in order. */
  responseHeaderValues(name: string): string[]
  setHeader(name: string, value: string): void
  addHeader(name: string, value: string): void
  /** Runs PocketBase's record enrichment (hidden fields, onRecordEnrich hooks). */
  enrich(record: AuthRecord): void
  /** A text field of the request's form body, '' when absent (never throws). */
  formField?(name: string): string
}

export interface SessionDeps {
  backend: Backend
  options: ResolvedOptions
  exchange: HttpExchange
  /** Decodes a JWT's claims without verifying them (`$security.parseUnverifiedJWT`). */
  parseClaims: UnverifiedClaimsParser
  now: () => number
  /** Called whenever the signed-in user of this request changes. */
  onAuthChange: (record: AuthRecord | undefined, token: string | undefined) => void
  /** Told about guest activity, sign-ins and sign-outs (the guest trace: guest-trail.ts). */
  listener?: SessionListener
}

/** What the session tells about itself; no return values, no say in what happens. */
export interface SessionListener {
  /** A guest's session cookie was renewed (keep-alive): it is active now. */
  guestRenewed(record: AuthRecord): void
  /** The browser was signed in as `record` (`guest`: whether it is a guest). */
  started(record: AuthRecord, guest: boolean): void
  /** The browser signed out. (A cookie that fails to verify is cleared without this.) */
  ended(): void
}

export class AuthSession {
  private current: AuthRecord | undefined
  private currentToken: string | undefined
  /** The response carries session data (read or written). */
  private private = false
  /** The response sets or clears the session cookie. */
  private writesCookie = false
  /** How the request arrived: with a session (header or verified cookie), a cookie that failed, or none. */
  private arrival: 'session' | 'invalid' | 'none'

  constructor(
    readonly deps: SessionDeps,
    initial: { record?: AuthRecord | undefined; token?: string | undefined } = {},
  ) {
    this.current = initial.record
    this.currentToken = initial.token
    this.arrival = initial.record ? 'session' : 'none'
  }

  /** How the request arrived: signed in, with a session cookie that did not verify, or without one. */
  get arrivedWith(): 'session' | 'invalid' | 'none' {
    return this.arrival
  }

  /** The signed-in user of this request, if any. */
  get record(): AuthRecord | undefined {
    return this.current
  }

  get token(): string | undefined {
    return this.currentToken
  }

  /**
   * Reads the cookie and signs the request in. Does nothing when the request carries no cookie;
   * a cookie that does not verify is cleared. Renews a refreshable token past its refresh point and
   * records guest activity. The caller skips this when an Authorization header authenticated the
   * request.
   */
  readCookie(): void {
    const { backend, options, exchange } = this.deps
    const session = readSession(
      backend,
      exchange.cookieLines(),
      options.cookie.name,
      options.collections,
      this.deps.parseClaims,
    )
    if (session.state === 'none') return
    if (session.state === 'invalid') {
      this.arrival = 'invalid'
      this.clearCookie() // nobody was signed in, so nobody is signed out
      return
    }
    this.arrival = 'session'
    const { record, claims } = session
    let token = session.token
    const now = this.deps.now()
    const lifetime = record.collection().authToken.duration
    if (claims.refreshable && shouldRefreshToken(claims.exp, lifetime, now, options.keepAlive.refreshAfterFraction)) {
      token = record.newAuthToken()
      this.writeCookie(token, record)
      if (this.isAnonymous(record)) this.deps.listener?.guestRenewed(record)
    }
    if (this.isAnonymous(record)) this.touchLastSeen(record, now)
    exchange.enrich(record)
    this.markPrivate(false)
    this.setAuth(record, token)
  }

  /** Signs the browser in as `record` with `token`: the cookie, and this request's user. */
  start(record: AuthRecord, token: string): AuthData {
    this.writeCookie(token, record)
    this.setAuth(record, token)
    this.deps.listener?.started(record, this.isAnonymous(record))
    return { token, record }
  }

  /** Clears the cookie; this request is signed out. */
  end(): void {
    this.clearCookie()
    this.setAuth(undefined, undefined)
    this.deps.listener?.ended()
  }

  /**
   * Sets (or, with `maxAgeSeconds` 0, deletes) another cookie of the plugin's, with the session
   * cookie's attributes; the response then stays out of every cache, like one that sets the session.
   */
  writeSideCookie(name: string, encodedValue: string, maxAgeSeconds: number): void {
    const { options, now } = this.deps
    this.appendCookie(sideCookie(options.cookie, name, encodedValue, maxAgeSeconds, this.isHttps(), now()))
  }

  isAnonymous(record: AuthRecord | undefined = this.current): boolean {
    return isGuestRecord(this.deps.backend, record, this.deps.options.anonymousField)
  }

  /** The client's network, as the rate limits count it (client-network.ts). */
  clientNetwork(): string {
    return clientNetwork(this.deps.exchange.clientIp(), this.deps.options.rateLimit)
  }

  /** Login CSRF: throws CROSS_SITE_REQUEST unless the request came from this site (csrf.ts). */
  refuseCrossSite(): void {
    const { options, exchange } = this.deps
    if (!options.csrf.enabled) return
    const result = checkSameOrigin({
      origin: exchange.header('Origin'),
      referer: exchange.header('Referer'),
      host: exchange.host(),
      allowedOrigins: options.csrf.allowedOrigins,
    })
    if (!result.ok) {
      throw new AnonymousAuthError(
        ErrorCodes.CROSS_SITE_REQUEST,
        `This request came from another site and was refused (${result.reason}). Submit the form from this site.`,
      )
    }
  }

  /**
   * Applies the cache rule again, after the page ran: a page may have asked for caching or set its
   * own Vary. The adapter calls it once the response is ready.
   */
  enforceCacheRule(): void {
    if (this.private) requirePrivateCaching(this.deps.exchange, this.writesCookie)
  }

  private setAuth(record: AuthRecord | undefined, token: string | undefined): void {
    this.current = record
    this.currentToken = token
    this.deps.onAuthChange(record, token)
  }

  private isHttps(): boolean {
    const { exchange } = this.deps
    const forwarded = exchange.header('X-Forwarded-Proto').toLowerCase().split(',')[0]!.trim()
    return exchange.isTls() || forwarded === 'https'
  }

  private writeCookie(token: string, record: AuthRecord): void {
    const { options, now } = this.deps
    this.appendCookie(sessionCookie(options.cookie, record, token, this.isAnonymous(record), this.isHttps(), now()))
  }

  private clearCookie(): void {
    this.appendCookie(clearedSessionCookie(this.deps.options.cookie, this.isHttps(), this.deps.now()))
  }

  private appendCookie(serialized: string): void {
    this.deps.exchange.appendSetCookie(serialized)
    this.markPrivate(true)
  }

  private markPrivate(writesCookie: boolean): void {
    this.private = true
    this.writesCookie ||= writesCookie
    requirePrivateCaching(this.deps.exchange, this.writesCookie)
  }

  /** At most one write per interval; no `updated` change and no save hooks. */
  private touchLastSeen(record: AuthRecord, now: number): void {
    const { backend, options } = this.deps
    const interval = options.keepAlive.lastSeenWriteIntervalSeconds
    if (!shouldWriteLastSeen(record.getString(options.lastSeenField), now, interval)) return
    try {
      const date = formatPocketBaseDate(now)
      backend.writeDateQuietly(record, options.lastSeenField, date)
      // The page reads this record (guestExpiresAt): let it see what is stored now.
      record.set(options.lastSeenField, date)
    } catch (error) {
      // Activity tracking must never break a page view.
      backend.log.warn(`${PLUGIN_NAME}: could not record guest activity`, 'recordId', record.id, 'error', String(error))
    }
  }
}
