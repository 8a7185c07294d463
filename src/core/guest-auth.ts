/**
 * GuestAuth: the plugin's behaviour for one HTTP request, with no PocketPages types in sight.
 *
 * The adapter (src/plugin) builds one per request and exposes its methods to pages. The session
 * policy, in one place:
 * - It is the one reader and writer of the session cookie. Reading accepts only a verified auth
 *   token of a configured collection (session.ts); anything else is signed out and the cookie is
 *   cleared. The cookie never authenticates PocketBase's own /api/ routes (the adapter skips them).
 * - Sign-in creates a guest (guests.ts), issues PocketBase's own auth token and sets the cookie:
 *   HttpOnly, SameSite=Lax, Secure over HTTPS, Max-Age = the token's lifetime.
 * - A guest is a guest only by guest-identity.ts (flag AND password marker): upgrade, merge and
 *   sign-out's revocation act on nothing else.
 * - Sliding renewal: past `refreshAfterFraction` of its lifetime, a token is re-issued.
 * - Signing in to an account while holding a guest session merges the guest into it (merge.ts),
 *   unless `mergeOnSignIn` is off; signing a guest out ends it (sign-out.ts).
 * - Sign-in, upgrade, merge and sign-out refuse cross-site requests (login CSRF; `signIn` only for
 *   unsafe methods, so OAuth2 callbacks, which are cross-site GETs with their own state check, work).
 * - Guest sign-in is rate limited per client network in the transaction that creates the guest;
 *   failed upgrades are throttled per guest and per network.
 * - A response that read or wrote a session is `Cache-Control: private` (`no-store` when it writes one).
 */
import { clientNetwork } from './client-network'
import { requireGuestCollection } from './collection'
import { checkSameOrigin } from './csrf'
import { formatPocketBaseDate } from './dates'
import { AnonymousAuthError, ErrorCodes, isAnonymousAuthError } from './errors'
import { type Attempt, type AttemptLimits, beginAttempt } from './failed-attempts'
import { isGuestRecord } from './guest-identity'
import { createGuestRecord } from './guests'
import { shouldRefreshToken, shouldWriteLastSeen } from './keep-alive'
import { mergeGuestInto } from './merge'
import type { GuestCheck, MergeHook, ResolvedOptions } from './options'
import type { AuthRecord, Backend, CollectionInfo, Crypto } from './ports'
import type { PrivateKeys } from './private-keys'
import { readSession, verifyToken } from './session'
import { clearedSessionCookie, sessionCookie } from './session-cookie'
import { countGuestSignIn } from './sign-in-limit'
import { endGuest } from './sign-out'
import type { UnverifiedClaimsParser } from './token-claims'
import { type UpgradeInput, upgradeGuest } from './upgrade'

export interface AuthData {
  token: string
  record: AuthRecord
}

/** What GuestAuth needs from the HTTP exchange; the adapter implements it. */
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
  setHeader(name: string, value: string): void
  addHeader(name: string, value: string): void
  /** Runs PocketBase's record enrichment (hidden fields, onRecordEnrich hooks). */
  enrich(record: AuthRecord): void
}

export interface GuestAuthDeps {
  backend: Backend
  options: ResolvedOptions
  exchange: HttpExchange
  crypto: Crypto
  keys: PrivateKeys
  /** Decodes a JWT's claims without verifying them (`$security.parseUnverifiedJWT`). */
  parseClaims: UnverifiedClaimsParser
  now: () => number
  /** The function options, looked up when needed (the adapter reads them in the serving VM). */
  hooks: { onMerge(): MergeHook | null; beforeGuestSignIn(): GuestCheck | null }
  /** Handed to `beforeGuestSignIn` as `request` (PocketPages' request object). */
  hookRequest: unknown
  /** Called whenever the signed-in user of this request changes. */
  onAuthChange: (record: AuthRecord | undefined, token: string | undefined) => void
}

/** `failedAttempts(name, limits).begin(key)`, for an app's own forms. */
export interface AttemptThrottle {
  begin(key: string): Attempt
}

const THROTTLE_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/

export class GuestAuth {
  private record: AuthRecord | undefined
  private token: string | undefined
  /** The response carries session data: the adapter keeps it out of shared caches. */
  private sessionInResponse = false
  /** The response sets a session cookie: no cache may store it at all. */
  private cookieInResponse = false

