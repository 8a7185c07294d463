// Real SQLite in the unit suite (sql.js: SQLite compiled to WebAssembly, no native download), behind
// the small part of PocketBase's dbx API that src/core/pocketbase's SQL goes through:
// `app.db()` / `app.nonconcurrentDB()` -> `newQuery(sql).bind(params).execute() / .all(rows) / .one(row)`.
// dbx's own syntax is translated the way dbx does for SQLite: `{:name}` is a bound parameter,
// `[[column]]` and `{{table}}` are quoted names. Nothing else of PocketBase is modelled here.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import initSqlJs, { type Database, type SqlValue } from 'sql.js'
import { COUNTERS_TABLE } from '../../src/core/constants.ts'

const SQL = await initSqlJs()

export function openSqlite(): Database {
  return new SQL.Database()
}

/** dbx's placeholders and quoted names in SQLite's syntax. */
export function fromDbx(sql: string): string {
  return sql
    .replace(/\{:(\w+)\}/g, ':$1')
    .replace(/\[\[(\w+)\]\]/g, '"$1"')
    .replace(/\{\{(\w+)\}\}/g, '"$1"')
}

/** dbx's params object as sql.js binds named parameters. */
function bindings(params: Record<string, unknown>): Record<string, SqlValue> {
  const out: Record<string, SqlValue> = {}
  for (const [key, value] of Object.entries(params)) {
    out[`:${key}`] = typeof value === 'boolean' ? Number(value) : (value as SqlValue)
  }
  return out
}

/** The rows of one SELECT, as objects. */
export function select(
  db: Database,
  sqlInDbxSyntax: string,
  params: Record<string, unknown> = {},
): Record<string, SqlValue>[] {
  const statement = db.prepare(fromDbx(sqlInDbxSyntax))
  try {
    statement.bind(bindings(params))
    const rows: Record<string, SqlValue>[] = []
    while (statement.step()) rows.push(statement.getAsObject())
    return rows
  } finally {
    statement.free()
  }
}

/**
 * A stand-in for `core.App` with only the dbx query builder, on `db`. goja's `DynamicModel` and
 * `arrayOf` (which SqlCounters uses to receive rows) become plain objects and arrays.
 */
export function dbxApp(db: Database): core.App {
  const g = globalThis as Record<string, unknown>
  g.DynamicModel ??= class {
    constructor(shape: object) {
      Object.assign(this, shape)
    }
  }
  g.arrayOf ??= () => []
  const query = (sql: string) => {
    let params: Record<string, unknown> = {}
    const built = {
      bind(values: Record<string, unknown>) {
        params = values
        return built
      },
      execute() {
        db.run(fromDbx(sql), bindings(params))
        const changed = db.getRowsModified()
        return { rowsAffected: () => changed }
      },
      all(rows: unknown[]) {
        rows.push(...select(db, sql, params))
      },
      one(row: object) {
        const [first] = select(db, sql, params)
        assert.ok(first, `no row from ${sql}`)
        Object.assign(row, first)
      },
    }
    return built
  }
  const builder = { newQuery: query }
  return { db: () => builder, nonconcurrentDB: () => builder } as unknown as core.App
}

/**
 * The plugin's counters table as its migration creates it: the CREATE statements are read from
 * the migration file itself, so a change there is what the tests run.
 */
export function createCountersTable(db: Database): void {
  const migration = readFileSync(
    new URL('../../pb_migrations/1764892800_pocketpages_anonymous_server_state.js', import.meta.url),
    'utf8',
  )
  const statements = [...migration.matchAll(/`(CREATE (?:TABLE|INDEX) IF NOT EXISTS [^`]*\$\{COUNTERS\}[^`]*)`/g)].map(
    (m) => m[1]!.replace(/\$\{COUNTERS\}/g, COUNTERS_TABLE),
  )
  assert.equal(statements.length, 2, 'the migration creates the counters table and its index')
  for (const statement of statements) db.run(statement)
}
