// The SQL that decides, run against real SQLite at unit speed (sql.js), and the in-memory fake's
// copies of the same rules held to the same cases: each table of cases below runs against both.
// - the counters (src/core/pocketbase/sql-counters.ts, the real SqlCounters class): addBelow's
//   `SUM(...) < limit` is the sign-in limit's and the throttles' decision;
// - the cleanup's choice of stale guests (src/core/pocketbase/queries.ts, staleGuestsWhere);
// - the merge's choice and rewrite of relations (referencingWhere, repointedIds).
// The e2e tests prove the same strings through real PocketBase; these prove their logic in seconds.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  referencingWhere,
  repointedIds,
  soleReferenceWhere,
  staleGuestsWhere,
} from '../../src/core/pocketbase/queries.ts'
import { SqlCounters } from '../../src/core/pocketbase/sql-counters.ts'
import type { CounterStore } from '../../src/core/ports.ts'
import { authFields, FakeBackend } from '../support/fake-backend.ts'
import { FakeClock } from '../support/fake-world.ts'
import { createCountersTable, dbxApp, openSqlite, select } from '../support/sqlite-dbx.ts'

// --- the counters -------------------------------------------------------------------------------

type Step =
  | { add: [bucket: string, slot: number, expiresAtMs: number, delta: number] }
  | { addBelow: [limit: number, keys: string[], fromSlot: number, bucket: string, slot: number]; admitted: boolean }
  | { total: [keys: string[], fromSlot: number]; is: number }
  | { read: [keys: string[], fromSlot: number]; is: { slot: number; count: number }[] }
  | { prune: number; removed: number }

const EXPIRES = 1_000_000

const COUNTER_CASES: { name: string; steps: Step[] }[] = [
  {
    name: 'addBelow admits while the sum is below the limit, and not at it',
    steps: [
      { addBelow: [3, ['a'], 0, 'a', 5], admitted: true },
      { addBelow: [3, ['a'], 0, 'a', 5], admitted: true },
      { addBelow: [3, ['a'], 0, 'a', 6], admitted: true },
      { addBelow: [3, ['a'], 0, 'a', 6], admitted: false },
      { total: [['a'], 0], is: 3 },
    ],
  },
  {
    name: 'addBelow with limit 1: one admission',
    steps: [
      { addBelow: [1, ['a'], 0, 'a', 1], admitted: true },
      { addBelow: [1, ['a'], 0, 'a', 1], admitted: false },
    ],
  },
  {
    name: 'addBelow counts every bucket of the window (the current and earlier periods’ keys)',
    steps: [
      { add: ['old', 4, EXPIRES, 2] },
      { addBelow: [3, ['now', 'old'], 0, 'now', 5], admitted: true },
      { addBelow: [3, ['now', 'old'], 0, 'now', 5], admitted: false },
      { total: [['now'], 0], is: 1 },
    ],
  },
  {
    name: 'slots before fromSlot are out of the window; fromSlot itself is in',
    steps: [
      { add: ['a', 1, EXPIRES, 5] },
      { add: ['a', 2, EXPIRES, 1] },
      { addBelow: [2, ['a'], 2, 'a', 3], admitted: true },
      { addBelow: [2, ['a'], 2, 'a', 3], admitted: false },
      { total: [['a'], 2], is: 2 },
      { total: [['a'], 1], is: 7 },
    ],
  },
  {
    name: 'other buckets do not count',
    steps: [
      { add: ['b', 1, EXPIRES, 9] },
      { addBelow: [1, ['a'], 0, 'a', 1], admitted: true },
      { read: [['a'], 0], is: [{ slot: 1, count: 1 }] },
    ],
  },
  {
    name: 'add upserts one row per (bucket, slot); the first expiry stays',
    steps: [
      { add: ['a', 1, 100, 1] },
      { add: ['a', 1, 200, 2] },
      { add: ['a', 2, 200, 1] },
      {
        read: [['a'], 0],
        is: [
          { slot: 1, count: 3 },
          { slot: 2, count: 1 },
        ],
      },
      { prune: 101, removed: 1 },
      { read: [['a'], 0], is: [{ slot: 2, count: 1 }] },
    ],
  },
  {
    name: 'prune removes rows that expired before now, not at now',
    steps: [
      { add: ['a', 1, 100, 1] },
      { prune: 100, removed: 0 },
      { prune: 101, removed: 1 },
      { total: [['a'], 0], is: 0 },
    ],
  },
  {
    name: 'no keys: nothing to read, a total of 0',
    steps: [{ add: ['a', 1, EXPIRES, 1] }, { total: [[], 0], is: 0 }, { read: [[], 0], is: [] }],
  },
]

