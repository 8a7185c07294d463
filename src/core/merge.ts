/**
 * Merging a guest into an existing account.
 *
 * Policy: when a guest signs in to an account that already exists, its data must not be lost.
 * In one transaction: the guest is re-read and must still be the same guest session (a concurrent
 * upgrade, merge or sign-out wins otherwise), the account must be a full account, then the app's
 * `onMerge` hook runs with both records (or, without a hook, every relation field anywhere that
 * points at the guest is repointed to the account: the documented default convention), then the
 * guest is deleted (PocketBase's cascade rules apply to whatever still points at it). If anything
 * fails, the transaction rolls back and nothing changes.
 */
import { AnonymousAuthError, ErrorCodes, isAnonymousAuthError, sessionEnded } from './errors'
import { goErrorMessage } from './go-errors'
import { isGuestRecord } from './guest-identity'
import type { MergeHook } from './options'
import type { AuthRecord, Backend } from './ports'

export function mergeGuestInto(
  backend: Backend,
  guest: AuthRecord,
  user: AuthRecord,
  anonymousField: string,
  onMerge: MergeHook | null,
): void {
  const guestCollection = guest.collection()
  const userCollection = user.collection()
  if (guest.id === user.id && guestCollection.id === userCollection.id) {
    throw new AnonymousAuthError(ErrorCodes.INVALID_MERGE_TARGET, 'A guest cannot be merged into itself.')
  }
  if (userCollection.type !== 'auth') {
    throw new AnonymousAuthError(ErrorCodes.INVALID_MERGE_TARGET, 'A guest can only be merged into an auth record.')
  }
  try {
    backend.transaction((tx) => {
      const freshGuest = tx.findRecordById(guestCollection, guest.id)
      if (!freshGuest || freshGuest.tokenKey() !== guest.tokenKey()) throw sessionEnded()
      if (!isGuestRecord(tx, freshGuest, anonymousField)) {
        throw new AnonymousAuthError(ErrorCodes.NOT_ANONYMOUS, 'Only a guest can be merged into another account.')
      }
      const freshUser = tx.findRecordById(userCollection, user.id)
      if (!freshUser || isGuestRecord(tx, freshUser, anonymousField)) {
        throw new AnonymousAuthError(ErrorCodes.INVALID_MERGE_TARGET, 'A guest can only be merged into a full account.')
      }
      if (onMerge) {
        onMerge({
          guest: freshGuest as unknown as core.Record,
          user: freshUser as unknown as core.Record,
          app: tx.hookApp as core.App,
        })
      } else {
        tx.reassignRelations(guestCollection, guest.id, user.id)
      }
      tx.delete(freshGuest)
    })
  } catch (error) {
    if (isAnonymousAuthError(error)) throw error
    const source = onMerge ? 'The onMerge hook failed' : "Moving the guest's records failed"
    throw new AnonymousAuthError(ErrorCodes.MERGE_FAILED, `${source}: ${goErrorMessage(error)}. Nothing was changed.`)
  }
}
