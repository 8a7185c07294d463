/**
 * Deleting a guest that many records point at, without holding the write lock for long.
 *
 * PocketBase deletes a record and everything its cascade reaches in one transaction, and runs
 * write transactions one at a time site-wide: a guest with 20,000 records stalled every other
 * write for as long. Here what points at the guest goes first, in batches, each its own short
 * transaction, treated the way PocketBase's delete treats it: the guest's id is taken out of the
 * field; a record left with no id in a `cascadeDelete` field is deleted (through PocketBase, so its
 * own cascades and hooks apply); one left with none in a `required` field refuses the deletion; any
 * other is saved without validation. The guest itself then goes in a short transaction of its own.
 *
 * A refusal is found before anything changes (`findBlockingReference`); a crash between batches
 * leaves the guest with fewer records, and the next run carries on.
 */
import type { AuthRecord, Backend, CollectionInfo, RelationRef } from './ports'

/** Records per transaction: a few tens of milliseconds of writes under load (see bench/merge-stall.mts). */
export const DELETE_BATCH_SIZE = 200
/**
 * A batch's time budget: past it, a batch stops early and the next transaction goes on, so a
 * loaded machine or slow app hooks on the records stretch the merge, not the other writes' wait.
 */
export const BATCH_BUDGET_MS = 50

/** True once a batch that began at `started` has spent its budget (it always does one record). */
export function budgetSpent(tx: Backend, started: number, done: number): boolean {
  return done > 0 && tx.now() - started >= BATCH_BUDGET_MS
}

/** PocketBase's refusal, for a record a required relation to the guest would leave empty. */
export function findBlockingReference(backend: Backend, collection: CollectionInfo, id: string): string | null {
  for (const ref of backend.relationsTo(collection)) {
    if (!ref.required || ref.cascadeDelete) continue
    const record = backend.findSoleReference(ref, id)
    if (record) {
      return `the record cannot be deleted because it is part of a required reference in record ${record.id} (${ref.collection.name} collection)`
    }
  }
  return null
}

/**
 * Takes `id` out of everything that points at it, batch by batch. `guard` runs first in each
 * batch's transaction (it throws to stop: the merge journal's ownership check).
 */
export function detachReferences(
  backend: Backend,
  collection: CollectionInfo,
  id: string,
  guard: (tx: Backend) => void = () => {},
  batchSize = DELETE_BATCH_SIZE,
): void {
  for (const ref of backend.relationsTo(collection)) {
    for (;;) {
      const done = backend.transaction((tx) => {
        guard(tx)
        const started = tx.now()
        const records = tx.findReferencing(ref, id, batchSize)
        for (let i = 0; i < records.length; i++) {
          if (budgetSpent(tx, started, i)) return false
          detachOne(tx, ref, records[i]!, id)
        }
        return records.length < batchSize
      })
      if (done) break
    }
  }
}

function detachOne(tx: Backend, ref: RelationRef, record: AuthRecord, id: string): void {
  const ids = tx.relationIds(record, ref.field).filter((other) => other !== id)
  if (ids.length === 0 && ref.cascadeDelete) {
    tx.delete(record)
    return
  }
  if (ids.length === 0 && ref.required) {
    throw new Error(
      `the record cannot be deleted because it is part of a required reference in record ${record.id} (${ref.collection.name} collection)`,
    )
  }
  record.set(ref.field, ref.multiple ? ids : (ids[0] ?? ''))
  tx.saveNoValidate(record)
}

/** How many records point at `id`, counting up to `limit` (a cheap bound, not a total). */
function countReferences(tx: Backend, collection: CollectionInfo, id: string, limit: number): number {
  let found = 0
  for (const ref of tx.relationsTo(collection)) {
    found += tx.findReferencing(ref, id, limit - found).length
    if (found >= limit) break
  }
  return found
}

/**
 * Deletes a guest in short transactions: `start` (in the first, with the fresh record) re-checks
 * that it may still go. With fewer than `batchSize` records pointing at it, the guest goes right
 * there (PocketBase's delete). Otherwise its session ends there, so nobody sees it half deleted;
 * then what points at it goes in batches; then the guest. Returns false when `start` said no
 * (nothing changed).
 */
export function deleteGuestInBatches(
  backend: Backend,
  guest: AuthRecord,
  start: (tx: Backend, fresh: AuthRecord) => boolean,
  batchSize = DELETE_BATCH_SIZE,
): boolean {
  const collection = guest.collection()
  const blocked = findBlockingReference(backend, collection, guest.id)
  if (blocked) throw new Error(blocked)
  const began = backend.transaction((tx): 'no' | 'deleted' | 'batches' => {
    const fresh = tx.findRecordById(collection, guest.id)
    if (!fresh || !start(tx, fresh)) return 'no'
    // Most guests have a few records: PocketBase's own delete, cascade and all, in this one short
    // transaction, as before.
    if (countReferences(tx, collection, guest.id, batchSize) < batchSize) {
      tx.delete(fresh)
      return 'deleted'
    }
    fresh.refreshTokenKey()
    tx.writeQuietly(fresh, 'tokenKey', fresh.tokenKey())
    return 'batches'
  })
  if (began === 'no') return false
  if (began === 'deleted') return true
  detachReferences(backend, collection, guest.id, () => {}, batchSize)
  backend.transaction((tx) => {
    const fresh = tx.findRecordById(collection, guest.id)
    if (fresh) tx.delete(fresh)
  })
  return true
}
