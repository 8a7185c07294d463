/**
 * GuestAuth: the plugin's behaviour for one HTTP request, with no PocketPages types in sight.
 *
 * The adapter (src/plugin) builds one per request from PocketPages' request/response and exposes
 * its methods to pages. Session policy in one place:
 * - Sign-in creates a guest, issues PocketBase's own auth token and sets the `pb_auth` cookie
 *   (HttpOnly, SameSite=Lax, Secure over HTTPS, Max-Age = the token's lifetime).
 * - Reading back accepts only a verified auth token of a configured collection; anything else
 *   is signed out and the cookie is cleared. The cookie never authenticates /api/ routes (the
 *   adapter never hands it to PocketBase's own auth).
 * - Sliding renewal: past half its lifetime, a token is re-issued on the next page view.
 * - Sign-in, upgrade, merge and sign-out refuse cross-site requests (login CSRF), and sign-in
 *   is rate limited per IP, counted in the same transaction that creates the guest.
 */
import { type CookieRecord, encodeAuthCookieValue } from './auth-cookie'
import { requireGuestCollection } from './collection'
import { type CookieAttributes, serializeCookie } from './cookie'
import { checkSameOrigin } from './csrf'
import { AnonymousAuthError, ErrorCodes, isAnonymousAuthError } from './errors'
import { createGuestRecord } from './guests'
import { formatPocketBaseDate, shouldRefreshToken, shouldWriteLastSeen } from './keep-alive'
import { mergeGuestInto } from './merge'
import type { ResolvedOptions } from './options'
import type { RandomStringFn } from './random'
import { consumeSignInAllowance } from './rate-limit'
import { readSession } from './session'
import { signInLogExists } from './startup-check'
import type { UnverifiedClaimsParser } from './token-claims'
import { inTransaction } from './transaction'
import { type UpgradeInput, upgradeGuest } from './upgrade'

export interface AuthData {
  token: string
  record: core.Record
}

/** What GuestAuth needs from the HTTP exchange; the adapter implements it. */
export interface HttpExchange {
  /** A request header, '' when absent. */
  header(name: string): string
  /** The request's Host (Go moves it out of the header map, so it is not a header here). */
  host(): string
  /** The client IP as PocketBase sees it (trusted-proxy settings applied). */
  clientIp(): string
  /** True when the request reached us over TLS. */
  isTls(): boolean
  /** Adds one Set-Cookie header, keeping any others. */
  appendSetCookie(serialized: string): void
  /** Sets a response header. */
  setHeader(name: string, value: string): void
  /** Runs PocketBase's record enrichment (hidden fields, onRecordEnrich hooks). */
  enrich(record: core.Record): void
}

export interface GuestAuthDeps {
  app: core.App
  options: ResolvedOptions
  exchange: HttpExchange
  random: RandomStringFn
  sha256: (value: string) => string
  /** Decodes a JWT's claims without verifying them (`$security.parseUnverifiedJWT`). */
  parseClaims: UnverifiedClaimsParser
  now: () => number
  /**
   * The `onMerge` hook to run, looked up when a merge happens (the adapter reads it in the
   * current VM; see src/plugin/index.ts). Defaults to `options.onMerge`.
   */
  mergeHook?: () => ResolvedOptions['onMerge']
  /** Called whenever the signed-in user of this request changes. */
  onAuthChange: (record: core.Record | undefined, token: string | undefined) => void
}

export class GuestAuth {
  private record: core.Record | undefined
  private token: string | undefined

  constructor(
    private readonly deps: GuestAuthDeps,
    initial: { record?: core.Record | undefined; token?: string | undefined } = {},
  ) {
    this.record = initial.record
    this.token = initial.token
  }

  get currentRecord(): core.Record | undefined {
    return this.record
  }

  /**
   * Reads the cookie and signs the request in. Does nothing when the request is already
   * authenticated (an Authorization header wins) or carries no cookie; a cookie that does not
   * verify is cleared. Also renews the token past half its life and records guest activity.
   */
  loadFromCookie(): void {
    if (this.record) return
    const { app, options, exchange } = this.deps
    const session = readSession(
      app,
      exchange.header('Cookie'),
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
    const collection = record.collection()
    const now = this.deps.now()
    if (shouldRefreshToken(claims.exp, collection.authToken.duration, now, options.keepAlive.refreshAfterFraction)) {
      token = record.newAuthToken()
      this.writeCookie(token, record)
    }
    if (record.getBool(options.anonymousField)) this.touchLastSeen(record, now)
    exchange.enrich(record)
    this.setAuth(record, token)
  }

  signInAnonymously(requested: { collection?: string } = {}): AuthData {
    const { app, options } = this.deps
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
      if (
        this.record.getBool(options.anonymousField) &&
        this.record.collection().name === collectionName &&
        this.token
      ) {
        return { token: this.token, record: this.record }
      }
      throw new AnonymousAuthError(
        ErrorCodes.ALREADY_SIGNED_IN,
        'You are already signed in. Sign out before continuing as a guest.',
      )
    }

    const collection = requireGuestCollection(app, collectionName, options)
    const now = this.deps.now()
    const ipKey = this.deps.sha256(this.deps.exchange.clientIp())
    const record = createGuestWithinLimits(app, collection, options, this.deps.random, ipKey, now)
    const token = record.newAuthToken()
    this.writeCookie(token, record)
    this.setAuth(record, token)
    return { token, record }
  }

