/**
 * A guest who links an OAuth2 identity through PocketBase's own API becomes an account in place.
 *
 * PocketBase's auth-with-oauth2, called with an auth token of the same collection (a client SDK
 * holding the guest's session sends it), links a new identity to that record (an `_externalAuths`
 * row) and leaves the record as it was: still flagged, still the guest marker, the placeholder email,
 * so the cleanup would later delete the account the person believes they signed up for.
 *
 * Policy:
 * - Whatever links an identity to a guest (that API, a superuser, an app hook), the guest stops
 *   being one in the same transaction: flag cleared, the marker replaced by a hash no password
 *   matches (guest-identity.ts). Same id, so everything that points at it stays. The token key is
 *   kept: PocketBase signs the response's token with the record it holds in memory.
 * - Before PocketBase links, for a guest's request (`planGuestLink`):
 *   - the identity is new and its verified email (PocketBase keeps a provider's email only when it
 *     says it is verified) belongs to nobody: the guest takes it, and PocketBase then marks it
 *     verified by its own rule (the record's email equals the provider's). An email no account may
 *     have (the collection's domain rules) is not taken; the account keeps its placeholder address;
 *   - the identity, or its email, already belongs to a full account: that account is the one
 *     signed in (what PocketBase does for the same request without a token), and the guest is then
 *     merged into it (merge.ts), unless `mergeOnSignIn` is off, in which case the guest keeps the
 *     identity without the email.
 * Every decision reads the records PocketBase and this plugin stored, never the request's claims.
 */
import { passwordRules } from './collection'
import { isGuestRecord, noPasswordHash } from './guest-identity'
import type { ResolvedOptions } from './options'
import type { AuthRecord, Backend, CollectionInfo, Crypto } from './ports'
import { recordEvent } from './stats'

type LinkOptions = Pick<ResolvedOptions, 'collections' | 'anonymousField' | 'mergeOnSignIn'>

/**
 * Run inside the transaction that created an `_externalAuths` row: a guest it links to becomes an
 * account. Returns whether it did.
 */
export function convertLinkedGuest(
  tx: Backend,
  link: { collectionRef: string; recordRef: string },
  options: LinkOptions,
  crypto: Crypto,
  nowMs: number,
): boolean {
  const collection = tx.findCollection(link.collectionRef)
  if (!collection || !options.collections.includes(collection.name)) return false
  const record = tx.findRecordById(collection, link.recordRef)
  if (!record || !isGuestRecord(tx, record, options.anonymousField)) return false
  tx.clearGuestQuietly(record, options.anonymousField, noPasswordHash(crypto, passwordRules(collection).cost))
  recordEvent(tx, 'upgraded-oauth2', nowMs)
  return true
}

export type LinkPlan =
  /** Not a guest's request: PocketBase as usual. */
  | { action: 'none' }
  /** The identity joins the guest; `email` (the provider's) when it is free, else null. */
  | { action: 'convert'; email: string | null }
  /** The identity has an account: sign in to it, then merge the guest into it. */
  | { action: 'merge'; into: AuthRecord }

export interface LinkRequest {
  /** The record the request's Authorization token authenticated (PocketBase verified it). */
  auth: AuthRecord | null | undefined
  /** The record PocketBase chose: the identity's account, or the authenticated one. */
  record: AuthRecord | null | undefined
  collection: CollectionInfo
  /** The provider's verified email, '' when none. */
  providerEmail: string
}

const NONE: LinkPlan = { action: 'none' }

/** What a guest's auth-with-oauth2 request does, decided before PocketBase links. */
export function planGuestLink(backend: Backend, request: LinkRequest, options: LinkOptions): LinkPlan {
  const { auth, record, collection } = request
  if (!auth || !options.collections.includes(collection.name) || auth.collection().id !== collection.id) return NONE
  if (!isGuestRecord(backend, auth, options.anonymousField)) return NONE
  if (record && record.id !== auth.id) {
    // The identity is linked to an account already: PocketBase signs that one in.
    return options.mergeOnSignIn && !isGuestRecord(backend, record, options.anonymousField)
      ? { action: 'merge', into: record }
      : NONE
  }
  const email = request.providerEmail
  if (!email) return { action: 'convert', email: null }
  const owner = backend.findAuthRecordByEmail(collection, email)
  if (!owner) return { action: 'convert', email }
  // The guest itself owning the email (owner is auth) falls through: a guest is never merged into.
  if (options.mergeOnSignIn && !isGuestRecord(backend, owner, options.anonymousField)) {
    return { action: 'merge', into: owner }
  }
  return { action: 'convert', email: null }
}

/**
 * Gives the guest the provider's email when the collection accepts it (domain rules); the caller's
 * save (PocketBase's, in its transaction) stores it. Returns whether it did.
 */
export function takeProviderEmail(backend: Backend, guest: AuthRecord, email: string): boolean {
  const previous = guest.email()
  guest.setEmail(email)
  try {
    backend.validate(guest)
    return true
  } catch {
    guest.setEmail(previous)
    return false
  }
}
