/**
 * A merge that never holds the write lock for long (issue 15).
 *
 * PocketBase runs write transactions one at a time site-wide, so one transaction that moves all of
 * a guest's records stalls every other write for as long as it takes (20,000 records: about a
 * second). Instead:
 *
 * 1. One short transaction re-checks the guest and the account (operations/merge.ts's rules), runs the app's
 *    `onMerge` hook if there is one (the hook and nothing else of the merge), ends the guest's
 *    session (its token key changes, so no request sees it half merged) and writes the merge into a
 *    server-only journal, with the guest's old token key.
 * 2. Default convention: the guest's records are repointed batch by batch, each batch its own
 *    short transaction, and each move logged so it can be put back. With a hook: whatever still
 *    points at the guest is taken out batch by batch, as PocketBase's delete would (guest-deletion.ts).
 * 3. A short transaction deletes the guest (a last sweep first), then the undo log is purged.
 *
 * All or nothing for the user: when a move fails (a unique index, a validation rule, the account
 * gone), the moves made so far are put back batch by batch, the guest gets its token key back,
 * and the merge fails with nothing changed. A crash midway leaves the journal row: the cleanup
 * takes over a merge whose runner has been silent for `MERGE_LEASE_MS` and carries it on from
 * where it stands (forward, or back when it was being undone). Each batch first checks that its
 * runner still owns the merge, so two runners never work on one.
 */
import { AnonymousAuthError, ErrorCodes, sessionEnded } from './errors'
import { budgetSpent, detachReferences, findBlockingReference } from './guest-deletion'
import { isGuestRecord } from './guest-identity'
import type { MergeHook } from './options-types'
import type { AuthRecord, Backend, CollectionInfo, MergeState, PendingMerge, RelationRef } from './ports'
import { recordEvent } from './stats'

/** Records per transaction: a few tens of milliseconds of writes under load (see bench/merge-stall.mts). */
export const MOVE_BATCH_SIZE = 200
/** Undo-log rows deleted per transaction once the guest is gone (plain indexed deletes). */
export const PURGE_BATCH_SIZE = 500
/** A merge whose runner committed nothing for this long is taken over by the cleanup. */
export const MERGE_LEASE_MS = 60_000
/** Last sweeps that found new references before giving up (only server code can add them). */
export const MAX_SWEEPS = 20

/** Another runner took the merge over: this one stops where it is. */
export class MergeSuperseded extends Error {
  constructor() {
    super('another process took this merge over')
  }
}

/** How a merge ended: merged, or undone (with what made it fail, when known). */
export type MergeOutcome = { merged: true } | { merged: false; cause: unknown }

/**
 * Step 1 (one short transaction). The caller checked the records' shapes; the rules that depend on
 * state are checked here, on fresh records. Throws the refusal, or what the hook threw (nothing changed).
 */
