/**
 * mergeAnonymousUser(into), and the merge itself (also run by signIn() when a guest signs in to an
 * existing account).
 *
 * Policy: when a guest signs in to an account that already exists, its data must not be lost.
 * Preconditions (page function): the request comes from this site, the session is a guest, and the
 * target is an auth record of a configured collection other than the guest (mergeTargetProblem,
 * the one home of those rules). The merge runs in short transactions (merge-batches.ts), so a
 * guest with many records never stalls the site's other writes; for the user it stays all or
 * nothing: every record moved and the guest gone, or nothing changed and MERGE_FAILED. Where the
 * plugin's migration has not made the merge journal yet, the merge is what it was before, one
 * transaction: the guest is re-read and must still be the same guest session (a concurrent upgrade,
 * merge or sign-out wins otherwise), the account must be a full account, then the app's `onMerge`
 * hook runs with both records (or, without a hook, every relation field anywhere that points at the
 * guest is repointed to the account: the documented default convention), then the guest is deleted
 * (PocketBase's cascade rules apply to whatever still points at it), and the merge is counted in the
 * operator's stats (stats.ts). If anything fails, the transaction rolls back and nothing changes,
 * the count included.
 */
import type { AuthData } from '../auth-session'
import { AnonymousAuthError, ErrorCodes, isAnonymousAuthError, sessionEnded } from '../errors'
import { goErrorMessage } from '../go-errors'
import { isGuestRecord } from '../guest-identity'
import { beginMerge, driveMerge, MergeSuperseded } from '../merge-batches'
import type { ResolvedOptions } from '../options'
import type { MergeHook } from '../options-types'
import type { AuthRecord, Backend, PendingMerge } from '../ports'
import { recordEvent } from '../stats'
import type { OperationContext } from './context'

/** Merges the signed-in guest into `into` (an account the app has verified) and signs in as it. */
export function mergeAnonymousUser(ctx: OperationContext, into: AuthRecord): AuthData {
  const { session, backend, options } = ctx
  session.refuseCrossSite()
  const guest = session.record
  if (!guest)
    throw new AnonymousAuthError(ErrorCodes.NOT_SIGNED_IN, 'Sign in as a guest before merging it into an account.')
  if (!session.isAnonymous(guest))
    throw new AnonymousAuthError(ErrorCodes.NOT_ANONYMOUS, 'Only a guest can be merged into another account.')
  const problem = mergeTargetProblem(options, guest, into)
  if (problem) throw new AnonymousAuthError(ErrorCodes.INVALID_MERGE_TARGET, problem)
  mergeGuestInto(backend, guest, into, options.anonymousField, ctx.hooks.onMerge(), ctx.now())
  const user = backend.findRecordById(into.collection(), into.id)
  if (!user)
    throw new AnonymousAuthError(ErrorCodes.INVALID_MERGE_TARGET, 'The account to merge into no longer exists.')
  return session.start(user, user.newAuthToken())
}

/** Why `into` cannot receive `guest`'s data, or null when it can. */
function mergeTargetProblem(
  options: Pick<ResolvedOptions, 'collections'>,
  guest: AuthRecord,
  into: AuthRecord,
): string | null {
  if (!into || typeof into.collection !== 'function' || !into.id) {
    return 'mergeAnonymousUser(record) needs the record of the account to merge into.'
  }
  const collection = into.collection()
  if (collection.type !== 'auth') return 'A guest can only be merged into an auth record.'
  if (!options.collections.includes(collection.name)) {
    return `Cannot merge into collection '${collection.name}': it is not in the plugin option 'collections', so its session cookie would not be accepted.`
  }
  if (guest.id === into.id && guest.collection().id === collection.id) return 'A guest cannot be merged into itself.'
  return null
}

/**
 * The merge transaction. The caller has checked the target (mergeTargetProblem, or signIn's token
 * verification, which only yields records of configured auth collections).
 */
export function mergeGuestInto(
  backend: Backend,
  guest: AuthRecord,
  user: AuthRecord,
  anonymousField: string,
  onMerge: MergeHook | null,
  nowMs: number,
): void {
  const guestCollection = guest.collection()
  const userCollection = user.collection()
  if (backend.merges.ready()) {
    mergeInBatches(backend, guest, user, anonymousField, onMerge)
    return
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
      recordEvent(tx, 'merged', nowMs)
    })
  } catch (error) {
    throw mergeFailed(error, onMerge)
  }
}

function mergeFailed(error: unknown, onMerge: MergeHook | null): AnonymousAuthError {
  if (isAnonymousAuthError(error)) return error
  const source = onMerge ? 'The onMerge hook failed' : "Moving the guest's records failed"
  return new AnonymousAuthError(ErrorCodes.MERGE_FAILED, `${source}: ${goErrorMessage(error)}. Nothing was changed.`)
}

function mergeInBatches(
  backend: Backend,
  guest: AuthRecord,
  user: AuthRecord,
  anonymousField: string,
  onMerge: MergeHook | null,
): void {
  let merge: PendingMerge
  try {
    merge = beginMerge(backend, guest, user, anonymousField, onMerge)
  } catch (error) {
    throw mergeFailed(error, onMerge)
  }
  try {
    const outcome = driveMerge(backend, merge)
    if (!outcome.merged) throw mergeFailed(outcome.cause, onMerge)
  } catch (error) {
    if (isAnonymousAuthError(error)) throw error
    // Past the point of no return (the hook ran, or the guest is deleted) the merge happened: what
    // is left (detaching, purging the undo log) is finished by the next cleanup run.
    const merged = merge.state === 'detaching' || merge.state === 'done'
    backend.log.warn(
      'pocketpages-plugin-anonymous: a merge stopped midway; the cleanup finishes it',
      'guestId',
      merge.guest,
      'state',
      merge.state,
      'error',
      String(error),
    )
    if (merged) return
    const why = error instanceof MergeSuperseded ? 'it took too long' : goErrorMessage(error)
    throw new AnonymousAuthError(
      ErrorCodes.MERGE_FAILED,
      `The merge could not finish (${why}); the next cleanup run finishes it or puts back what it moved.`,
    )
  }
}
