// Names the code shares with files it does not import (constants.ts): the tables the plugin's
// migrations create, and the routes the README and the operators' guide tell people to call. A
// rename on one side only would pass every other unit test and break a deployed site.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import {
  CLEANUP_ROUTE_PATH,
  COUNTERS_TABLE,
  MERGE_MOVES_TABLE,
  MERGES_TABLE,
  STATS_ROUTE_PATH,
} from '../../src/core/constants.ts'

const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')

/** The tables a migration creates: `CREATE TABLE IF NOT EXISTS ${NAME}` with `const NAME = '...'`. */
function tablesCreatedBy(source: string): string[] {
  const constants = new Map([...source.matchAll(/const (\w+) = '([\w]+)'/g)].map((m) => [m[1]!, m[2]!]))
  return [...source.matchAll(/CREATE TABLE IF NOT EXISTS \$\{(\w+)\}/g)].map((m) => constants.get(m[1]!) ?? '?')
}

describe('shared names', () => {
  it("the plugin's migrations create the tables the code reads and writes", () => {
    const migrations = readdirSync(new URL('pb_migrations/', root)).filter((f) => f.includes('pocketpages_anonymous'))
    const created = new Set(migrations.flatMap((file) => tablesCreatedBy(read(`pb_migrations/${file}`))))
    for (const table of [COUNTERS_TABLE, MERGES_TABLE, MERGE_MOVES_TABLE]) {
      assert.ok(created.has(table), `no migration creates ${table} (created: ${[...created].join(', ')})`)
    }
  })
  it('the README and the operators guide call the routes the plugin serves, and no other', () => {
    for (const doc of ['README.md', 'docs/operators.md']) {
      const called = new Set([...read(doc).matchAll(/http:\/\/127\.0\.0\.1:8090(\/api\/[\w/-]+)/g)].map((m) => m[1]))
      assert.deepEqual([...called].sort(), [CLEANUP_ROUTE_PATH, STATS_ROUTE_PATH].sort(), `the routes ${doc} calls`)
    }
  })
})
