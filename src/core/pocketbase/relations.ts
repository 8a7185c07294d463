/**
 * Relations that point at a record, found through PocketBase's collections: whether anything still
 * references a record (OAuth2 adoption takes only an unreferenced account), and the default merge
 * convention's repointing in one go (used when the merge journal is missing). The SQL that decides
 * which rows match lives in queries.ts, tested against real SQLite.
 */
import { referencingWhere, repointedIds } from './queries'

/** A relation field as PocketBase's collection model exposes it. */
export interface RelationField {
  name: string
  type(): string
  collectionId: string
  maxSelect: number
  required: boolean
  cascadeDelete: boolean
}

/** Whether any relation field (base and auth collections) holds `id` of `collectionId`. */
export function isReferenced(app: core.App, collectionId: string, id: string): boolean {
  for (const collection of app.findAllCollections('base', 'auth')) {
    if (!collection) continue
    for (const field of collection.fields as unknown as RelationField[]) {
      if (field?.type() !== 'relation' || field.collectionId !== collectionId) continue
      if (findReferencing(app, collection.name, field, id).some((r) => !!r)) return true
    }
  }
  return false
}

/** Repoints every relation to `fromId` (in `collectionId`) at `toId`. Returns how many records changed. */
export function reassignRelations(app: core.App, collectionId: string, fromId: string, toId: string): number {
  let changed = 0
  for (const collection of app.findAllCollections('base', 'auth')) {
    if (!collection) continue
    for (const field of collection.fields as unknown as RelationField[]) {
      if (field?.type() !== 'relation' || field.collectionId !== collectionId) continue
      for (const record of findReferencing(app, collection.name, field, fromId)) {
        if (!record) continue
        if (field.maxSelect > 1) {
          record.set(field.name, repointedIds(record.getStringSlice(field.name), fromId, toId))
        } else {
          record.set(field.name, toId)
        }
        app.save(record)
        changed++
      }
    }
  }
  return changed
}

function findReferencing(
  app: core.App,
  collectionName: string,
  field: RelationField,
  id: string,
): (core.Record | undefined)[] {
  return app.findAllRecords(collectionName, $dbx.exp(referencingWhere(field), { id }))
}
