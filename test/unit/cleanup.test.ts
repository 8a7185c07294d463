// Deleting abandoned guests (cleanup.ts): only guests by both facts, stale by last activity (or
// creation), in batches up to maxPerRun, past failures, and counters pruned.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { deleteAbandonedGuests } from '../../src/core/cleanup.ts'
import { resolveOptions } from '../../src/core/options.ts'
import { authFields } from '../support/fake-backend.ts'
import { T0, World } from '../support/fake-world.ts'

const DAY_MS = 86_400_000
const date = (ms: number) => new Date(ms).toISOString().replace('T', ' ')
const CUTOFF = T0 - 30 * DAY_MS

function run(w: World, cleanup: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return deleteAbandonedGuests(w.backend, resolveOptions({ ...extra, cleanup }), w.clock.now())
}

describe('cleanup: who is deleted', () => {
  const rows: [string, (w: World) => string, boolean][] = [
    ['a guest last seen 31 days ago', (w) => w.insertGuest({ lastSeen: date(T0 - 31 * DAY_MS) }).id, true],
    ['a guest last seen just before the cutoff', (w) => w.insertGuest({ lastSeen: date(CUTOFF - 1) }).id, true],
    ['a guest last seen exactly at the cutoff', (w) => w.insertGuest({ lastSeen: date(CUTOFF) }).id, false],
    ['a guest seen today', (w) => w.insertGuest({ lastSeen: date(T0) }).id, false],
    ['a signed-out guest (last seen at the epoch)', (w) => w.insertGuest({ lastSeen: date(0) }).id, true],
    ['a guest never seen, created 31 days ago', (w) => w.insertGuest({ created: date(T0 - 31 * DAY_MS) }).id, true],
    ['a guest never seen, created today', (w) => w.insertGuest({ created: date(T0) }).id, false],
    ['a full account, inactive for a year', (w) => w.insertUser({ lastSeen: date(T0 - 365 * DAY_MS) }).id, false],
    [
      'a flagged full account (real password), inactive',
      (w) => w.insertUser({ anonymous: true, lastSeen: date(0) }).id,
      false,
    ],
    ['a marker without the flag', (w) => w.insertGuest({ anonymous: false, lastSeen: date(0) }).id, false],
  ]
  for (const [name, make, deleted] of rows) {
    it(`${name}: ${deleted ? 'deleted' : 'kept'}`, () => {
      const w = new World()
      const id = make(w)
      const report = run(w)
      assert.equal(w.backend.row('users', id) === null, deleted)
      assert.equal(report.deleted, deleted ? 1 : 0)
    })
  }
  it('reports deleted, skipped (flagged non-guests), failed, per collection, and pruned counters', () => {
    const w = new World()
    for (let i = 0; i < 3; i++) w.insertGuest({ lastSeen: date(0) })
    w.insertUser({ anonymous: true, lastSeen: date(0) })
    w.backend.counters.add('old', 1, T0 - 1, 1)
    w.backend.counters.add('young', 2, T0, 1)
    assert.deepEqual(run(w), {
      deleted: 3,
      failed: 0,
      skipped: 1,
      byCollection: { users: 3 },
      finishedMerges: 0,
      prunedCounters: 1,
    })
    assert.deepEqual(
      w.backend.counterRows().map((r) => r.bucket),
      ['young'],
    )
  })
  it('follows retentionDays', () => {
    const w = new World()
    const recent = w.insertGuest({ lastSeen: date(T0 - 2 * DAY_MS - 1) })
    run(w, { retentionDays: 2 })
    assert.equal(w.backend.row('users', recent.id), null)
  })
  it('deletes through PocketBase, so cascades apply', () => {
    const w = new World()
    w.addNotes({ cascadeDelete: true })
    const guest = w.insertGuest({ lastSeen: date(0) })
    const note = w.backend.insert('notes', { owner: guest.id })
    run(w)
    assert.equal(w.backend.row('notes', note.id), null)
  })
  it('uses the configured field names', () => {
    const w = new World({
      users: {
        fields: authFields({
          anonymous: null,
          lastSeen: null,
          isGuest: { type: 'bool', hidden: true },
          seen: { type: 'date', hidden: true },
        }),
      },
    })
    const guest = w.insertGuest({ isGuest: true, anonymous: undefined, seen: date(0), lastSeen: date(T0) })
    assert.equal(run(w, {}, { anonymousField: 'isGuest', lastSeenField: 'seen' }).deleted, 1)
    assert.equal(w.backend.row('users', guest.id), null)
  })
})

