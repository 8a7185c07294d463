/**
 * A guest signing in to an account that an OAuth2 sign-up created a moment ago becomes that
 * account in place (signIn's step before merging; pocketpages-plugin-auth's signInWithOAuth2 and
 * any app that calls PocketBase's auth-with-oauth2 without the guest's token end here).
 *
 * Policy: the account is "just created by an OAuth2 sign-up and empty" when, read from what
 * PocketBase stored (never from the request):
 * - it is in the guest's collection and is not a guest;
 * - it has exactly one `_externalAuths` row, linked less than `FRESH_SIGN_UP_SECONDS` ago, and the
 *   record itself was created that recently (when the collection has `created`);
 * - no relation anywhere points at it (nothing was made as it yet).
 * Then, in one transaction that re-reads both records (a concurrent upgrade, merge or sign-out of
 * the guest wins, as in merge.ts): the new record is deleted (PocketBase deletes its link with it),
 * the guest takes its email, verified state, password hash (PocketBase's random
 * one, or one the sign-up set) and its empty-on-the-guest text fields (name, username...), stops
 * being a guest, and gets the identity linked. Same guest id, so everything that points at it stays.
 * The token key is rotated (the guest's old tokens end, as on an upgrade); the caller issues a new token. Anything else (an older
 * account, one with data, a failure here) goes the usual way: the guest is merged into the account.
 */
import { PLUGIN_NAME } from '../constants'
import { parsePocketBaseDate, SECOND_MS } from '../dates'
import { isAnonymousAuthError, sessionEnded } from '../errors'
import { isGuestRecord } from '../guest-identity'
import type { AuthRecord, Backend } from '../ports'
import { fieldSettings } from '../ports'
import { recordEvent } from '../stats'
import type { OperationContext } from './context'

/** How recent an OAuth2 sign-up must be to be adopted: the OAuth2 round trip, with room to spare. */
export const FRESH_SIGN_UP_SECONDS = 600

/** Field types whose value a string carries whole. */
const COPIED_TYPES = ['text', 'url', 'editor']

/** Whether `user` is an empty account from a fresh OAuth2 sign-up that `guest` may become. */
export function isFreshOAuth2SignUp(
  backend: Backend,
  guest: AuthRecord,
  user: AuthRecord,
  anonymousField: string,
  nowMs: number,
): boolean {
  const collection = user.collection()
  if (collection.id !== guest.collection().id || isGuestRecord(backend, user, anonymousField)) return false
  const links = backend.externalAuthsOf(user)
  if (links.length !== 1 || !isRecent(links[0]!.created, nowMs)) return false
  if (collection.fields.getByName('created') && !isRecent(user.getString('created'), nowMs)) return false
  return !backend.isReferenced(collection, user.id)
}

function isRecent(date: string, nowMs: number): boolean {
  const ms = parsePocketBaseDate(date)
  return ms !== null && nowMs - ms <= FRESH_SIGN_UP_SECONDS * SECOND_MS && nowMs - ms >= -60 * SECOND_MS
}

/** The guest, now the account; null when `user` is not a fresh sign-up or adopting it failed (then merge). */
export function adoptFreshSignUp(ctx: OperationContext, guest: AuthRecord, user: AuthRecord): AuthRecord | null {
  const { backend, options } = ctx
  const now = ctx.now()
  if (!isFreshOAuth2SignUp(backend, guest, user, options.anonymousField, now)) return null
  const collection = guest.collection()
  const fields = backend.fieldsOf(collection)
  try {
    return backend.transaction((tx) => {
      const freshGuest = tx.findRecordById(collection, guest.id)
      if (!freshGuest || freshGuest.tokenKey() !== guest.tokenKey()) throw sessionEnded()
      if (!isGuestRecord(tx, freshGuest, options.anonymousField)) throw sessionEnded()
      const freshUser = tx.findRecordById(collection, user.id)
      if (!freshUser || !isFreshOAuth2SignUp(tx, freshGuest, freshUser, options.anonymousField, now)) return null
      const link = tx.externalAuthsOf(freshUser)[0]!
      const hash = tx.passwordHash(freshUser)
      const copied: [string, string][] = []
      for (const field of fields) {
        // Not PocketBase's own fields (id, tokenKey): they are the record's. The plugin's anonymous
        // and lastSeen fields are bool and date (requireGuestCollection), so the type test skips them.
        if (fieldSettings(field).system || !COPIED_TYPES.includes(field.type())) continue
        // Every field PocketBase hands out has a name.
        const name = fieldSettings(field).name!
        const value = freshUser.getString(name)
        if (value && !freshGuest.getString(name)) copied.push([name, value])
      }
      const account = { email: freshUser.email(), verified: freshUser.verified() }
      // First the new record goes (its link and email with it), then the guest takes them.
      tx.delete(freshUser)
      for (const [name, value] of copied) freshGuest.set(name, value)
      freshGuest.set(options.anonymousField, false)
      tx.setPasswordHash(freshGuest, hash)
      freshGuest.setEmail(account.email)
      freshGuest.setVerified(account.verified)
      // Every token the guest had ends: the account's session starts with the token issued now.
      freshGuest.refreshTokenKey()
      tx.save(freshGuest)
      // After the save: PocketBase drops the links of a record that turns verified (0.40).
      tx.linkExternalAuth(freshGuest, link.provider, link.providerId)
      recordEvent(tx, 'upgraded-oauth2', now)
      return freshGuest
    })
  } catch (error) {
    // The plugin's own refusal (the only one above: the guest's session ended meanwhile) stands;
    // a failure of PocketBase's falls back to the merge.
    if (isAnonymousAuthError(error)) throw error
    backend.log.warn(
      `${PLUGIN_NAME}: could not turn the guest into the new OAuth2 account; merging instead`,
      'guestId',
      guest.id,
      'error',
      String(error),
    )
    return null
  }
}
