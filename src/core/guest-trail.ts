/**
 * The guest trace cookie of one request (policy and format: guest-expiry.ts).
 *
 * It follows the session cookie (as the session's SessionListener): written beside it whenever a
 * guest's is written (sign-in, keep-alive renewal), so its day is the day the guest's current token
 * was issued; cleared when the browser signs out or becomes a full account. It never adds a
 * Set-Cookie to a response that does not already set the session. `expired()` answers `expiredGuest()`: a request that arrived without a session,
 * with a valid trace, and none of whose session cookies (if any) names a record that still exists.
 * It reports once: the trace is cleared in the same response.
 */

import { decodeAuthCookieToken } from './auth-cookie'
import type { AuthSession, HttpExchange, SessionListener } from './auth-session'
import { readCookieValues } from './cookie'
import {
  dayOf,
  decodeTrace,
  encodeTrace,
  type GuestTrace,
  traceExpiredAtMs,
  traceKey,
  traceMaxAgeSeconds,
} from './guest-expiry'
import type { ResolvedOptions } from './options'
import type { AuthRecord, Backend, Crypto } from './ports'
import { readTokenClaims, type UnverifiedClaimsParser } from './token-claims'

export interface TrailDeps {
  backend: Backend
  options: ResolvedOptions
  exchange: HttpExchange
  crypto: Crypto
  parseClaims: UnverifiedClaimsParser
  now(): number
}

/** What `expiredGuest()` returns: when the guest's data stopped being reachable. */
export interface ExpiredGuest {
  expiredAt: Date
}

/** The trace cookie's name: the session cookie's plus a suffix (so a `__Host-` prefix carries over). */
export function traceCookieName(options: Pick<ResolvedOptions, 'cookie'>): string {
  return `${options.cookie.name}_guest`
}

export class GuestTrail implements SessionListener {
  private session: AuthSession | undefined
  /** This response set a trace: never clear it afterwards. */
  private wrote = false
  private carriedTrace: GuestTrace | null | undefined
  private answer: ExpiredGuest | null | undefined

  constructor(private readonly deps: TrailDeps) {}

  /** The session whose cookies it writes beside (called once, right after both exist). */
  attach(session: AuthSession): void {
    this.session = session
  }

  guestRenewed(record: AuthRecord): void {
    this.write(record)
  }

  started(record: AuthRecord, guest: boolean): void {
    if (guest) this.write(record)
    else this.clearCarried()
  }

  ended(): void {
    this.clearCarried()
  }

  /** The browser's guest expired: reported on the first request that arrives without it, else null. */
  expired(): ExpiredGuest | null {
    if (this.answer === undefined) this.answer = this.decide()
    return this.answer
  }

  private decide(): ExpiredGuest | null {
    const { backend, options, now } = this.deps
    const session = this.session
    if (!session || session.arrivedWith === 'session') return null
    const trace = this.carried()
    if (!trace) return null
    // A session cookie that failed for another reason (replaced by a sign-in elsewhere, say) while
    // its record still exists: that guest did not expire. (Without a session cookie this is false.)
    if (this.failedSessionRecordExists()) return null
    const collection = backend.findCollection(trace.collectionId)
    if (!collection) return null
    const at = traceExpiredAtMs(trace, options.cleanup.retentionDays, collection.authToken.duration)
    if (!this.wrote) this.clear()
    return { expiredAt: new Date(Math.min(at, now())) }
  }

  /** Whether any session cookie the request carries names a record that exists (never say "expired" then). */
  private failedSessionRecordExists(): boolean {
    const { options, exchange } = this.deps
    return readCookieValues(exchange.cookieLines(), options.cookie.name).some((value) => this.namesRecord(value))
  }

  private namesRecord(cookieValue: string): boolean {
    const { backend, parseClaims } = this.deps
    const claims = readTokenClaims(decodeAuthCookieToken(cookieValue), parseClaims)
    if (!claims) return false
    const collection = backend.findCollection(claims.collectionId)
    return !!collection && backend.findRecordById(collection, claims.id) !== null
  }

  /** The request's trace, verified; null when absent, ambiguous or not ours. */
  private carried(): GuestTrace | null {
    if (this.carriedTrace !== undefined) return this.carriedTrace
    const { crypto, exchange, options } = this.deps
    const values = readCookieValues(exchange.cookieLines(), traceCookieName(options))
    this.carriedTrace = values.length === 1 ? decodeTrace(crypto, values[0]!, (id) => this.keyOf(id)) : null
    return this.carriedTrace
  }

  private keyOf(collectionId: string): string | null {
    const collection = this.deps.backend.findCollection(collectionId)
    if (!collection || !this.deps.options.collections.includes(collection.name)) return null
    return traceKey(this.deps.crypto, collection.authToken.secret)
  }

  private write(record: AuthRecord): void {
    const collection = record.collection()
    const key = this.keyOf(collection.id)
    if (!key || !this.session) return
    const value = encodeTrace(this.deps.crypto, key, {
      collectionId: collection.id,
      lastSeenDay: dayOf(this.deps.now()),
    })
    this.session.writeSideCookie(
      traceCookieName(this.deps.options),
      value,
      traceMaxAgeSeconds(this.deps.options.cleanup.retentionDays),
    )
    this.wrote = true
  }

  /** Clears a trace the browser sent or this response set; nothing when there is none. */
  private clearCarried(): void {
    const sent = readCookieValues(this.deps.exchange.cookieLines(), traceCookieName(this.deps.options)).length > 0
    if (!sent && !this.wrote) return
    this.clear()
    this.wrote = false
  }

  private clear(): void {
    this.session?.writeSideCookie(traceCookieName(this.deps.options), '', 0)
  }
}
