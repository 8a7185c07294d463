/**
 * signInAnonymously(): a new guest, signed in.
 *
 * Preconditions, in order: the collection is one the plugin accepts tokens of; the request comes
 * from this site (login CSRF); a browser already holding this guest gets it back (nothing is
 * orphaned, as Firebase does), one holding a full account is refused; the collection can hold
 * guests; the app's `beforeGuestSignIn` check (a captcha, say) passes.
 * Transaction: the sign-in is counted against the per-network and global limits and the guest is
 * created in the SAME transaction, so a burst across PocketBase's JS VMs never gets one more than
 * the limit, and a refused count rolls back with the insert (sign-in-limit.ts, guests.ts). The
 * operator's count of created guests (stats.ts) is in it too: a refused sign-in is never counted.
 * Result: PocketBase's own auth token, in the session cookie.
 */

import type { AuthData } from '../auth-session'
import { requireGuestCollection } from '../collection'
import { PLUGIN_NAME } from '../constants'
import { AnonymousAuthError, ErrorCodes, isAnonymousAuthError } from '../errors'
import { createGuestRecord } from '../guests'
import type { AuthRecord, CollectionInfo } from '../ports'
import { countGuestSignIn } from '../sign-in-limit'
import { recordEvent } from '../stats'
import type { OperationContext } from './context'

export function signInAnonymously(
  ctx: OperationContext,
  requested: { collection?: string } = {},
  /** ensureGuest() on a GET: a new guest for the asking browser needs no CSRF gate (ensure-guest.ts). */
  how: { skipCrossSiteCheck?: boolean } = {},
): AuthData {
  const { session, backend, options } = ctx
  const collectionName = requested.collection ?? options.collection
  if (!options.collections.includes(collectionName)) {
    throw new AnonymousAuthError(
      ErrorCodes.COLLECTION_NOT_ALLOWED,
      `signInAnonymously() asked for collection '${collectionName}', which is not in the plugin option 'collections' ([${options.collections.join(', ')}]). Add it there so its tokens are accepted.`,
      { collection: collectionName },
    )
  }
  if (!how.skipCrossSiteCheck) session.refuseCrossSite()

  const current = session.record
  if (current) {
    if (session.isAnonymous(current) && current.collection().name === collectionName && session.token) {
      return { token: session.token, record: current }
    }
    throw new AnonymousAuthError(
      ErrorCodes.ALREADY_SIGNED_IN,
      'You are already signed in. Sign out before continuing as a guest.',
    )
  }

  const collection = requireGuestCollection(backend, collectionName, options)
  runGuestCheck(ctx)
  const record = createGuestWithinLimits(ctx, collection, session.clientNetwork())
  return session.start(record, record.newAuthToken())
}

/** The app's `beforeGuestSignIn`: only `true` lets the sign-in through; a throwing check refuses. */
export function runGuestCheck(ctx: OperationContext): void {
  const check = ctx.hooks.beforeGuestSignIn()
  if (!check) return
  let passed: unknown = false
  try {
    passed = check({
      request: ctx.hookRequest,
      clientIp: ctx.session.deps.exchange.clientIp(),
      app: ctx.backend.hookApp as core.App,
    })
  } catch (error) {
    if (isAnonymousAuthError(error)) throw error
    // The hook's own failure (e.g. the verification service is down) refuses, never lets through.
    ctx.backend.log.warn(`${PLUGIN_NAME}: beforeGuestSignIn threw; the sign-in was refused`, 'error', String(error))
  }
  if (passed !== true) {
    throw new AnonymousAuthError(
      ErrorCodes.HUMAN_CHECK_FAILED,
      'We could not confirm that you are a person. Complete the check and try again.',
    )
  }
}

/**
 * Counts the sign-in against the rate limits and creates the guest, in one transaction.
 * Nothing but locals is read inside the callback on purpose: on PocketBase 0.25's goja, reading
 * `this` inside a transaction callback corrupted the error value seen by the surrounding catch.
 */
function createGuestWithinLimits(ctx: OperationContext, collection: CollectionInfo, network: string): AuthRecord {
  const { backend, options, keys, crypto } = ctx
  const now = ctx.now()
  try {
    return backend.transaction((tx) => {
      countGuestSignIn(tx.counters, keys, network, options.rateLimit, now)
      const guest = createGuestRecord(tx, collection, options, crypto, now)
      recordEvent(tx, 'created', now)
      return guest
    })
  } catch (error) {
    if (!isAnonymousAuthError(error) && !backend.countersReady()) throw missingMigration()
    throw error
  }
}

export function missingMigration(): AnonymousAuthError {
  return new AnonymousAuthError(
    ErrorCodes.MIGRATION_MISSING,
    "Guest sign-in needs the plugin's migrations (they create the counters its rate limits use). Copy them into pb_migrations/ and restart PocketBase.",
  )
}
