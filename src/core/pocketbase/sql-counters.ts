/**
 * The counters of counters.ts in SQLite: one row per (bucket, slot), in the table the second migration
 * creates. Every statement is a single indexed lookup or upsert, so its cost does not depend on
 * how many events a window holds.
 *
 * Writes go through `nonconcurrentDB()`: PocketBase's one write connection (the transaction itself
 * inside one). On PocketBase 0.25 `db()` is the concurrent read pool, and a write committed there
 * makes any concurrent transaction that read before writing fail with "database is locked (517)".
 */
import { COUNTERS_TABLE } from '../constants'
import type { CounterSlot, CounterStore } from '../ports'

export class SqlCounters implements CounterStore {
  constructor(private readonly app: core.App) {}

  read(buckets: string[], fromSlot: number): CounterSlot[] {
    if (buckets.length === 0) return []
    const rows = arrayOf(new DynamicModel({ slot: 0, count: 0 })) as unknown as CounterSlot[]
    this.app
      .db()
      .newQuery(`SELECT slot, count FROM ${COUNTERS_TABLE} WHERE ${inBuckets(buckets)}`)
      .bind(params(buckets, fromSlot))
      .all(rows)
    return rows.map((row) => ({ slot: Number(row.slot), count: Number(row.count) }))
  }

  total(buckets: string[], fromSlot: number): number {
    if (buckets.length === 0) return 0
    const row = new DynamicModel({ total: 0 }) as unknown as { total: number }
    this.app
      .db()
      .newQuery(`SELECT COALESCE(SUM(count), 0) AS total FROM ${COUNTERS_TABLE} WHERE ${inBuckets(buckets)}`)
      .bind(params(buckets, fromSlot))
      .one(row)
    return Number(row.total)
  }

  add(bucket: string, slot: number, expiresAtMs: number, delta: number): void {
    this.app
      .nonconcurrentDB()
      .newQuery(
        `INSERT INTO ${COUNTERS_TABLE} (bucket, slot, count, expires) VALUES ({:bucket}, {:slot}, {:delta}, {:expires})
         ON CONFLICT (bucket, slot) DO UPDATE SET count = count + {:delta}`,
      )
      .bind({ bucket, slot, delta, expires: expiresAtMs })
      .execute()
  }

  addBelow(
    limit: number,
    within: { keys: string[]; fromSlot: number },
    bucket: string,
    slot: number,
    expiresAtMs: number,
  ): boolean {
    // SQLite's upsert from a SELECT needs the WHERE clause (it also keeps the parse unambiguous).
    const result = this.app
      .nonconcurrentDB()
      .newQuery(
        `INSERT INTO ${COUNTERS_TABLE} (bucket, slot, count, expires)
         SELECT {:bucket}, {:slot}, 1, {:expires}
         WHERE (SELECT COALESCE(SUM(count), 0) FROM ${COUNTERS_TABLE} WHERE ${inBuckets(within.keys)}) < {:limit}
         ON CONFLICT (bucket, slot) DO UPDATE SET count = count + 1`,
      )
      .bind({ ...params(within.keys, within.fromSlot), bucket, slot, expires: expiresAtMs, limit })
      .execute()
    return Number(result.rowsAffected()) > 0
  }

  prune(nowMs: number): number {
    const result = this.app
      .nonconcurrentDB()
      .newQuery(`DELETE FROM ${COUNTERS_TABLE} WHERE expires < {:now}`)
      .bind({ now: nowMs })
      .execute()
    return Number(result.rowsAffected())
  }
}

/** `bucket IN ({:b0}, ...) AND slot >= {:fromSlot}`, with `params()` for its values. */
function inBuckets(buckets: string[]): string {
  return `bucket IN (${buckets.map((_, i) => `{:b${i}}`).join(', ')}) AND slot >= {:fromSlot}`
}

function params(buckets: string[], fromSlot: number): Record<string, unknown> {
  const values: Record<string, unknown> = { fromSlot }
  buckets.forEach((bucket, i) => {
    values[`b${i}`] = bucket
  })
  return values
}

export function countersTableExists(app: core.App): boolean {
  try {
    app.db().newQuery(`SELECT 1 FROM ${COUNTERS_TABLE} LIMIT 1`).execute()
    return true
  } catch {
    return false
  }
}