  isAnonymous(record: core.Record | undefined = this.record): boolean {
    if (!record) return false
    try {
      return record.getBool(this.deps.options.anonymousField)
    } catch {
      return false
    }
  }

  /**
   * Clears the cookie and signs this request out. Does nothing else (tokens stay valid until
   * expiry). Refuses cross-site requests: a guest's cookie is its only credential, so another
   * site's auto-submitted form must not be able to throw the guest's account away.
   */
  signOut(): void {
    this.refuseCrossSite()
    this.clearCookie()
    this.setAuth(undefined, undefined)
  }

  upgradeAnonymousUser(input: UpgradeInput): AuthData {
    this.refuseCrossSite()
    const { app, options } = this.deps
    const record = upgradeGuest(app, this.record, input ?? {}, options)
    const token = record.newAuthToken()
    this.writeCookie(token, record)
    if (options.upgrade.sendVerificationEmail) {
      try {
        $mails.sendRecordVerification(app, record)
      } catch (error) {
        // The upgrade stands; the user can ask for another verification email.
        app
          .logger()
          .warn(
            'pocketpages-plugin-anonymous: sending the verification email failed',
            'recordId',
            record.id,
            'error',
            String(error),
          )
      }
    }
    this.setAuth(record, token)
    return { token, record }
  }

  mergeAnonymousUser(into: core.Record): AuthData {
    this.refuseCrossSite()
    const { app, options } = this.deps
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
    if (!options.collections.includes(into.collection().name)) {
      throw new AnonymousAuthError(
        ErrorCodes.INVALID_MERGE_TARGET,
        `Cannot merge into collection '${into.collection().name}': it is not in the plugin option 'collections', so its session cookie would not be accepted.`,
      )
    }
    const onMerge = this.deps.mergeHook ? this.deps.mergeHook() : options.onMerge
    mergeGuestInto(app, guest, into, onMerge)
    const user = app.findRecordById(into.collection().id, into.id)
    const token = user.newAuthToken()
    this.writeCookie(token, user)
    this.setAuth(user, token)
    return { token, record: user }
  }

  private setAuth(record: core.Record | undefined, token: string | undefined): void {
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

  private cookieAttributes(maxAgeSeconds: number): CookieAttributes {
    const { cookie } = this.deps.options
    const attributes: CookieAttributes = {
      path: cookie.path,
      maxAgeSeconds,
      httpOnly: cookie.httpOnly,
      secure: cookie.secure === 'auto' ? this.isHttps() : cookie.secure,
      sameSite: cookie.sameSite,
    }
    if (cookie.domain !== undefined) attributes.domain = cookie.domain
    return attributes
  }

  private isHttps(): boolean {
    const { exchange } = this.deps
    return exchange.isTls() || exchange.header('X-Forwarded-Proto').toLowerCase().split(',')[0]!.trim() === 'https'
  }

  private writeCookie(token: string, record: core.Record): void {
    const value = encodeAuthCookieValue(token, cookieRecord(record, this.deps.options.anonymousField))
    const lifetimeSeconds = record.collection().authToken.duration
    this.deps.exchange.appendSetCookie(
      serializeCookie(this.deps.options.cookie.name, value, this.cookieAttributes(lifetimeSeconds)),
    )
    // A response that sets a session must never be stored by a shared cache.
    this.deps.exchange.setHeader('Cache-Control', 'no-store')
  }

  private clearCookie(): void {
    this.deps.exchange.appendSetCookie(serializeCookie(this.deps.options.cookie.name, '', this.cookieAttributes(0)))
  }

  /** At most one write per interval; raw SQL so `updated` and save hooks are left alone. */
  private touchLastSeen(record: core.Record, now: number): void {
    const { app, options } = this.deps
    if (
      !shouldWriteLastSeen(record.getString(options.lastSeenField), now, options.keepAlive.lastSeenWriteIntervalSeconds)
    )
      return
    try {
      app
        .db()
        .newQuery(
          `UPDATE {{${record.collection().name}}} SET [[${options.lastSeenField}]] = {:now} WHERE [[id]] = {:id}`,
        )
        .bind({ now: formatPocketBaseDate(now), id: record.id })
        .execute()
    } catch (error) {
      // Activity tracking must never break a page view.
      app
        .logger()
        .warn(
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
function createGuestWithinLimits(
  app: core.App,
  collection: core.Collection,
  options: ResolvedOptions,
  random: RandomStringFn,
  ipKey: string,
  now: number,
): core.Record {
  try {
    return inTransaction(app, (tx) => {
      consumeSignInAllowance(tx, ipKey, options.rateLimit, now)
      return createGuestRecord(tx, collection, options, random, now)
    })
  } catch (error) {
    if (!isAnonymousAuthError(error) && !signInLogExists(app)) throw missingMigration()
    throw error
  }
}

function cookieRecord(record: core.Record, anonymousField: string): CookieRecord {
  const collection = record.collection()
  return {
    id: record.id,
    collectionId: collection.id,
    collectionName: collection.name,
    email: record.email(),
    verified: record.verified(),
    anonymous: record.getBool(anonymousField),
  }
}

function missingMigration(): AnonymousAuthError {
  return new AnonymousAuthError(
    ErrorCodes.MIGRATION_MISSING,
    "Guest sign-in needs the plugin's migration (it creates the sign-in log used by the rate limits). Copy it into pb_migrations/ and restart PocketBase.",
  )
}
