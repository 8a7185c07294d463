/**
 * ensureGuest(): the signed-in user (guest or full account), or a new guest; null for machines.
 *
 * Preconditions, in order:
 * - someone is signed in: that user, nothing else happens;
 * - a GET (HEAD, OPTIONS) from a prefetch, a prerender or a well-known crawler gets null
 *   (machine-request.ts), so neither fills the table with guests nobody uses; a GET that fails the
 *   app's `beforeGuestSignIn` check gets null too (a page view has no captcha to show);
 * - the collection is one the plugin accepts; an unsafe method comes from this site (login CSRF).
 *   A GET may create a guest without the CSRF gate: it only ever creates a new guest for the
 *   browser that asked, never signs it in to anyone else's.
 * One guest per browser (first-submit.ts): a POST carrying the form's nonce and the browser's
 * secret cookie finds or creates the guest of that pair in one write transaction, so duplicates of
 * one submission, however many and however concurrent, end in the same guest, each signed in to it.
 * The creation is counted against the sign-in rate limits in that transaction (sign-in-limit.ts);
 * handing the pair's guest to a duplicate is not a sign-in and is not counted.
 */
import type { AuthData } from '../auth-session'
import { requireGuestCollection } from '../collection'
import { ErrorCodes, isAnonymousAuthError } from '../errors'
import { formKeyCookieName, mayAdopt, NONCE_FIELD, pairEmail, readFormSecret, readNonce } from '../first-submit'
import { isGuestRecord } from '../guest-identity'
import { createGuestRecord } from '../guests'
import { machineRequest } from '../machine-request'
import type { AuthRecord, Backend, CollectionInfo } from '../ports'
import { countGuestSignIn } from '../sign-in-limit'
import { recordEvent } from '../stats'
import { isSafeMethod, type OperationContext } from './context'
import { missingMigration, runGuestCheck, signInAnonymously } from './sign-in-anonymously'

export function ensureGuest(ctx: OperationContext, requested: { collection?: string } = {}): AuthData | null {
  const { session, backend, options } = ctx
  const current = session.record
  if (current && session.token) return { token: session.token, record: current }
  const exchange = session.deps.exchange
  if (isSafeMethod(exchange.method())) {
    if (machineRequest((name) => exchange.header(name)) !== null) return null
    try {
      return signInAnonymously(ctx, requested, { skipCrossSiteCheck: true })
    } catch (error) {
      if (isAnonymousAuthError(error) && error.code === ErrorCodes.HUMAN_CHECK_FAILED) return null
      throw error
    }
  }
  const pair = readPair(ctx)
  if (!pair) return signInAnonymously(ctx, requested)

  const collectionName = requested.collection ?? options.collection
  if (!options.collections.includes(collectionName)) return signInAnonymously(ctx, requested) // throws the usual error
  session.refuseCrossSite()
  const collection = requireGuestCollection(backend, collectionName, options)
  const email = pairEmail(ctx.crypto, collection.authToken.secret, pair, options)
  // The duplicates that arrive after the first one committed: no check to pass again, no writer to wait for.
  const settled = adoptable(backend, collection, email, ctx)
  if (settled) return session.start(settled, settled.newAuthToken())
  try {
    runGuestCheck(ctx)
  } catch (error) {
    // A duplicate whose one-time captcha answer the first request used: it gets the first one's guest.
    const other = backend.transaction((tx) => adoptable(tx, collection, email, ctx))
    if (other) return session.start(other, other.newAuthToken())
    throw error
  }
  const record = findOrCreate(ctx, collection, email, session.clientNetwork())
  return session.start(record, record.newAuthToken())
}

function readPair(ctx: OperationContext): { secret: string; nonce: string } | null {
  const exchange = ctx.session.deps.exchange
  const nonce = readNonce(exchange.formField?.(NONCE_FIELD))
  if (!nonce) return null
  const secret = readFormSecret(exchange.cookieLines(), formKeyCookieName(ctx.options))
  return secret ? { secret, nonce } : null
}

/** The pair's guest, when it may still be handed out (mayAdopt), else null. */
function adoptable(
  backend: Backend,
  collection: CollectionInfo,
  email: string,
  ctx: OperationContext,
): AuthRecord | null {
  const found = backend.findAuthRecordByEmail(collection, email)
  if (!found || !isGuestRecord(backend, found, ctx.options.anonymousField)) return null
  return mayAdopt(found.getString('created'), found.getString(ctx.options.lastSeenField), ctx.now()) ? found : null
}

/**
 * In one write transaction: the pair's guest if another request made it meanwhile; otherwise a
 * counted sign-in and a new guest with the pair's email (or, the pair spent, a random one).
 * Only locals inside the callback (see sign-in-anonymously.ts on goja and `this`).
 */
function findOrCreate(ctx: OperationContext, collection: CollectionInfo, email: string, network: string): AuthRecord {
  const { backend, options, keys, crypto } = ctx
  const now = ctx.now()
  try {
    return backend.transaction((tx) => {
      const existing = tx.findAuthRecordByEmail(collection, email)
      if (existing && isGuestRecord(tx, existing, options.anonymousField)) {
        if (mayAdopt(existing.getString('created'), existing.getString(options.lastSeenField), now)) return existing
      }
      countGuestSignIn(tx.counters, keys, network, options.rateLimit, now)
      // A spent pair (too old, signed out, upgraded): a guest of its own, with a random email.
      const guest = createGuestRecord(tx, collection, options, crypto, now, existing ? undefined : email)
      recordEvent(tx, 'created', now)
      return guest
    })
  } catch (error) {
    if (!isAnonymousAuthError(error) && !backend.countersReady()) throw missingMigration()
    throw error
  }
}
