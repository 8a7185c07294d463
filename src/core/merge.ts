/**
 * Merging a guest into an existing account.
 *
 * Policy: when a guest signs in to an account that already exists, its data must not be lost.
 * In one transaction: the app's `onMerge` hook runs with both records (or, without a hook, every
 * relation field anywhere that points at the guest is repointed to the user — the documented
 * default convention), then the guest record is deleted (PocketBase's cascade rules apply to
 * whatever still points at it). If anything fails, the transaction rolls back and nothing changes.
 */
import { AnonymousAuthError, ErrorCodes, isAnonymousAuthError } from './errors'
import { goErrorMessage } from './go-errors'
import type { MergeContext } from './options'
import { inTransaction } from './transaction'

interface RelationFieldLike {
  name: string
  type(): string
  collectionId: string
  maxSelect: number
}

export function mergeGuestInto(
  app: core.App,
  guest: core.Record,
  user: core.Record,
  onMerge: ((context: MergeContext) => void) | null,
): { reassigned: number } {
  if (guest.id === user.id && guest.collection().id === user.collection().id) {
    throw new AnonymousAuthError(ErrorCodes.INVALID_MERGE_TARGET, 'A guest cannot be merged into itself.')
  }
  if (user.collection().type !== 'auth') {
    throw new AnonymousAuthError(
      ErrorCodes.INVALID_MERGE_TARGET,
      'mergeAnonymousUser() needs a record of an auth collection to merge into.',
    )
  }
  try {
    return inTransaction(app, (tx) => {
      const freshGuest = tx.findRecordById(guest.collection().id, guest.id)
      const freshUser = tx.findRecordById(user.collection().id, user.id)
      let reassigned = 0
      if (onMerge) onMerge({ guest: freshGuest, user: freshUser, app: tx })
      else reassigned = reassignRelations(tx, freshGuest, freshUser)
      tx.delete(freshGuest)
      return { reassigned }
    })
  } catch (error) {
    if (isAnonymousAuthError(error)) throw error
    const source = onMerge ? 'The onMerge hook failed' : "Moving the guest's records failed"
    throw new AnonymousAuthError(ErrorCodes.MERGE_FAILED, `${source}: ${goErrorMessage(error)}. Nothing was changed.`)
  }
}

/** Repoints every relation to the guest at the user. Returns how many records changed. */
function reassignRelations(tx: core.App, guest: core.Record, user: core.Record): number {
  const guestCollectionId = guest.collection().id
  let changed = 0
  for (const collection of tx.findAllCollections('base', 'auth')) {
    if (!collection) continue
    for (const field of collection.fields as unknown as RelationFieldLike[]) {
      if (field?.type() !== 'relation' || field.collectionId !== guestCollectionId) continue
      for (const record of findReferencing(tx, collection.name, field, guest.id)) {
        if (!record) continue
        if (field.maxSelect > 1) {
          const ids = record.getStringSlice(field.name).map((id) => (id === guest.id ? user.id : id))
          record.set(
            field.name,
            ids.filter((id, i) => ids.indexOf(id) === i),
          )
        } else {
          record.set(field.name, user.id)
        }
        tx.save(record)
        changed++
      }
    }
  }
  return changed
}

function findReferencing(
  tx: core.App,
  collectionName: string,
  field: RelationFieldLike,
  id: string,
): (core.Record | undefined)[] {
  if (field.maxSelect > 1) {
    // Multiple relations are stored as a JSON array of ids.
    return tx.findAllRecords(
      collectionName,
      $dbx.exp(
        `EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid([[${field.name}]]) THEN [[${field.name}]] ELSE '[]' END) WHERE json_each.value = {:id})`,
        { id },
      ),
    )
  }
  return tx.findAllRecords(collectionName, $dbx.hashExp({ [field.name]: id }))
}