export function beginMerge(
  backend: Backend,
  guest: AuthRecord,
  user: AuthRecord,
  anonymousField: string,
  onMerge: MergeHook | null,
): PendingMerge {
  return backend.transaction((tx) => {
    const freshGuest = tx.findRecordById(guest.collection(), guest.id)
    // Still the same guest session: a concurrent sign-out, upgrade or merge (a merge ends the
    // session in its first transaction, so a second one of this guest stops here) wins.
    if (!freshGuest || freshGuest.tokenKey() !== guest.tokenKey()) throw sessionEnded()
    if (!isGuestRecord(tx, freshGuest, anonymousField)) {
      throw new AnonymousAuthError(ErrorCodes.NOT_ANONYMOUS, 'Only a guest can be merged into another account.')
    }
    const freshUser = tx.findRecordById(user.collection(), user.id)
    if (!freshUser || isGuestRecord(tx, freshUser, anonymousField)) {
      throw new AnonymousAuthError(ErrorCodes.INVALID_MERGE_TARGET, 'A guest can only be merged into a full account.')
    }
    // A merge of this guest is already under way, and this request holds a token issued after it
    // began (a superuser impersonating the guest): the first merge is left to finish.
    if (tx.merges.find(guest.collection().id, guest.id)) throw sessionEnded()
    if (onMerge) {
      onMerge({
        guest: freshGuest as unknown as core.Record,
        user: freshUser as unknown as core.Record,
        app: tx.hookApp as core.App,
      })
      // PocketBase would refuse to delete the guest: refuse now, while the hook's writes can roll back.
      const blocked = findBlockingReference(tx, guest.collection(), guest.id)
      if (blocked) throw new Error(blocked)
    }
    const now = tx.now()
    const merge: PendingMerge = {
      guestCollection: guest.collection().id,
      guest: guest.id,
      targetCollection: user.collection().id,
      target: user.id,
      tokenKey: freshGuest.tokenKey(),
      state: onMerge ? 'detaching' : 'moving',
      attempt: 1,
      heartbeat: now,
      started: now,
    }
    tx.merges.insert(merge)
    // With a hook, this transaction is the point of no return (what follows only finishes it).
    if (onMerge) recordEvent(tx, 'merged', now)
    freshGuest.refreshTokenKey()
    tx.writeQuietly(freshGuest, 'tokenKey', freshGuest.tokenKey())
    return merge
  })
}

/**
 * Steps 2 and 3, from wherever `merge` stands. Returns the outcome of a merge that moved or was
 * undone; throws when a step past the point of no return (or an undo) failed, or `MergeSuperseded`:
 * the journal row stays, and the cleanup carries on.
 */
export function driveMerge(backend: Backend, merge: PendingMerge): MergeOutcome {
  let cause: unknown = null
  if (merge.state === 'moving') {
    try {
      moveAndDelete(backend, merge)
    } catch (error) {
      if (error instanceof MergeSuperseded) throw error
      cause = error
      backend.transaction((tx) => {
        claim(tx, merge)
        setState(tx, merge, 'undoing')
      })
    }
  }
  if (merge.state === 'detaching') {
    const collection = requireCollection(backend, merge.guestCollection)
    detachReferences(backend, collection, merge.guest, (tx) => claim(tx, merge))
    backend.transaction((tx) => {
      claim(tx, merge)
      const guest = tx.findRecordById(collection, merge.guest)
      if (guest) tx.delete(guest)
      setState(tx, merge, 'done')
    })
  }
  if (merge.state === 'undoing') {
    undoMoves(backend, merge)
    return { merged: false, cause }
  }
  purgeMoves(backend, merge)
  return { merged: true }
}

/**
 * Takes over a merge whose runner has been silent for `MERGE_LEASE_MS` (it crashed, or its request
 * died). Returns it, now owned by the caller, or null when it is still alive or gone.
 */
export function takeOverMerge(backend: Backend, stalled: PendingMerge): PendingMerge | null {
  return backend.transaction((tx) => {
    const fresh = tx.merges.find(stalled.guestCollection, stalled.guest)
    const now = tx.now()
    if (!fresh || fresh.attempt !== stalled.attempt || fresh.heartbeat > now - MERGE_LEASE_MS) return null
    fresh.attempt++
    fresh.heartbeat = now
    tx.merges.update(fresh)
    return fresh
  })
}

/** In every batch's transaction first: this runner still owns the merge; its heartbeat moves on. */
function claim(tx: Backend, merge: PendingMerge): void {
  const row = tx.merges.find(merge.guestCollection, merge.guest)
  if (!row || row.attempt !== merge.attempt) throw new MergeSuperseded()
  merge.heartbeat = tx.now()
  tx.merges.update(merge)
}

function setState(tx: Backend, merge: PendingMerge, state: MergeState): void {
  merge.state = state
  tx.merges.update(merge)
}

function requireCollection(backend: Backend, id: string): CollectionInfo {
  const collection = backend.findCollection(id)
  if (!collection) throw new Error(`collection ${id} no longer exists`)
  return collection
}

