// Deleting abandoned guests (cleanup.ts): only guests by both facts, stale by last activity (or
// creation), in batches up to maxPerRun, past failures, and counters pruned.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { deleteAbandonedGuests, dryRunFlag } from '../../src/core/cleanup.ts'
import { formatPocketBaseDate as date } from '../../src/core/dates.ts'
import { MERGE_LEASE_MS } from '../../src/core/merge-batches.ts'
import { resolveOptions } from '../../src/core/options.ts'
import type { PendingMerge } from '../../src/core/ports.ts'
import type { FakeRecord } from '../support/fake-backend.ts'
import { authFields } from '../support/fake-backend.ts'
import { T0, World } from '../support/fake-world.ts'

const DAY_MS = 86_400_000
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
      dryRun: false,
      deleted: 3,
      wouldDelete: 0,
      kept: 0,
      failed: 0,
      skipped: 1,
      byCollection: { users: 3 },
      finishedMerges: 0,
      prunedCounters: 1,
    })
    assert.deepEqual(
      w.backend.counterRows().map((r) => [r.bucket, r.count]),
      [
        ['young', 1],
        ['stats:cleaned-up', 3],
      ],
      'the expired counter is pruned, the live one stays, and the run counts its deletions in the stats',
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
      dryRun: false,
      deleted: 1,
      wouldDelete: 0,
      kept: 0,
      failed: 0,
      skipped: 2,
      byCollection: { users: 1 },
      finishedMerges: 0,
      prunedCounters: 0,
    })
    assert.equal(w.backend.row('users', guest.id), null)
  })
})

describe('cleanup: flagged records it leaves alone', () => {
  it('a guest with an OAuth2 identity is kept, logged, and paged past', () => {
    const w = new World()
    const linked = w.insertGuest({ lastSeen: date(0) })
    w.backend.linkExternalAuth(linked, 'oidc', 'sub-1')
    const after = w.insertGuest({ lastSeen: date(1) })
    const report = run(w, { batchSize: 1 })
    assert.deepEqual([report.deleted, report.skipped], [1, 1], JSON.stringify(report))
    assert.ok(w.backend.row('users', linked.id), 'a flagged record with an OAuth2 identity is never deleted')
    assert.equal(w.backend.row('users', after.id), null, 'the guest after it was reached and deleted')
    assert.deepEqual(
      w.backend.logs.map((l) => [l.level, l.message, ...l.keyValues]),
      [
        [
          'warn',
          'pocketpages-plugin-anonymous: cleanup kept a flagged record that has an OAuth2 identity',
          'collection',
          'users',
          'recordId',
          linked.id,
        ],
      ],
      'the operator is told which record was kept, and where',
    )
  })
})