describe('cleanup: batches and limits', () => {
  it('reads batchSize at a time until a short batch', () => {
    const w = new World()
    for (let i = 0; i < 5; i++) w.insertGuest({ lastSeen: date(i) })
    const calls: unknown[] = []
    w.backend.before('findStaleGuests', (args) => calls.push([args[3], args[4]]), 10)
    assert.equal(run(w, { batchSize: 2 }).deleted, 5)
    assert.deepEqual(calls, [
      [2, 0],
      [2, 0],
      [2, 0],
    ])
  })
  it('pauses between full batches (not after the last one), and not at all with pauseMilliseconds 0', () => {
    const w = new World()
    for (let i = 0; i < 5; i++) w.insertGuest({ lastSeen: date(i) })
    run(w, { batchSize: 2 })
    assert.deepEqual(w.backend.pauses, [50, 50])
    const quiet = new World()
    for (let i = 0; i < 5; i++) quiet.insertGuest({ lastSeen: date(i) })
    run(quiet, { batchSize: 2, pauseMilliseconds: 0 })
    assert.deepEqual(quiet.backend.pauses, [])
  })
  it('stops at maxPerRun, across collections, asking for no more than is left', () => {
    const w = new World({ options: {} })
    w.backend.addCollection('members')
    for (let i = 0; i < 3; i++) w.insertGuest({ lastSeen: date(0) })
    const calls: unknown[] = []
    w.backend.before('findStaleGuests', (args) => calls.push(args[3]), 10)
    const report = run(w, { batchSize: 2, maxPerRun: 3 }, { collections: ['users', 'members'] })
    assert.deepEqual([report.deleted, report.byCollection], [3, { users: 3, members: 0 }])
    assert.deepEqual(calls, [2, 1])
    assert.deepEqual(
      w.backend.rowsOf('users').map((r) => r.id),
      [],
    )
  })
  it('stops exactly at maxPerRun, leaving the rest for the next run', () => {
    const w = new World()
    for (let i = 0; i < 4; i++) w.insertGuest({ lastSeen: date(i) })
    assert.equal(run(w, { batchSize: 10, maxPerRun: 3 }).deleted, 3)
    assert.equal(w.backend.rowsOf('users').length, 1)
  })
  it('passes over records it could not delete and goes on', () => {
    const w = new World()
    const ids = Array.from({ length: 4 }, (_, i) => w.insertGuest({ lastSeen: date(i) }).id)
    w.backend.before('delete', () => {
      throw new Error('constraint failed')
    })
    const skips: unknown[] = []
    w.backend.before('findStaleGuests', (args) => skips.push(args[4]), 10)
    const report = run(w, { batchSize: 2 })
    assert.deepEqual([report.deleted, report.failed], [3, 1])
    assert.deepEqual(
      w.backend.rowsOf('users').map((r) => r.id),
      [ids[0]],
    )
    assert.deepEqual(skips, [0, 1, 1])
    assert.deepEqual(
      w.backend.logs.map((l) => [l.level, l.message, ...l.keyValues]),
      [
        [
          'warn',
          'pocketpages-plugin-anonymous: could not delete an abandoned guest',
          'collection',
          'users',
          'recordId',
          ids[0],
          'error',
          'Error: constraint failed',
        ],
      ],
    )
  })
  it('passes over flagged non-guests too', () => {
    const w = new World()
    w.insertUser({ anonymous: true, lastSeen: date(0) })
    w.insertUser({ anonymous: true, lastSeen: date(1) })
    const guest = w.insertGuest({ lastSeen: date(2) })
    assert.deepEqual(run(w, { batchSize: 1 }), {
      deleted: 1,
      failed: 0,
      skipped: 2,
      byCollection: { users: 1 },
      finishedMerges: 0,
      prunedCounters: 0,
    })
    assert.equal(w.backend.row('users', guest.id), null)
  })
})

describe('cleanup: what it cannot reach', () => {
  it('a missing collection is logged and skipped; the others are cleaned', () => {
    const w = new World()
    w.insertGuest({ lastSeen: date(0) })
    const report = run(w, {}, { collections: ['users', 'gone'] })
    assert.deepEqual([report.deleted, report.byCollection], [1, { users: 1, gone: 0 }])
    assert.deepEqual(
      w.backend.logs.map((l) => [l.level, l.message]),
      [['warn', "pocketpages-plugin-anonymous: cleanup skipped collection 'gone': it does not exist"]],
    )
  })
  it('a failing query is logged and that collection skipped', () => {
    const w = new World()
    w.backend.addCollection('members')
    w.backend.insert('members', { anonymous: true, password: w.insertGuest().getString('password'), lastSeen: date(0) })
    w.backend.before('findStaleGuests', () => {
      throw new Error('no such column: lastSeen')
    })
    const report = run(w, {}, { collections: ['users', 'members'] })
    assert.deepEqual([report.deleted, report.byCollection], [1, { users: 0, members: 1 }])
    assert.deepEqual(
      w.backend.logs.map((l) => [l.level, l.message, ...l.keyValues]),
      [
        [
          'warn',
          "pocketpages-plugin-anonymous: cleanup skipped collection 'users'",
          'error',
          'Error: no such column: lastSeen',
        ],
      ],
    )
  })
})