/** The default convention: batches of moves, then a last sweep and the guest's deletion in one transaction. */
function moveAndDelete(backend: Backend, merge: PendingMerge): void {
  const guests = requireCollection(backend, merge.guestCollection)
  const accounts = requireCollection(backend, merge.targetCollection)
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    const refs = backend.relationsTo(guests)
    for (const ref of refs) {
      while (backend.transaction((tx) => moveBatch(tx, merge, accounts, ref))) {}
    }
    const deleted = backend.transaction((tx) => {
      // Server code may have added references since: move them too, or go round again.
      for (const ref of tx.relationsTo(guests)) if (moveBatch(tx, merge, accounts, ref)) return false
      const guest = tx.findRecordById(guests, merge.guest)
      if (guest) tx.delete(guest)
      setState(tx, merge, 'done')
      // The point of no return: counted in its transaction (stats.ts), so an undone merge never is.
      recordEvent(tx, 'merged', tx.now())
      return true
    })
    if (deleted) return
  }
  throw new Error('records kept being added to the guest during the merge')
}

/** One batch of moves in `tx`; returns whether more may be left (a full batch, or its budget spent). */
function moveBatch(tx: Backend, merge: PendingMerge, accounts: CollectionInfo, ref: RelationRef): boolean {
  claim(tx, merge)
  if (!tx.findRecordById(accounts, merge.target)) {
    throw new AnonymousAuthError(ErrorCodes.INVALID_MERGE_TARGET, 'The account to merge into no longer exists.')
  }
  const started = tx.now()
  const records = tx.findReferencing(ref, merge.guest, MOVE_BATCH_SIZE)
  for (let i = 0; i < records.length; i++) {
    if (budgetSpent(tx, started, i)) return true
    const record = records[i]!
    const previous = tx.relationIds(record, ref.field)
    tx.merges.addMove(merge, {
      collection: ref.collection.id,
      record: record.id,
      field: ref.field,
      multiple: ref.multiple,
      previous,
    })
    if (ref.multiple) {
      const ids = previous.map((id) => (id === merge.guest ? merge.target : id))
      record.set(
        ref.field,
        ids.filter((id, i) => ids.indexOf(id) === i),
      )
    } else {
      record.set(ref.field, merge.target)
    }
    tx.save(record)
  }
  return records.length === MOVE_BATCH_SIZE
}

/** Puts every logged move back (without validation, as it was), then gives the guest its token key back. */
function undoMoves(backend: Backend, merge: PendingMerge): void {
  for (;;) {
    const done = backend.transaction((tx) => {
      claim(tx, merge)
      const started = tx.now()
      const moves = tx.merges.moves(merge, MOVE_BATCH_SIZE)
      for (let i = 0; i < moves.length; i++) {
        if (budgetSpent(tx, started, i)) return false
        const move = moves[i]!
        const collection = tx.findCollection(move.collection)
        const record = collection && tx.findRecordById(collection, move.record)
        if (record) {
          // A single relation's move logged the one id it held (the guest's: that is why it moved).
          record.set(move.field, move.multiple ? move.previous : move.previous[0]!)
          tx.saveNoValidate(record)
        }
        tx.merges.removeMove(merge, move)
      }
      if (moves.length === MOVE_BATCH_SIZE) return false
      const guests = tx.findCollection(merge.guestCollection)
      const guest = guests && tx.findRecordById(guests, merge.guest)
      if (guest) tx.writeQuietly(guest, 'tokenKey', merge.tokenKey)
      tx.merges.remove(merge)
      return true
    })
    if (done) return
  }
}

/** The guest is gone: the undo log goes, then the journal row. */
function purgeMoves(backend: Backend, merge: PendingMerge): void {
  for (;;) {
    const done = backend.transaction((tx) => {
      claim(tx, merge)
      if (tx.merges.purgeMoves(merge, PURGE_BATCH_SIZE) === PURGE_BATCH_SIZE) return false
      tx.merges.remove(merge)
      return true
    })
    if (done) return
  }
}