function runSteps(counters: CounterStore, steps: Step[]): void {
  steps.forEach((step, i) => {
    const at = `step ${i + 1} ${JSON.stringify(step)}`
    if ('add' in step) counters.add(...step.add)
    else if ('addBelow' in step) {
      const [limit, keys, fromSlot, bucket, slot] = step.addBelow
      assert.equal(counters.addBelow(limit, { keys, fromSlot }, bucket, slot, EXPIRES), step.admitted, at)
    } else if ('total' in step) assert.equal(counters.total(...step.total), step.is, at)
    else if ('read' in step) {
      const rows = counters.read(...step.read).sort((a, b) => a.slot - b.slot)
      assert.deepEqual(rows, step.is, at)
    } else assert.equal(counters.prune(step.prune), step.removed, at)
  })
}

const COUNTER_STORES: Record<string, () => CounterStore> = {
  'SQLite (SqlCounters)': () => {
    const db = openSqlite()
    createCountersTable(db)
    return new SqlCounters(dbxApp(db))
  },
  'the fake': () => new FakeBackend(new FakeClock()).counters,
}

for (const [store, open] of Object.entries(COUNTER_STORES)) {
  describe(`counters, on ${store}`, () => {
    for (const { name, steps } of COUNTER_CASES) it(name, () => runSteps(open(), steps))
  })
}

// --- the cleanup's stale guests -------------------------------------------------------------------

interface GuestRow {
  id: string
  anonymous: boolean
  lastSeen: string
  created: string
}

const CUTOFF = '2026-11-01 00:00:00.000Z'
const BEFORE = '2026-10-31 23:59:59.999Z'
const AFTER = '2026-11-01 00:00:00.001Z'
const OLDER = '2026-10-01 00:00:00.000Z'

const GUEST_ROWS: GuestRow[] = [
  { id: 'stale', anonymous: true, lastSeen: BEFORE, created: OLDER },
  { id: 'atCutoff', anonymous: true, lastSeen: CUTOFF, created: OLDER },
  { id: 'active', anonymous: true, lastSeen: AFTER, created: OLDER },
  { id: 'staler', anonymous: true, lastSeen: OLDER, created: OLDER },
  { id: 'account', anonymous: false, lastSeen: OLDER, created: OLDER },
  { id: 'neverSeenOld', anonymous: true, lastSeen: '', created: BEFORE },
  { id: 'neverSeenNew', anonymous: true, lastSeen: '', created: AFTER },
  { id: 'neverSeenAtCutoff', anonymous: true, lastSeen: '', created: CUTOFF },
]

const STALE_CASES: { name: string; hasCreated: boolean; limit: number; skip: number; ids: string[] }[] = [
  {
    name: 'guests seen before the cutoff, oldest first; never seen: by creation',
    hasCreated: true,
    limit: 100,
    skip: 0,
    ids: ['neverSeenOld', 'staler', 'stale'],
  },
  {
    name: 'without a created field, never-seen guests stay',
    hasCreated: false,
    limit: 100,
    skip: 0,
    ids: ['staler', 'stale'],
  },
  { name: 'a batch: limit', hasCreated: true, limit: 2, skip: 0, ids: ['neverSeenOld', 'staler'] },
  { name: 'the next batch: skip', hasCreated: true, limit: 2, skip: 2, ids: ['stale'] },
]

const FIELDS = { anonymous: 'anonymous', lastSeen: 'lastSeen' }