describe('cleanup: guests with a merge under way', () => {
  /** A journal row: `guest` is being merged into `target`, its runner last heard of `silentMs` ago. */
  function pendingMerge(w: World, guest: FakeRecord, target: FakeRecord, silentMs = 0): PendingMerge {
    const now = w.clock.now()
    const merge: PendingMerge = {
      guestCollection: guest.collection().id,
      guest: guest.id,
      targetCollection: target.collection().id,
      target: target.id,
      tokenKey: guest.tokenKey(),
      state: 'moving',
      attempt: 1,
      heartbeat: now - silentMs,
      started: now - silentMs,
    }
    w.backend.merges.insert(merge)
    return merge
  }

  /** Two stale guests, the first (by last activity) being merged by a live runner, and the account. */
  function world() {
    const w = new World()
    const merging = w.insertGuest({ lastSeen: date(0) })
    const after = w.insertGuest({ lastSeen: date(1) })
    const account = w.insertUser()
    pendingMerge(w, merging, account)
    return { w, merging, after }
  }

  it('a guest whose merge is running is skipped (the app is not asked about it), and paged past', () => {
    const { w, merging, after } = world()
    const asked: string[] = []
    const report = run(
      w,
      { batchSize: 1 },
      { beforeGuestDelete: ({ guest }: { guest: { id: string } }) => asked.push(guest.id) > 0 },
    )
    assert.deepEqual([report.deleted, report.skipped, report.finishedMerges], [1, 1, 0], JSON.stringify(report))
    assert.ok(w.backend.row('users', merging.id), 'the guest being merged is left to its merge')
    assert.equal(w.backend.row('users', after.id), null, 'the guest after it was reached and deleted')
    assert.deepEqual(asked, [after.id], 'beforeGuestDelete is asked only about the guest that could go')
  })

  it('a dry run does not count a guest whose merge is running', () => {
    const { w, after } = world()
    const options = resolveOptions({ cleanup: { batchSize: 1 } })
    const report = deleteAbandonedGuests(w.backend, options, w.clock.now(), { dryRun: true })
    assert.deepEqual(
      [report.wouldDelete, report.skipped, report.byCollection],
      [1, 1, { users: 1 }],
      `only ${after.id} would be deleted: ${JSON.stringify(report)}`,
    )
  })

  it('a merge begun after the query (before the deletion) keeps the guest; the run goes on', () => {
    const w = new World()
    const merging = w.insertGuest({ lastSeen: date(0) })
    const after = w.insertGuest({ lastSeen: date(1) })
    const account = w.insertUser()
    const row = w.backend.row('users', merging.id)
    // Another request begins merging the first guest just before the cleanup's deletion of it.
    w.backend.before('transaction', () => pendingMerge(w, merging, account))
    const report = run(w, { batchSize: 1 })
    assert.deepEqual([report.deleted, report.skipped, report.failed], [1, 1, 0], JSON.stringify(report))
    assert.deepEqual(w.backend.row('users', merging.id), row, 'the guest now being merged is untouched')
    assert.equal(w.backend.row('users', after.id), null, 'the guest after it was reached and deleted')
  })

  it('a stalled merge the cleanup cannot finish is logged; its guest stays, and the run goes on', () => {
    const w = new World()
    const merging = w.insertGuest({ lastSeen: date(0) })
    const other = w.insertGuest({ lastSeen: date(1) })
    pendingMerge(w, merging, w.insertUser(), MERGE_LEASE_MS + 1000)
    w.backend.before('transaction', () => {
      throw new Error('database is locked')
    })
    const report = run(w)
    assert.deepEqual([report.finishedMerges, report.deleted, report.skipped], [0, 1, 1], JSON.stringify(report))
    assert.ok(w.backend.row('users', merging.id), 'the guest of the unfinished merge is not deleted')
    assert.equal(w.backend.row('users', other.id), null, 'the other stale guest was deleted')
    assert.deepEqual(
      w.backend.logs.map((l) => [l.level, l.message, ...l.keyValues]),
      [
        [
          'warn',
          'pocketpages-plugin-anonymous: cleanup could not finish a merge left midway',
          'guestId',
          merging.id,
          'error',
          'Error: database is locked',
        ],
      ],
      'the operator is told which merge is stuck, and why',
    )
  })

  it('without the journal table (its migration not run) the cleanup still deletes abandoned guests', () => {
    const w = new World()
    const guest = w.insertGuest({ lastSeen: date(0) })
    w.backend.dropMergesTable()
    const report = run(w)
    assert.deepEqual([report.deleted, report.finishedMerges], [1, 0], JSON.stringify(report))
    assert.equal(w.backend.row('users', guest.id), null, 'the abandoned guest was deleted')
    assert.deepEqual(w.backend.logs, [], 'nothing to warn about: there are no merges to finish')
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

describe('cleanup: a dry run', () => {
  /** Three stale guests (one with a note), a fresh one, a flagged full account, and an expired counter. */
  function staleWorld(): { w: World; stale: string[]; note: string } {
    const w = new World()
    w.addNotes({ cascadeDelete: true })
    const stale = [0, 1, 2].map((i) => w.insertGuest({ lastSeen: date(i) }).id)
    w.insertGuest({ lastSeen: date(T0) })
    w.insertUser({ anonymous: true, lastSeen: date(0) })
    const note = w.backend.insert('notes', { owner: stale[0] }).id
    w.backend.counters.add('old', 1, T0 - 1, 1)
    return { w, stale, note }
  }

  it('reports what a run would delete, and deletes, counts and prunes nothing', () => {
    const { w, stale, note } = staleWorld()
    const rowsBefore = structuredClone(w.backend.rowsOf('users'))
    const countersBefore = w.backend.counterRows()
    const traceBefore = w.backend.trace.length
    const report = deleteAbandonedGuests(w.backend, resolveOptions({}), w.clock.now(), { dryRun: true })
    assert.deepEqual(
      report,
      {
        dryRun: true,
        deleted: 0,
        wouldDelete: 3,
        kept: 0,
        failed: 0,
        skipped: 1,
        byCollection: { users: 3 },
        finishedMerges: 0,
        prunedCounters: 0,
      },
      'the dry run reports the three stale guests and the flagged account it would pass over',
    )
    assert.deepEqual(w.backend.rowsOf('users'), rowsBefore, 'a dry run changed the users table')
    for (const id of stale) assert.ok(w.backend.row('users', id), `a dry run deleted guest ${id}`)
    assert.ok(w.backend.row('notes', note), "a dry run deleted a stale guest's note")
    assert.deepEqual(w.backend.counterRows(), countersBefore, 'a dry run counted or pruned counters')
    assert.ok(
      !w.backend.trace.slice(traceBefore).some((t) => t.startsWith('delete:') || t.startsWith('counters.')),
      `a dry run wrote: ${w.backend.trace.slice(traceBefore).join(', ')}`,
    )
  })

  it('then a real run deletes exactly what the dry run reported', () => {
    const { w } = staleWorld()
    const preview = deleteAbandonedGuests(w.backend, resolveOptions({}), w.clock.now(), { dryRun: true })
    const real = run(w)
    assert.equal(real.deleted, preview.wouldDelete, 'the run deleted another number than the preview said')
    assert.deepEqual(real.byCollection, preview.byCollection, 'per collection, the run differs from the preview')
  })

  it('previews one run: maxPerRun applies, and it pages past everything it leaves in place', () => {
    const w = new World()
    for (let i = 0; i < 7; i++) w.insertGuest({ lastSeen: date(i) })
    const skips: unknown[] = []
    w.backend.before('findStaleGuests', (args) => skips.push(args[4]), 10)
    const options = resolveOptions({ cleanup: { batchSize: 2, maxPerRun: 5 } })
    const report = deleteAbandonedGuests(w.backend, options, w.clock.now(), { dryRun: true })
    assert.equal(report.wouldDelete, 5, 'a dry run must stop where the run would (maxPerRun)')
    assert.deepEqual(skips, [0, 2, 4], 'a dry run must page past the guests it leaves, not reread them')
    assert.equal(w.backend.rowsOf('users').length, 7, 'a dry run deleted guests')
  })
})

describe('cleanup: beforeGuestDelete', () => {
  function world(): { w: World; ids: string[] } {
    const w = new World()
    const ids = [0, 1, 2].map((i) => w.insertGuest({ lastSeen: date(i) }).id)
    return { w, ids }
  }

  it('false keeps the guest and counts it; anything else deletes', () => {
    const { w, ids } = world()
    const seen: unknown[] = []
    const report = run(
      w,
      {},
      {
        beforeGuestDelete: ({ guest, app }: { guest: { id: string }; app: unknown }) => {
          seen.push([guest.id, app])
          return guest.id === ids[1] ? false : guest.id === ids[0] ? true : undefined
        },
      },
    )
    assert.deepEqual([report.deleted, report.kept], [2, 1], JSON.stringify(report))
    assert.ok(w.backend.row('users', ids[1]!), 'the guest the hook returned false for was deleted')
    assert.equal(w.backend.row('users', ids[0]!), null, 'the guest the hook returned true for was kept')
    assert.equal(w.backend.row('users', ids[2]!), null, 'a hook that returns nothing must not keep the guest')
    assert.deepEqual(
      seen,
      ids.map((id) => [id, { app: 'outer' }]),
      'the hook gets each guest once, with the app (no transaction is open)',
    )
  })

  it('true for every guest deletes every guest', () => {
    const { w } = world()
    const report = run(w, {}, { beforeGuestDelete: () => true })
    assert.deepEqual([report.deleted, report.kept], [3, 0])
    assert.equal(w.backend.rowsOf('users').length, 0)
  })

  it('a throwing hook keeps the guest, logs it, and the run goes on', () => {
    const { w, ids } = world()
    const report = run(
      w,
      {},
      {
        beforeGuestDelete: ({ guest }: { guest: { id: string } }) => {
          if (guest.id === ids[0]) throw new Error('votes table is locked')
          return true
        },
      },
    )
    assert.deepEqual([report.deleted, report.kept, report.failed], [2, 1, 0], JSON.stringify(report))
    assert.ok(w.backend.row('users', ids[0]!), 'a throwing hook must keep the guest')
    assert.deepEqual(
      w.backend.logs.map((l) => [l.level, l.message, ...l.keyValues]),
      [
        [
          'warn',
          'pocketpages-plugin-anonymous: beforeGuestDelete threw; the guest was kept',
          'collection',
          'users',
          'recordId',
          ids[0],
          'error',
          'Error: votes table is locked',
        ],
      ],
    )
  })

  it('kept guests are paged past, so the guests after them are reached', () => {
    const w = new World()
    const ids = Array.from({ length: 5 }, (_, i) => w.insertGuest({ lastSeen: date(i) }).id)
    const keep = new Set([ids[0], ids[1], ids[3]])
    const report = run(
      w,
      { batchSize: 2 },
      { beforeGuestDelete: ({ guest }: { guest: { id: string } }) => !keep.has(guest.id) },
    )
    assert.deepEqual([report.deleted, report.kept], [2, 3], JSON.stringify(report))
    assert.deepEqual(
      w.backend.rowsOf('users').map((r) => r.id),
      [ids[0], ids[1], ids[3]],
      'exactly the kept guests remain',
    )
  })

  it('is asked in a dry run too, so the preview counts the kept guests', () => {
    const { w, ids } = world()
    const options = resolveOptions({ beforeGuestDelete: ({ guest }: { guest: { id: string } }) => guest.id !== ids[2] })
    const report = deleteAbandonedGuests(w.backend, options, w.clock.now(), { dryRun: true })
    assert.deepEqual([report.wouldDelete, report.kept, report.deleted], [2, 1, 0], JSON.stringify(report))
    assert.equal(w.backend.rowsOf('users').length, 3, 'a dry run deleted guests')
  })

  it('is not asked about flagged full accounts (they are never deleted)', () => {
    const w = new World()
    w.insertUser({ anonymous: true, lastSeen: date(0) })
    let calls = 0
    run(w, {}, { beforeGuestDelete: () => calls++ > 100 })
    assert.equal(calls, 0, 'the hook was asked about a full account')
  })
})

describe('cleanup: the dryRun query parameter', () => {
  const rows: [string, boolean | null][] = [
    ['1', true],
    ['true', true],
    ['TRUE', true],
    ['', false],
    ['0', false],
    ['false', false],
    [' TRUE ', true],
    [' false ', false],
    ['yes', null],
    ['2', null],
    ['1; DROP', null],
  ]
  for (const [value, expected] of rows) {
    it(`'${value}' is ${expected === null ? 'refused' : expected ? 'a dry run' : 'a real run'}`, () => {
      assert.equal(dryRunFlag(value), expected, JSON.stringify(value))
    })
  }
})
