/*
 * The SQL that decides which records the cleanup deletes and which a merge repoints, in dbx's
 * syntax (`[[column]]`, `{:param}`). backend.ts runs these strings through PocketBase; the unit
 * suite runs the very same strings against SQLite (test/unit/deciding-sql.test.ts), beside the
 * in-memory fake's copies of the same rules, on one table of cases. Field names come from
 * validated options or PocketBase's schema (letters, digits, _), so they can be written in.
 */

/**
 * Guests inactive since before `{:cutoff}` (a PocketBase date string): `lastSeen` set and older;
 * guests from before `lastSeen` existed fall back to `created`, where the collection has it (auth
 * collections made through the API since 0.23 may not). Ordered by `lastSeen` by the caller.
 */
export function staleGuestsWhere(fields: { anonymous: string; lastSeen: string }, hasCreated: boolean): string {
  const lastSeen = `[[${fields.lastSeen}]]`
  const byLastSeen = `(${lastSeen} != '' AND ${lastSeen} < {:cutoff})`
  const stale = hasCreated ? `(${byLastSeen} OR (${lastSeen} = '' AND [[created]] < {:cutoff}))` : byLastSeen
  return `[[${fields.anonymous}]] = TRUE AND ${stale}`
}

/**
 * Records whose relation field holds `{:id}`. A multiple relation is stored as a JSON array of
 * ids: its elements are compared whole (an id that merely contains `{:id}` does not match).
 */
export function referencingWhere(field: { name: string; maxSelect: number }): string {
  const column = `[[${field.name}]]`
  if (field.maxSelect <= 1) return `${column} = {:id}`
  return `EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(${column}) THEN ${column} ELSE '[]' END) WHERE json_each.value = {:id})`
}

/**
 * Records whose relation field holds `{:id}` and nothing else: the ones PocketBase's delete would
 * leave empty (guest-deletion.ts: a required one refuses the deletion).
 */
export function soleReferenceWhere(field: { name: string; maxSelect: number }): string {
  const column = `[[${field.name}]]`
  if (field.maxSelect <= 1) return `${column} = {:id}`
  return `json_valid(${column}) AND json_array_length(${column}) = 1 AND json_extract(${column}, '$[0]') = {:id}`
}

/** A multiple relation's ids after `fromId` is repointed to `toId`: in place, without duplicates. */
export function repointedIds(ids: string[], fromId: string, toId: string): string[] {
  const repointed = ids.map((id) => (id === fromId ? toId : id))
  return repointed.filter((id, i) => repointed.indexOf(id) === i)
}