function staleOnSqlite(hasCreated: boolean, limit: number, skip: number): string[] {
  const db = openSqlite()
  // The columns as PocketBase creates them for a bool, a date and an autodate field.
  db.run(`CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, anonymous BOOLEAN DEFAULT FALSE NOT NULL,
    lastSeen TEXT DEFAULT '' NOT NULL${hasCreated ? ", created TEXT DEFAULT '' NOT NULL" : ''})`)
  for (const row of GUEST_ROWS) {
    db.run(
      `INSERT INTO users (id, anonymous, lastSeen${hasCreated ? ', created' : ''}) VALUES (?, ?, ?${hasCreated ? ', ?' : ''})`,
      [row.id, Number(row.anonymous), row.lastSeen, ...(hasCreated ? [row.created] : [])],
    )
  }
  // backend.ts: recordQuery(...).andWhere(where).orderBy('lastSeen ASC').limit(limit).offset(skip)
  const where = staleGuestsWhere(FIELDS, hasCreated)
  const rows = select(db, `SELECT id FROM users WHERE ${where} ORDER BY lastSeen ASC LIMIT {:limit} OFFSET {:skip}`, {
    cutoff: CUTOFF,
    limit,
    skip,
  })
  return rows.map((row) => String(row.id))
}

function staleOnFake(hasCreated: boolean, limit: number, skip: number): string[] {
  const backend = new FakeBackend(new FakeClock())
  const users = backend.addCollection('users', { fields: authFields(hasCreated ? {} : { created: null }) })
  for (const row of GUEST_ROWS) {
    const { created, ...rest } = row
    backend.insert('users', hasCreated ? row : rest)
    if (!hasCreated) backend.change('users', row.id, { created: undefined })
  }
  return backend.findStaleGuests(users, FIELDS, CUTOFF, limit, skip).map((record) => record.id)
}

for (const [store, find] of Object.entries({ SQLite: staleOnSqlite, 'the fake': staleOnFake })) {
  describe(`the cleanup's stale guests, on ${store}`, () => {
    for (const c of STALE_CASES) {
      it(c.name, () => assert.deepEqual(find(c.hasCreated, c.limit, c.skip), c.ids, `${store}: ${c.name}`))
    }
  })
}

// --- the merge's relations ----------------------------------------------------------------------

const GUEST = 'guest0000000001'
const USER = 'user00000000001'

/** `changed`: whether the record is chosen (and saved) at all. */
const RELATION_CASES: {
  name: string
  maxSelect: number
  value: string | string[]
  after: string | string[]
  changed: number
}[] = [
  { name: 'a single relation to the guest is repointed', maxSelect: 1, value: GUEST, after: USER, changed: 1 },
  {
    name: 'a single relation to someone else stays',
    maxSelect: 1,
    value: 'other0000000001',
    after: 'other0000000001',
    changed: 0,
  },
  { name: 'an empty single relation stays', maxSelect: 1, value: '', after: '', changed: 0 },
  {
    name: 'the guest in a multiple relation is replaced in place',
    maxSelect: 5,
    value: ['a00000000000001', GUEST, 'b00000000000001'],
    after: ['a00000000000001', USER, 'b00000000000001'],
    changed: 1,
  },
  {
    name: 'holding both the guest and the user: the user once',
    maxSelect: 5,
    value: [GUEST, USER],
    after: [USER],
    changed: 1,
  },
  {
    name: 'an id that merely contains the guest’s id is not the guest',
    maxSelect: 5,
    value: [`${GUEST}x`, `x${GUEST}`],
    after: [`${GUEST}x`, `x${GUEST}`],
    changed: 0,
  },
  { name: 'an empty multiple relation stays', maxSelect: 5, value: [], after: [], changed: 0 },
]

interface Repointed {
  after: string | string[]
  changed: number
}