  constructor(
    private readonly deps: GuestAuthDeps,
    initial: { record?: AuthRecord | undefined; token?: string | undefined } = {},
  ) {
    this.record = initial.record
    this.token = initial.token
  }

  get currentRecord(): AuthRecord | undefined {
    return this.record
  }

  get currentToken(): string | undefined {
    return this.token
  }

  /** True once this request read or wrote a session (see `Cache-Control`). */
  get touchedSession(): boolean {
    return this.sessionInResponse
  }

  /** True once this request set or cleared the session cookie (`Cache-Control: no-store`). */
  get wroteCookie(): boolean {
    return this.cookieInResponse
  }

  /**
   * Reads the cookie and signs the request in. Does nothing when the request carries no cookie;
   * a cookie that does not verify is cleared. Renews the token past its refresh point and records
   * guest activity. The caller skips this when an Authorization header authenticated the request.
   */
  loadFromCookie(): void {
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
      this.clearCookie()
      return
    }
    const { record, claims } = session
    let token = session.token
    const now = this.deps.now()
    const lifetime = record.collection().authToken.duration
    if (shouldRefreshToken(claims.exp, lifetime, now, options.keepAlive.refreshAfterFraction)) {
      token = record.newAuthToken()
      this.writeCookie(token, record)
    }
    if (isGuestRecord(backend, record, options.anonymousField)) this.touchLastSeen(record, now)
    exchange.enrich(record)
    this.keepPrivate(false)
    this.setAuth(record, token)
  }

  signInAnonymously(requested: { collection?: string } = {}): AuthData {
    const { backend, options } = this.deps
    const collectionName = requested.collection ?? options.collection
    if (!options.collections.includes(collectionName)) {
      throw new AnonymousAuthError(
        ErrorCodes.COLLECTION_NOT_ALLOWED,
        `signInAnonymously() asked for collection '${collectionName}', which is not in the plugin option 'collections' ([${options.collections.join(', ')}]). Add it there so its tokens are accepted.`,
        { collection: collectionName },
      )
    }
    this.refuseCrossSite()

    if (this.record) {
      // Already a guest: hand back the same guest rather than orphaning its data (as Firebase does).
      if (this.isAnonymous(this.record) && this.record.collection().name === collectionName && this.token) {
        return { token: this.token, record: this.record }
      }
      throw new AnonymousAuthError(
        ErrorCodes.ALREADY_SIGNED_IN,
        'You are already signed in. Sign out before continuing as a guest.',
      )
    }

    const collection = requireGuestCollection(backend, collectionName, options)
    this.runGuestCheck()
    const network = clientNetwork(this.deps.exchange.clientIp(), options.rateLimit)
    const record = createGuestWithinLimits(this.deps, collection, network)
    return this.startSession(record, record.newAuthToken())
  }

  isAnonymous(record: AuthRecord | undefined = this.record): boolean {
    return isGuestRecord(this.deps.backend, record, this.deps.options.anonymousField)
  }

  /**
   * Signs the browser in to an account with a token the app obtained (a password check, OTP,
   * OAuth2). The token must verify like a cookie's would. A guest session is merged into the
   * account first (`mergeOnSignIn`), so what the guest made follows the person.
   */
  signIn(authData: { token?: unknown } | null | undefined): AuthData {
    if (!isSafeMethod(this.deps.exchange.method())) this.refuseCrossSite()
    const { backend, options } = this.deps
    const token = typeof authData?.token === 'string' ? authData.token : null
    const read = verifyToken(backend, token, options.collections, this.deps.parseClaims)
    if (read.state !== 'valid') {
      throw new AnonymousAuthError(
        ErrorCodes.INVALID_TOKEN,
        `signIn() needs a valid auth token of a collection in the plugin option 'collections' ([${options.collections.join(', ')}]); this one was refused (${read.state === 'invalid' ? read.reason : 'missing'}).`,
      )
    }
    const user = read.record
    const guest = this.record
    if (
      options.mergeOnSignIn &&
      guest &&
      this.isAnonymous(guest) &&
      !this.isAnonymous(user) &&
      !(guest.id === user.id && guest.collection().id === user.collection().id)
    ) {
      mergeGuestInto(backend, guest, user, options.anonymousField, this.deps.hooks.onMerge())
    }
    return this.startSession(user, read.token)
  }

  /**
   * Clears the cookie and signs this request out. A guest is ended for good (sign-out.ts): its
   * cookie was its only credential. Refuses cross-site requests: another site's auto-submitted
   * form must not be able to throw a guest's account away.
   */
  signOut(): void {
    this.refuseCrossSite()
    if (this.record && this.isAnonymous(this.record)) {
      try {
        endGuest(this.deps.backend, this.record, this.deps.options)
      } catch (error) {
        // Signing out must always work for the browser; the guest then ends by inactivity instead.
        this.deps.backend.log.warn(
          'pocketpages-plugin-anonymous: could not end the guest on sign-out',
          'recordId',
          this.record.id,
          'error',
          String(error),
        )
      }
    }
    this.clearCookie()
    this.setAuth(undefined, undefined)
  }

  upgradeAnonymousUser(input: UpgradeInput): AuthData {
    this.refuseCrossSite()
    const { backend, options } = this.deps
    const limits = {
      perKey: options.upgrade.failuresPerGuest,
      perNetwork: options.upgrade.failuresPerNetwork,
      windowSeconds: options.upgrade.failureWindowSeconds,
    }
    const throttle = this.throttle('upgrade', limits, 'Too many failed attempts to save this account.')
    const record = upgradeGuest(backend, this.record, input ?? {}, options, (guestId) => throttle.begin(guestId))
    if (options.upgrade.sendVerificationEmail) {
      try {
        backend.sendVerificationEmail(record)
      } catch (error) {
        // The upgrade stands; the user can ask for another verification email.
        backend.log.warn(
          'pocketpages-plugin-anonymous: sending the verification email failed',
          'recordId',
          record.id,
          'error',
          String(error),
        )
      }
    }
    return this.startSession(record, record.newAuthToken())
  }

  /** Merges the signed-in guest into `into` (an account the app has verified) and signs in as it. */
  mergeAnonymousUser(into: AuthRecord): AuthData {
    this.refuseCrossSite()
    const { backend, options } = this.deps
    const guest = this.record
    if (!guest)
      throw new AnonymousAuthError(ErrorCodes.NOT_SIGNED_IN, 'Sign in as a guest before merging it into an account.')
    if (!this.isAnonymous(guest))
      throw new AnonymousAuthError(ErrorCodes.NOT_ANONYMOUS, 'Only a guest can be merged into another account.')
    if (!into || typeof into.collection !== 'function' || !into.id) {
      throw new AnonymousAuthError(
        ErrorCodes.INVALID_MERGE_TARGET,
        'mergeAnonymousUser(record) needs the record of the account to merge into.',
      )
    }
    const collection = into.collection()
    if (!options.collections.includes(collection.name)) {
      throw new AnonymousAuthError(
        ErrorCodes.INVALID_MERGE_TARGET,
        `Cannot merge into collection '${collection.name}': it is not in the plugin option 'collections', so its session cookie would not be accepted.`,
      )
    }
    mergeGuestInto(backend, guest, into, options.anonymousField, this.deps.hooks.onMerge())
    const user = backend.findRecordById(collection, into.id)
    if (!user)
      throw new AnonymousAuthError(ErrorCodes.INVALID_MERGE_TARGET, 'The account to merge into no longer exists.')
    return this.startSession(user, user.newAuthToken())
  }

  /** A throttle of failed attempts for one of the app's forms; keys are case-folded. */
  failedAttempts(name: string, limits: AttemptLimits): AttemptThrottle {
    if (typeof name !== 'string' || !THROTTLE_NAME.test(name)) {
      throw new TypeError(
        "failedAttempts(name, ...): name must be 1-40 of a-z, 0-9 and '-', starting with a letter or digit",
      )
    }
    for (const key of ['perKey', 'perNetwork', 'windowSeconds'] as const) {
      const value = limits?.[key]
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
        throw new TypeError(`failedAttempts('${name}', limits): limits.${key} must be a whole number >= 1`)
      }
    }
    const throttle = this.throttle(`app-${name}`, limits, 'Too many failed attempts.')
    return {
      begin: (key) =>
        throttle.begin(
          String(key ?? '')
            .trim()
            .toLowerCase(),
        ),
    }
  }

  private throttle(name: string, limits: AttemptLimits, refusal: string): AttemptThrottle {
    const { backend, keys, exchange, options } = this.deps
    return {
      begin: (key) => {
        const network = clientNetwork(exchange.clientIp(), options.rateLimit)
        return beginAttempt(backend, keys, { name, key, network, refusal }, limits, this.deps.now())
      },
    }
  }

  private runGuestCheck(): void {
    const check = this.deps.hooks.beforeGuestSignIn()
    if (!check) return
    let passed: unknown = false
    try {
      passed = check({
        request: this.deps.hookRequest,
        clientIp: this.deps.exchange.clientIp(),
        app: this.deps.backend.hookApp as core.App,
      })
    } catch (error) {
      if (isAnonymousAuthError(error)) throw error
      // The hook's own failure (e.g. the verification service is down) refuses, never lets through.
      this.deps.backend.log.warn(
        'pocketpages-plugin-anonymous: beforeGuestSignIn threw; the sign-in was refused',
        'error',
        String(error),
      )
    }
    if (passed !== true) {
      throw new AnonymousAuthError(
        ErrorCodes.HUMAN_CHECK_FAILED,
        'We could not confirm that you are a person. Complete the check and try again.',
      )
    }
  }

  private startSession(record: AuthRecord, token: string): AuthData {
    this.writeCookie(token, record)
    this.setAuth(record, token)
    return { token, record }
  }

  private setAuth(record: AuthRecord | undefined, token: string | undefined): void {
    this.record = record
    this.token = token
    this.deps.onAuthChange(record, token)
  }

  private refuseCrossSite(): void {
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
    this.keepPrivate(true)
  }

  /** No shared cache may store a response that carries a session; none at all when it sets one. */
  private keepPrivate(setsCookie: boolean): void {
    const { exchange } = this.deps
    if (!this.sessionInResponse) exchange.addHeader('Vary', 'Cookie')
    this.sessionInResponse = true
    this.cookieInResponse ||= setsCookie
    exchange.setHeader('Cache-Control', this.cookieInResponse ? 'private, no-store' : 'private, no-cache')
  }

  /** At most one write per interval; no `updated` change and no save hooks. */
  private touchLastSeen(record: AuthRecord, now: number): void {
    const { backend, options } = this.deps
    if (
      !shouldWriteLastSeen(record.getString(options.lastSeenField), now, options.keepAlive.lastSeenWriteIntervalSeconds)
    )
      return
    try {
      backend.writeDateQuietly(record, options.lastSeenField, formatPocketBaseDate(now))
    } catch (error) {
      // Activity tracking must never break a page view.
      backend.log.warn(
        'pocketpages-plugin-anonymous: could not record guest activity',
        'recordId',
        record.id,
        'error',
        String(error),
      )
    }
  }
}

/**
 * Counts the sign-in against the rate limits and creates the guest, in one transaction.
 * A plain function on purpose: on PocketBase 0.25's goja, reading `this` inside the transaction
 * callback corrupted the error value seen by the surrounding catch.
 */
function createGuestWithinLimits(deps: GuestAuthDeps, collection: CollectionInfo, network: string): AuthRecord {
  const { backend, options, keys, crypto } = deps
  const now = deps.now()
  try {
    return backend.transaction((tx) => {
      countGuestSignIn(tx.counters, keys, network, options.rateLimit, now)
      return createGuestRecord(tx, collection, options, crypto, now)
    })
  } catch (error) {
    if (!isAnonymousAuthError(error) && !backend.countersReady()) throw missingMigration()
    throw error
  }
}

function isSafeMethod(method: string): boolean {
  const m = method.toUpperCase()
  return m === 'GET' || m === 'HEAD' || m === 'OPTIONS'
}

function missingMigration(): AnonymousAuthError {
  return new AnonymousAuthError(
    ErrorCodes.MIGRATION_MISSING,
    "Guest sign-in needs the plugin's migrations (they create the counters its rate limits use). Copy them into pb_migrations/ and restart PocketBase.",
  )
}
