/**
 * The merge journal of merge-batches.ts in SQLite: the two tables of the plugin's third migration.
 * Inside a transaction `app` is the transaction's app, so every statement runs in it. Writes go
 * through `nonconcurrentDB()` (see sql-counters.ts for why).
 */
import { MERGE_MOVES_TABLE, MERGES_TABLE } from '../constants'
import type { MergeJournal, MergeMove, MergeState, PendingMerge } from '../ports'

interface MergeRow {
  guestCollection: string
  guest: string
  targetCollection: string
  target: string
  tokenKey: string
  state: string
  attempt: number
  heartbeat: number
  started: number
}

const MERGE_COLUMNS = 'guestCollection, guest, targetCollection, target, tokenKey, state, attempt, heartbeat, started'

function emptyMergeRow(): MergeRow {
  return {
    guestCollection: '',
    guest: '',
    targetCollection: '',
    target: '',
    tokenKey: '',
    state: '',
    attempt: 0,
    heartbeat: 0,
    started: 0,
  }
}

function toMerge(row: MergeRow): PendingMerge {
  return {
    guestCollection: String(row.guestCollection),
    guest: String(row.guest),
    targetCollection: String(row.targetCollection),
    target: String(row.target),
    tokenKey: String(row.tokenKey),
    state: String(row.state) as MergeState,
    attempt: Number(row.attempt),
    heartbeat: Number(row.heartbeat),
    started: Number(row.started),
  }
}

function mergeId(guestCollection: string, guest: string): string {
  return `${guestCollection}/${guest}`
}

export class SqlMergeJournal implements MergeJournal {
  constructor(private readonly app: core.App) {}

  ready(): boolean {
    try {
      this.app.db().newQuery(`SELECT 1 FROM ${MERGE_MOVES_TABLE} LIMIT 1`).execute()
      this.app.db().newQuery(`SELECT 1 FROM ${MERGES_TABLE} LIMIT 1`).execute()
      return true
    } catch {
      return false
    }
  }

  find(guestCollection: string, guest: string): PendingMerge | null {
    const rows = arrayOf(new DynamicModel(emptyMergeRow())) as unknown as MergeRow[]
    this.app
      .db()
      .newQuery(`SELECT ${MERGE_COLUMNS} FROM ${MERGES_TABLE} WHERE id = {:id}`)
      .bind({ id: mergeId(guestCollection, guest) })
      .all(rows)
    return rows[0] ? toMerge(rows[0]) : null
  }

  list(limit: number): PendingMerge[] {
    const rows = arrayOf(new DynamicModel(emptyMergeRow())) as unknown as MergeRow[]
    this.app
      .db()
      .newQuery(`SELECT ${MERGE_COLUMNS} FROM ${MERGES_TABLE} ORDER BY heartbeat LIMIT {:limit}`)
      .bind({ limit })
      .all(rows)
    return rows.map(toMerge)
  }

  insert(merge: PendingMerge): void {
    this.app
      .nonconcurrentDB()
      .newQuery(
        `INSERT INTO ${MERGES_TABLE} (id, ${MERGE_COLUMNS}) VALUES ({:id}, {:guestCollection}, {:guest},
         {:targetCollection}, {:target}, {:tokenKey}, {:state}, {:attempt}, {:heartbeat}, {:started})`,
      )
      .bind({ id: mergeId(merge.guestCollection, merge.guest), ...merge })
      .execute()
  }

  update(merge: PendingMerge): void {
    this.app
      .nonconcurrentDB()
      .newQuery(
        `UPDATE ${MERGES_TABLE} SET state = {:state}, attempt = {:attempt}, heartbeat = {:heartbeat} WHERE id = {:id}`,
      )
      .bind({
        id: mergeId(merge.guestCollection, merge.guest),
        state: merge.state,
        attempt: merge.attempt,
        heartbeat: merge.heartbeat,
      })
      .execute()
  }

  remove(merge: PendingMerge): void {
    this.app
      .nonconcurrentDB()
      .newQuery(`DELETE FROM ${MERGES_TABLE} WHERE id = {:id}`)
      .bind({ id: mergeId(merge.guestCollection, merge.guest) })
      .execute()
  }

  addMove(merge: PendingMerge, move: MergeMove): void {
    this.app
      .nonconcurrentDB()
      .newQuery(
        `INSERT OR IGNORE INTO ${MERGE_MOVES_TABLE} (merge, collection, record, field, multiple, previous)
         VALUES ({:merge}, {:collection}, {:record}, {:field}, {:multiple}, {:previous})`,
      )
      .bind({
        merge: mergeId(merge.guestCollection, merge.guest),
        collection: move.collection,
        record: move.record,
        field: move.field,
        multiple: move.multiple ? 1 : 0,
        previous: JSON.stringify(move.previous),
      })
      .execute()
  }

  moves(merge: PendingMerge, limit: number): MergeMove[] {
    const rows = arrayOf(
      new DynamicModel({ collection: '', record: '', field: '', multiple: 0, previous: '' }),
    ) as unknown as { collection: string; record: string; field: string; multiple: number; previous: string }[]
    this.app
      .db()
      .newQuery(
        `SELECT collection, record, field, multiple, previous FROM ${MERGE_MOVES_TABLE} WHERE merge = {:merge} LIMIT {:limit}`,
      )
      .bind({ merge: mergeId(merge.guestCollection, merge.guest), limit })
      .all(rows)
    return rows.map((row) => ({
      collection: String(row.collection),
      record: String(row.record),
      field: String(row.field),
      multiple: Number(row.multiple) === 1,
      previous: parseIds(String(row.previous)),
    }))
  }

  purgeMoves(merge: PendingMerge, limit: number): number {
    const result = this.app
      .nonconcurrentDB()
      .newQuery(
        `DELETE FROM ${MERGE_MOVES_TABLE} WHERE rowid IN (SELECT rowid FROM ${MERGE_MOVES_TABLE} WHERE merge = {:merge} LIMIT {:limit})`,
      )
      .bind({ merge: mergeId(merge.guestCollection, merge.guest), limit })
      .execute()
    return Number(result.rowsAffected())
  }

  removeMove(merge: PendingMerge, move: MergeMove): void {
    this.app
      .nonconcurrentDB()
      .newQuery(
        `DELETE FROM ${MERGE_MOVES_TABLE} WHERE merge = {:merge} AND collection = {:collection} AND record = {:record} AND field = {:field}`,
      )
      .bind({
        merge: mergeId(merge.guestCollection, merge.guest),
        collection: move.collection,
        record: move.record,
        field: move.field,
      })
      .execute()
  }
}

function parseIds(json: string): string[] {
  try {
    const value = JSON.parse(json) as unknown
    return Array.isArray(value) ? value.map(String) : []
  } catch {
    return []
  }
}