function repointOnSqlite(maxSelect: number, value: string | string[]): Repointed {
  const db = openSqlite()
  db.run(
    `CREATE TABLE notes (id TEXT PRIMARY KEY NOT NULL, owner ${maxSelect > 1 ? "JSON DEFAULT '[]'" : "TEXT DEFAULT ''"} NOT NULL)`,
  )
  db.run('INSERT INTO notes (id, owner) VALUES (?, ?)', ['note', Array.isArray(value) ? JSON.stringify(value) : value])
  const field = { name: 'owner', maxSelect }
  const found = select(db, `SELECT id, owner FROM notes WHERE ${referencingWhere(field)}`, { id: GUEST })
  if (found.length === 0) return { after: value, changed: 0 }
  // backend.ts's reassignRelations: the multiple relation's ids through repointedIds, a single one set.
  const after = maxSelect > 1 ? repointedIds(JSON.parse(String(found[0]!.owner)) as string[], GUEST, USER) : USER
  return { after, changed: found.length }
}

function repointOnFake(maxSelect: number, value: string | string[]): Repointed {
  const backend = new FakeBackend(new FakeClock())
  const users = backend.addCollection('users')
  backend.addCollection('notes', {
    type: 'base',
    fields: [
      { name: 'id', type: 'text', system: true },
      { name: 'owner', type: 'relation', collectionId: users.id, maxSelect },
    ],
  })
  backend.insert('notes', { id: 'note', owner: value })
  const changed = backend.reassignRelations(users, GUEST, USER)
  return { after: backend.row('notes', 'note')?.owner as string | string[], changed }
}

for (const [store, repoint] of Object.entries({ SQLite: repointOnSqlite, 'the fake': repointOnFake })) {
  describe(`the merge's relations, on ${store}`, () => {
    for (const c of RELATION_CASES) {
      it(c.name, () => {
        const { after, changed } = c
        assert.deepEqual(repoint(c.maxSelect, c.value), { after, changed }, `${store}: ${c.name}`)
      })
    }
  })
}

// --- a guest's deletion: which records a required relation would leave empty --------------------

const SOLE_CASES: { name: string; maxSelect: number; value: string | string[]; sole: boolean }[] = [
  { name: 'a single relation holding the guest', maxSelect: 1, value: GUEST, sole: true },
  { name: 'a single relation holding someone else', maxSelect: 1, value: USER, sole: false },
  { name: 'a multiple relation holding only the guest', maxSelect: 5, value: [GUEST], sole: true },
  { name: 'a multiple relation holding the guest and others', maxSelect: 5, value: [GUEST, USER], sole: false },
  {
    name: 'a multiple relation holding an id that contains the guest’s',
    maxSelect: 5,
    value: [`${GUEST}x`],
    sole: false,
  },
  { name: 'an empty multiple relation', maxSelect: 5, value: [], sole: false },
]

function soleOnSqlite(maxSelect: number, value: string | string[]): boolean {
  const db = openSqlite()
  db.run(
    `CREATE TABLE notes (id TEXT PRIMARY KEY NOT NULL, owner ${maxSelect > 1 ? "JSON DEFAULT '[]'" : "TEXT DEFAULT ''"} NOT NULL)`,
  )
  db.run('INSERT INTO notes (id, owner) VALUES (?, ?)', ['note', Array.isArray(value) ? JSON.stringify(value) : value])
  const where = soleReferenceWhere({ name: 'owner', maxSelect })
  return select(db, `SELECT id FROM notes WHERE ${where}`, { id: GUEST }).length > 0
}

function soleOnFake(maxSelect: number, value: string | string[]): boolean {
  const backend = new FakeBackend(new FakeClock())
  const users = backend.addCollection('users')
  backend.addCollection('notes', {
    type: 'base',
    fields: [
      { name: 'id', type: 'text', system: true },
      { name: 'owner', type: 'relation', collectionId: users.id, maxSelect },
    ],
  })
  backend.insert('notes', { id: 'note', owner: value })
  const [ref] = backend.relationsTo(users)
  return backend.findSoleReference(ref!, GUEST) !== null
}

for (const [store, sole] of Object.entries({ SQLite: soleOnSqlite, 'the fake': soleOnFake })) {
  describe(`a guest's deletion: the records left empty, on ${store}`, () => {
    for (const c of SOLE_CASES) {
      it(c.name, () => {
        assert.equal(sole(c.maxSelect, c.value), c.sole, `${store}: ${c.name}`)
      })
    }
  })
}
