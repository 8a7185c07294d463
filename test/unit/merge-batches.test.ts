// A merge in short transactions (merge-batches.ts, issue 15): the guest's records move in batches,
// the guest goes only at the end, a failed move is put back, a crash is finished (or undone) by the
// cleanup, and the cleanup never deletes a guest whose merge is under way.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { deleteAbandonedGuests } from '../../src/core/cleanup.ts'
import { BATCH_BUDGET_MS, DELETE_BATCH_SIZE } from '../../src/core/guest-deletion.ts'
import { MAX_SWEEPS, MERGE_LEASE_MS, MOVE_BATCH_SIZE, PURGE_BATCH_SIZE } from '../../src/core/merge-batches.ts'
import { resolveOptions } from '../../src/core/options.ts'
import type { MergeContext } from '../../src/core/options-types.ts'
import type { PendingMerge } from '../../src/core/ports.ts'
import { readStats } from '../../src/core/stats.ts'
import type { FakeRecord } from '../support/fake-backend.ts'
import { outcomeOf, World, type WorldSpec } from '../support/fake-world.ts'

const NOTES = MOVE_BATCH_SIZE * 2 + 50

/** A guest with NOTES notes and one board membership, and an account with a note of its own. */
function world(spec: WorldSpec = {}, notes = { cascadeDelete: false }) {
  const w = new World(spec)
  w.addNotes(notes)
  w.addBoards()
  const guest = w.signInGuest()
  const user = w.insertUser()
  const noteIds = Array.from({ length: NOTES }, () => w.backend.insert('notes', { owner: guest.record.id }).id)
  const board = w.backend.insert('boards', { members: ['someone', guest.record.id] })
  const own = w.backend.insert('notes', { owner: user.id })
  return { w, guest, user, noteIds, board, own }
}

const owners = (w: World, ids: string[]) => new Set(ids.map((id) => w.backend.row('notes', id)?.owner))
const transactions = (w: World, from = 0) => w.backend.trace.slice(from).filter((t) => t === 'tx:begin').length

/** From the `after`-th transaction on, every transaction fails as if the process had died there. */
function crashAfter(w: World, after: number): void {
  let seen = 0
  w.backend.before(
    'transaction',
    () => {
      if (++seen > after) throw new Error('crash')
    },
    100_000,
  )
}

/** The `nth` save from now fails with a validation error (a move PocketBase refuses); returns the save count so far. */
function failSave(w: World, nth: number): () => number {
  let saves = 0
  w.backend.before(
    'save',
    () => {
      if (++saves === nth) throw new Error('owner: Value must be unique.')
    },
    100_000,
  )
  return () => saves
}

/** Only the `nth` transaction from now fails (the ones before it commit, the ones after it run). */
function crashAt(w: World, nth: number): void {
  let seen = 0
  w.backend.before(
    'transaction',
    () => {
      if (++seen === nth) throw new Error('crash')
    },
    nth,
  )
}

/** Another process takes the merge over: the journal row's attempt moves on (the running merge holds the old one). */
function takeOver(w: World): void {
  const row = w.backend.db.merges.values().next().value as PendingMerge
  row.attempt++
}

function cleanup(w: World) {
  return deleteAbandonedGuests(w.backend, resolveOptions({}), w.clock.now())
}

/** The warning an operator reads in PocketBase's logs when a merge stops midway. */
const STOPPED_MIDWAY = 'pocketpages-plugin-anonymous: a merge stopped midway; the cleanup finishes it'

const warnings = (w: World) =>
  w.backend.logs.filter((l) => l.level === 'warn').map(({ message, keyValues }) => ({ message, keyValues }))

/** The merges in the operator's stats (stats.ts). */
const mergedCount = (w: World) => readStats(w.backend, w.options, w.clock.now()).totals.merged

/** The notes that still point at `id`. */
const notesOf = (w: World, id: string) => w.backend.rowsOf('notes').filter((r) => r.owner === id).length

describe('a merge in batches: the default convention', () => {
  it('moves every record in batches of MOVE_BATCH_SIZE, each its own transaction, and deletes the guest last', () => {
    const { w, guest, user, noteIds, board, own } = world()
    const guestAtEachTransaction: boolean[] = []
    w.backend.before(
      'transaction',
      () => guestAtEachTransaction.push(w.backend.row('users', guest.record.id) !== null),
      1000,
    )
    const visit = w.post(guest.cookie)
    const start = w.backend.trace.length
    visit.auth.mergeAnonymousUser(user)
    assert.deepEqual(owners(w, noteIds), new Set([user.id]), 'every note of the guest now belongs to the account')
    assert.deepEqual(w.backend.row('boards', board.id)!.members, ['someone', user.id], 'the membership moved')
    assert.equal(w.backend.row('notes', own.id)!.owner, user.id, "the account's own note is untouched")
    assert.equal(w.backend.row('users', guest.record.id), null, 'the guest is gone')
    // begin + 3 note batches + 1 board batch + the last one (sweep and delete) + the undo log's purge.
    assert.ok(transactions(w, start) >= 6, `the merge ran in ${transactions(w, start)} transactions, not in batches`)
    assert.ok(
      guestAtEachTransaction.slice(0, -1).every((exists) => exists),
      'the guest existed at the start of every transaction but the purge of the undo log (it goes last)',
    )
    assert.equal(guestAtEachTransaction.at(-1), false, 'the last transaction (the purge) came after the deletion')
    assert.deepEqual(w.backend.mergeRows(), [], 'the journal row is gone')
    assert.equal(w.backend.mergeMoveCount(), 0, 'the undo log is purged')
    assert.equal(outcomeOf(visit).signedIn, 'user', 'the request is signed in as the account')
  })

  it("ends the guest's session in the first transaction: between batches its cookie no longer signs in", () => {
    const { w, guest, user } = world()
    const cookieWorks: boolean[] = []
    w.backend.before('transaction', () => cookieWorks.push(w.backend.findAuthRecordByToken(guest.token) !== null), 1000)
    w.post(guest.cookie).auth.mergeAnonymousUser(user)
    assert.equal(cookieWorks[0], true, 'before the merge began the cookie worked')
    assert.ok(
      cookieWorks.slice(1).every((works) => !works),
      'after the first transaction the half-merged guest is unreachable',
    )
  })

  it('a move failing in a later batch puts back every move: nothing changed, the guest signed in as before', () => {
    const { w, guest, user, noteIds, board } = world()
    const before = { notes: w.backend.rowsOf('notes'), boards: w.backend.rowsOf('boards') }
    const userRow = w.backend.row('users', user.id)
    const saves = failSave(w, MOVE_BATCH_SIZE + 10)
    const visit = w.post(guest.cookie)
    assert.throws(() => visit.auth.mergeAnonymousUser(user), {
      code: 'MERGE_FAILED',
      message: "Moving the guest's records failed: owner: Value must be unique. Nothing was changed.",
    })
    assert.ok(saves() > MOVE_BATCH_SIZE, 'the failure came after a whole batch had been committed')
    assert.deepEqual(owners(w, noteIds), new Set([guest.record.id]), 'every moved note went back to the guest')
    assert.deepEqual(w.backend.row('boards', board.id)!.members, ['someone', guest.record.id])
    assert.deepEqual(
      w.backend.rowsOf('notes').map((r) => r.owner),
      before.notes.map((r) => r.owner),
    )
    assert.deepEqual(w.backend.rowsOf('boards'), before.boards)
    assert.deepEqual(w.backend.row('users', user.id), userRow, 'the account is unchanged')
    assert.equal(
      w.backend.findAuthRecordByToken(guest.token)?.id,
      guest.record.id,
      "the guest's token key is given back: its cookie signs in again",
    )
    assert.deepEqual(w.backend.mergeRows(), [], 'no journal row is left')
    assert.equal(outcomeOf(visit).signedIn, 'guest')
  })

  it('the account deleted midway: INVALID_MERGE_TARGET, and the moves go back', () => {
    const { w, guest, user, noteIds } = world()
    let saves = 0
    w.backend.before(
      'save',
      () => {
        if (++saves === MOVE_BATCH_SIZE) w.backend.remove('users', user.id)
      },
      100_000,
    )
    assert.throws(() => w.post(guest.cookie).auth.mergeAnonymousUser(user), {
      code: 'INVALID_MERGE_TARGET',
      message: 'The account to merge into no longer exists.',
    })
    assert.deepEqual(owners(w, noteIds), new Set([guest.record.id]))
    assert.ok(w.backend.row('users', guest.record.id), 'the guest stays')
  })

  it("the account's collection deleted as the merge began: MERGE_FAILED says so, nothing changed", () => {
    const w = new World({ options: { collections: ['users', 'members'] } })
    w.addNotes()
    w.backend.addCollection('members')
    const guest = w.signInGuest()
    const member = w.backend.insert('members', { email: 'member@mail.test' })
    const note = w.backend.insert('notes', { owner: guest.record.id })
    w.backend.before('merges.insert', () => {
      const collections = w.backend.db.collections
      collections.splice(
        collections.findIndex((c) => c.name === 'members'),
        1,
      )
    })
    const visit = w.post(guest.cookie)
    assert.throws(() => visit.auth.mergeAnonymousUser(member), {
      code: 'MERGE_FAILED',
      message: "Moving the guest's records failed: collection pbc_members no longer exists. Nothing was changed.",
    })
    assert.equal(w.backend.row('notes', note.id)!.owner, guest.record.id, 'the note stays with the guest')
    assert.equal(w.backend.findAuthRecordByToken(guest.token)?.id, guest.record.id, 'the guest signs in again')
    assert.deepEqual(w.backend.mergeRows(), [], 'no journal row is left')
  })

  it('a second merge of a guest whose merge is under way is refused (its session ended): SESSION_ENDED', () => {
    const { w, guest, user } = world()
    const second = w.post(guest.cookie) // this request read the guest before the first merge began
    crashAfter(w, 2) // the first merge began and moved a batch, then its process died
    assert.throws(() => w.post(guest.cookie).auth.mergeAnonymousUser(user), { code: 'MERGE_FAILED' })
    w.backend.db.hooks.clear()
    const [pending] = w.backend.mergeRows()
    assert.throws(() => second.auth.mergeAnonymousUser(user), { code: 'SESSION_ENDED' })
    assert.deepEqual(w.backend.mergeRows(), [pending], 'the first merge is left as it stands, for the cleanup')
  })

  it('a token issued for the guest after its merge began (a superuser impersonating it) starts no second merge: SESSION_ENDED', () => {
    const { w, guest, user } = world()
    crashAfter(w, 2) // the first merge began and moved a batch, then its process died
    assert.throws(() => w.post(guest.cookie).auth.mergeAnonymousUser(user), { code: 'MERGE_FAILED' })
    w.backend.db.hooks.clear()
    const [pending] = w.backend.mergeRows()
    const current = w.backend.findRecordById(guest.record.collection(), guest.record.id)!
    const impersonating = w.post(w.cookieFor(current))
    assert.equal(outcomeOf(impersonating).signedIn, 'guest', 'the new token opens the guest')
    assert.throws(() => impersonating.auth.mergeAnonymousUser(user), { code: 'SESSION_ENDED' })
    assert.deepEqual(w.backend.mergeRows(), [pending], 'the first merge is left as it stands, for the cleanup')
  })

  it('records added to the guest just before the last sweep are moved too, in another round, then the guest goes', () => {
    const { w, guest, user, noteIds } = world()
    const added: string[] = []
    w.backend.before(
      'relationsTo',
      () => {
        // The last sweep (in the deleting transaction) looks: server code has just given the guest more than a batch.
        if (!w.backend.db.txOpen || added.length > 0) return
        for (let i = 0; i <= MOVE_BATCH_SIZE; i++) added.push(w.backend.insert('notes', { owner: guest.record.id }).id)
      },
      1000,
    )
    const visit = w.post(guest.cookie)
    visit.auth.mergeAnonymousUser(user)
    assert.equal(added.length, MOVE_BATCH_SIZE + 1, 'the late records were added')
    assert.deepEqual(owners(w, [...noteIds, ...added]), new Set([user.id]), 'they moved too: none was unset')
    assert.equal(w.backend.row('users', guest.record.id), null, 'the guest is gone')
    assert.deepEqual(w.backend.mergeRows(), [], 'the journal row is gone')
    assert.equal(outcomeOf(visit).signedIn, 'user', 'the request is signed in as the account')
  })

  it('gives up after MAX_SWEEPS last sweeps that each found new records: MERGE_FAILED, everything put back', () => {
    const w = new World()
    w.addNotes()
    const guest = w.signInGuest()
    const user = w.insertUser()
    const added: string[] = []
    let sweeps = 0
    // Each save takes a batch's whole budget, so a transaction moves one record and leaves the rest.
    w.backend.before('save', () => w.clock.advance(BATCH_BUDGET_MS / 1000), 100_000)
    w.backend.before(
      'relationsTo',
      () => {
        // Each time the last sweep looks, server code has just given the guest more than it can move.
        if (!w.backend.db.txOpen) return
        sweeps++
        for (let i = 0; i < 2; i++) added.push(w.backend.insert('notes', { owner: guest.record.id }).id)
      },
      100_000,
    )
    const visit = w.post(guest.cookie)
    assert.throws(() => visit.auth.mergeAnonymousUser(user), {
      code: 'MERGE_FAILED',
      message:
        "Moving the guest's records failed: records kept being added to the guest during the merge. Nothing was changed.",
    })
    assert.equal(sweeps, MAX_SWEEPS, 'the merge went round MAX_SWEEPS times, no more')
    assert.deepEqual(owners(w, added), new Set([guest.record.id]), "every record is the guest's again")
    assert.equal(w.backend.findAuthRecordByToken(guest.token)?.id, guest.record.id, 'the guest signs in again')
    assert.deepEqual(w.backend.mergeRows(), [], 'no journal row is left')
    assert.equal(mergedCount(w), 0, 'an undone merge is not counted')
  })

  it('purges an undo log longer than PURGE_BATCH_SIZE to the last row, then the journal row', () => {
    const w = new World()
    w.addNotes()
    const guest = w.signInGuest()
    const user = w.insertUser()
    for (let i = 0; i <= PURGE_BATCH_SIZE; i++) w.backend.insert('notes', { owner: guest.record.id })
    w.post(guest.cookie).auth.mergeAnonymousUser(user)
    assert.equal(notesOf(w, user.id), PURGE_BATCH_SIZE + 1, 'every note moved')
    assert.equal(w.backend.mergeMoveCount(), 0, 'every undo-log row is gone')
    assert.deepEqual(w.backend.mergeRows(), [], 'the journal row is gone')
  })

  it('undoing stops each batch once it spent BATCH_BUDGET_MS (slow saves), and still puts every move back', () => {
    const { w, guest, user, noteIds } = world()
    failSave(w, MOVE_BATCH_SIZE * 2 + 1)
    w.backend.before('saveNoValidate', () => w.clock.advance(0.03), 100_000) // each save takes 30 ms
    const start = w.backend.trace.length
    assert.throws(() => w.post(guest.cookie).auth.mergeAnonymousUser(user), { code: 'MERGE_FAILED' })
    const perTransaction: number[] = []
    for (const entry of w.backend.trace.slice(start)) {
      if (entry === 'tx:begin') perTransaction.push(0)
      else if (entry === 'saveNoValidate:notes') perTransaction[perTransaction.length - 1]!++
    }
    const most = Math.max(...perTransaction)
    assert.ok(
      most * 30 <= BATCH_BUDGET_MS + 30,
      `a transaction put back ${most} notes (${most * 30} ms): past the budget`,
    )
    assert.ok(most > 1, 'a batch still does as much as its budget allows')
    assert.deepEqual(owners(w, noteIds), new Set([guest.record.id]), 'every moved note went back to the guest')
    assert.equal(w.backend.findAuthRecordByToken(guest.token)?.id, guest.record.id, 'the guest signs in again')
    assert.deepEqual(w.backend.mergeRows(), [], 'no journal row is left')
  })

  it('a batch stops once it spent BATCH_BUDGET_MS (slow saves): more, smaller transactions, all moved', () => {
    const { w, guest, user, noteIds } = world()
    w.backend.before('save', () => w.clock.advance(0.03), 100_000) // each save takes 30 ms
    const start = w.backend.trace.length
    w.post(guest.cookie).auth.mergeAnonymousUser(user)
    assert.deepEqual(owners(w, noteIds), new Set([user.id]))
    const perTransaction: number[] = []
    for (const entry of w.backend.trace.slice(start)) {
      if (entry === 'tx:begin') perTransaction.push(0)
      else if (entry === 'save:notes') perTransaction[perTransaction.length - 1]!++
    }
    const most = Math.max(...perTransaction)
    assert.ok(most * 30 <= BATCH_BUDGET_MS + 30, `a transaction saved ${most} notes (${most * 30} ms): past the budget`)
    assert.ok(most > 1, 'a batch still does as much as its budget allows')
  })

  it('without the journal table (migration not run) the merge is one transaction, as before', () => {
    const { w, guest, user, noteIds } = world()
    w.backend.dropMergesTable()
    const start = w.backend.trace.length
    w.post(guest.cookie).auth.mergeAnonymousUser(user)
    assert.equal(transactions(w, start), 1, 'one transaction')
    assert.deepEqual(owners(w, noteIds), new Set([user.id]))
  })
})

describe('a merge in batches: a crash midway', () => {
  it('leaves the journal row; the cleanup takes over once the lease ran out and finishes the merge', () => {
    const { w, guest, user, noteIds, board } = world()
    crashAfter(w, 2) // the first transaction and one batch of moves committed
    assert.throws(() => w.post(guest.cookie).auth.mergeAnonymousUser(user), { code: 'MERGE_FAILED' })
    w.backend.db.hooks.clear()
    const [pending] = w.backend.mergeRows()
    assert.equal(pending?.state, 'moving', 'the journal shows a merge midway')
    assert.equal(w.backend.rowsOf('notes').filter((r) => r.owner === user.id).length, MOVE_BATCH_SIZE + 1)
    assert.ok(w.backend.row('users', guest.record.id), 'the guest is still there (nothing orphaned)')
    assert.equal(w.backend.findAuthRecordByToken(guest.token), null, 'its session stays ended')

    // Abandoned by its last activity, too: only the pending merge keeps the cleanup's hands off it.
    w.backend.change('users', guest.record.id, { lastSeen: '1970-01-01 00:00:00.000Z' })
    assert.equal(cleanup(w).finishedMerges, 0, 'within the lease the runner may still be alive: left alone')
    assert.ok(w.backend.row('users', guest.record.id), 'a guest with a merge under way is never deleted')

    w.clock.advance(MERGE_LEASE_MS / 1000 + 1)
    const logsBefore = w.backend.logs.length
    const report = cleanup(w)
    assert.equal(report.finishedMerges, 1)
    assert.deepEqual(
      w.backend.logs.slice(logsBefore).map((l) => [l.level, l.message, ...l.keyValues]),
      [
        [
          'info',
          'pocketpages-plugin-anonymous: cleanup finished a merge left midway',
          'guestId',
          guest.record.id,
          'targetId',
          user.id,
        ],
      ],
      'the operator is told which merge the cleanup finished',
    )
    assert.equal(report.deleted, 0, 'the guest went by the merge, not as an abandoned guest')
    assert.deepEqual(owners(w, noteIds), new Set([user.id]), 'every note moved, none was lost')
    assert.deepEqual(w.backend.row('boards', board.id)!.members, ['someone', user.id])
    assert.equal(w.backend.row('users', guest.record.id), null)
    assert.deepEqual(w.backend.mergeRows(), [])
    assert.equal(w.backend.mergeMoveCount(), 0)
  })

  it('a stale guest with a crashed merge is merged, not deleted with its records (even with cascade)', () => {
    const { w, guest, user, noteIds } = world({}, { cascadeDelete: true })
    crashAfter(w, 1) // only the first transaction committed
    assert.throws(() => w.post(guest.cookie).auth.mergeAnonymousUser(user), { code: 'MERGE_FAILED' })
    w.backend.db.hooks.clear()
    w.backend.change('users', guest.record.id, { lastSeen: '1970-01-01 00:00:00.000Z' })
    w.clock.advance(MERGE_LEASE_MS / 1000 + 1)
    cleanup(w)
    assert.deepEqual(owners(w, noteIds), new Set([user.id]), 'no note was cascaded away')
  })

  it('a crash while undoing: the cleanup puts the rest back and gives the guest its session back', () => {
    const { w, guest, user, noteIds } = world()
    failSave(w, MOVE_BATCH_SIZE * 2 + 1)
    // The undo's first batch commits, then the process dies.
    let undoing = 0
    w.backend.before(
      'saveNoValidate',
      () => {
        if (++undoing === MOVE_BATCH_SIZE + 1) throw new Error('crash')
      },
      100_000,
    )
    assert.throws(() => w.post(guest.cookie).auth.mergeAnonymousUser(user), { code: 'MERGE_FAILED' })
    w.backend.db.hooks.clear()
    assert.equal(w.backend.mergeRows()[0]?.state, 'undoing')
    w.clock.advance(MERGE_LEASE_MS / 1000 + 1)
    const logsBefore = w.backend.logs.length
    assert.equal(cleanup(w).finishedMerges, 1)
    assert.deepEqual(
      w.backend.logs.slice(logsBefore).map((l) => [l.level, l.message, ...l.keyValues]),
      [
        [
          'info',
          'pocketpages-plugin-anonymous: cleanup undid a merge left midway',
          'guestId',
          guest.record.id,
          'targetId',
          user.id,
        ],
      ],
      'the operator is told which merge the cleanup undid',
    )
    assert.deepEqual(owners(w, noteIds), new Set([guest.record.id]), 'every note is the guest again')
    assert.equal(w.backend.findAuthRecordByToken(guest.token)?.id, guest.record.id, 'the guest signs in again')
    assert.deepEqual(w.backend.mergeRows(), [])
  })

  it('a runner whose merge was taken over stops at its next batch (two runners never work on one)', () => {
    const { w, guest, user } = world()
    let begun = 0
    let takenOverAt = 0
    w.backend.before(
      'transaction',
      () => {
        // After the first batch, another process takes the merge over.
        if (++begun === 3) {
          takeOver(w)
          takenOverAt = w.backend.trace.length
        }
      },
      1000,
    )
    assert.throws(() => w.post(guest.cookie).auth.mergeAnonymousUser(user), {
      code: 'MERGE_FAILED',
      message:
        'The merge could not finish (it took too long); the next cleanup run finishes it or puts back what it moved.',
    })
    assert.equal(w.backend.mergeRows()[0]?.state, 'moving', 'the stopped runner undid nothing: the new owner goes on')
    assert.equal(transactions(w, takenOverAt), 1, 'the batch that found it taken over was its last transaction')
    assert.deepEqual(
      warnings(w),
      [
        {
          message: STOPPED_MIDWAY,
          keyValues: [
            'guestId',
            guest.record.id,
            'state',
            'moving',
            'error',
            'Error: another process took this merge over',
          ],
        },
      ],
      'the operator reads which guest, where it stopped and why',
    )
  })

  it('stopped after the guest went (purging the undo log): the merge stands, the operator is told, the cleanup purges', () => {
    const { w, guest, user, noteIds } = world()
    let crashed = false
    w.backend.before(
      'transaction',
      () => {
        // The first transaction after the guest's deletion (the undo log's purge) dies.
        if (crashed || w.backend.row('users', guest.record.id)) return
        crashed = true
        throw new Error('crash')
      },
      1000,
    )
    const visit = w.post(guest.cookie)
    const { record } = visit.auth.mergeAnonymousUser(user)
    assert.equal(record.id, user.id, 'the merge happened: signed in as the account')
    assert.equal(outcomeOf(visit).signedIn, 'user', 'the request is signed in as the account')
    assert.deepEqual(owners(w, noteIds), new Set([user.id]), 'every note moved')
    assert.deepEqual(
      warnings(w),
      [{ message: STOPPED_MIDWAY, keyValues: ['guestId', guest.record.id, 'state', 'done', 'error', 'Error: crash'] }],
      'the operator reads which guest, where it stopped and why',
    )
    assert.equal(w.backend.mergeRows()[0]?.state, 'done', 'the journal row waits for the cleanup')
    assert.equal(mergedCount(w), 1, 'the merge is counted: the guest is gone')
    w.clock.advance(MERGE_LEASE_MS / 1000 + 1)
    assert.equal(cleanup(w).finishedMerges, 1, 'the cleanup finished it')
    assert.equal(w.backend.mergeMoveCount(), 0, 'the undo log is purged')
    assert.deepEqual(w.backend.mergeRows(), [], 'the journal row is gone')
    assert.equal(mergedCount(w), 1, 'finishing it did not count it again')
  })

  it('the cleanup takes a merge over once its runner was silent for exactly MERGE_LEASE_MS, not a millisecond before', () => {
    const { w, guest, user, noteIds } = world()
    crashAfter(w, 2)
    assert.throws(() => w.post(guest.cookie).auth.mergeAnonymousUser(user), { code: 'MERGE_FAILED' })
    w.backend.db.hooks.clear()
    const { heartbeat } = w.backend.mergeRows()[0]!
    w.clock.ms = heartbeat + MERGE_LEASE_MS - 1
    assert.equal(cleanup(w).finishedMerges, 0, 'a millisecond before the lease ends the runner may still be alive')
    assert.equal(w.backend.mergeRows()[0]?.attempt, 1, 'not taken over')
    w.clock.ms = heartbeat + MERGE_LEASE_MS
    assert.equal(cleanup(w).finishedMerges, 1, 'silent for the whole lease: taken over and finished')
    assert.deepEqual(owners(w, noteIds), new Set([user.id]), 'every note moved')
  })

  it('each takeover counts in the journal row (attempt), so an operator sees a merge that keeps failing', () => {
    const { w, guest, user, noteIds } = world()
    crashAfter(w, 2)
    assert.throws(() => w.post(guest.cookie).auth.mergeAnonymousUser(user), { code: 'MERGE_FAILED' })
    w.backend.db.hooks.clear()
    assert.equal(w.backend.mergeRows()[0]?.attempt, 1, 'the first runner')
    for (const attempt of [2, 3]) {
      w.clock.advance(MERGE_LEASE_MS / 1000 + 1)
      crashAfter(w, 1) // the cleanup's takeover commits, then its process dies
      assert.equal(cleanup(w).finishedMerges, 0, 'the cleanup could not finish it')
      w.backend.db.hooks.clear()
      assert.equal(w.backend.mergeRows()[0]?.attempt, attempt, `runner ${attempt} took it over`)
    }
    w.clock.advance(MERGE_LEASE_MS / 1000 + 1)
    assert.equal(cleanup(w).finishedMerges, 1, 'a later run finishes it')
    assert.deepEqual(owners(w, noteIds), new Set([user.id]), 'every note moved')
  })

  it('a cleanup whose listing is outdated (another runner took the merge over since) leaves it to the next run', () => {
    const { w, guest, user, noteIds } = world()
    crashAfter(w, 2)
    assert.throws(() => w.post(guest.cookie).auth.mergeAnonymousUser(user), { code: 'MERGE_FAILED' })
    w.backend.db.hooks.clear()
    w.clock.advance(MERGE_LEASE_MS / 1000 + 1)
    w.backend.before('transaction', () => {
      // Between this run's listing and its takeover, another runner took the merge over and, a
      // lease later, is silent in turn: this run's view (attempt 1) is not the merge as it stands.
      takeOver(w)
      const row = w.backend.db.merges.values().next().value as PendingMerge
      row.heartbeat = w.clock.now()
      w.clock.advance(MERGE_LEASE_MS / 1000 + 1)
    })
    assert.equal(cleanup(w).finishedMerges, 0, 'not taken over from an outdated view')
    assert.equal(w.backend.mergeRows()[0]?.attempt, 2, "the other runner's takeover stands")
    assert.equal(cleanup(w).finishedMerges, 1, 'the next run reads it afresh and finishes it')
    assert.deepEqual(owners(w, noteIds), new Set([user.id]), 'every note moved')
  })
})

describe('a merge in batches: the onMerge hook', () => {
  it('runs once, in the first transaction; what it leaves pointing at the guest goes in batches as a delete would', () => {
    const calls: unknown[] = []
    const { w, guest, user, noteIds, board } = world(
      { options: { onMerge: ({ app }: MergeContext) => calls.push(app) } },
      { cascadeDelete: true },
    )
    const start = w.backend.trace.length
    w.post(guest.cookie).auth.mergeAnonymousUser(user)
    assert.deepEqual(calls, [{ app: 'transaction' }], 'the hook ran once, with the transaction app')
    assert.ok(transactions(w, start) >= 4, 'the leftovers went in batches')
    assert.equal(owners(w, noteIds).size, 1)
    assert.equal(w.backend.row('notes', noteIds[0]!), null, 'cascading notes were deleted')
    assert.deepEqual(w.backend.row('boards', board.id)!.members, ['someone'], 'the membership was unset')
    assert.equal(w.backend.row('users', guest.record.id), null)
    assert.deepEqual(w.backend.mergeRows(), [])
  })

  it('stopped midway past the hook: the merge stands (signed in, counted once), the operator is told, the cleanup finishes it', () => {
    const { w, guest, user } = world({ options: { onMerge: () => {} } }, { cascadeDelete: true })
    crashAt(w, 2) // the hook's transaction committed; the first batch of leftovers dies
    const visit = w.post(guest.cookie)
    const { record } = visit.auth.mergeAnonymousUser(user)
    assert.equal(record.id, user.id, 'the merge happened: signed in as the account')
    assert.equal(outcomeOf(visit).signedIn, 'user', 'the request is signed in as the account')
    assert.deepEqual(
      warnings(w),
      [
        {
          message: STOPPED_MIDWAY,
          keyValues: ['guestId', guest.record.id, 'state', 'detaching', 'error', 'Error: crash'],
        },
      ],
      'the operator reads which guest, where it stopped and why',
    )
    assert.equal(mergedCount(w), 1, "counted in the hook's transaction, the point of no return")
    w.clock.advance(MERGE_LEASE_MS / 1000 + 1)
    assert.equal(cleanup(w).finishedMerges, 1, 'the cleanup finished it')
    assert.equal(w.backend.row('users', guest.record.id), null, 'the guest is gone')
    assert.equal(notesOf(w, guest.record.id), 0, 'nothing points at the guest')
    assert.deepEqual(w.backend.mergeRows(), [], 'the journal row is gone')
    assert.equal(mergedCount(w), 1, 'finishing it did not count it again')
  })

  it('a runner whose merge was taken over while detaching stops at its next batch, leaving the rest to the new owner', () => {
    const { w, guest, user } = world({ options: { onMerge: () => {} } }, { cascadeDelete: true })
    let begun = 0
    w.backend.before(
      'transaction',
      () => {
        if (++begun === 3) takeOver(w) // after the first batch of leftovers
      },
      1000,
    )
    w.post(guest.cookie).auth.mergeAnonymousUser(user)
    assert.equal(notesOf(w, guest.record.id), NOTES - DELETE_BATCH_SIZE, 'one batch went; the rest waits for the owner')
    assert.deepEqual(
      warnings(w).map((l) => l.keyValues),
      [['guestId', guest.record.id, 'state', 'detaching', 'error', 'Error: another process took this merge over']],
      'the operator reads why it stopped',
    )
  })

  it("a required relation the hook left on the guest refuses the merge and rolls the hook's writes back", () => {
    const { w, guest, user } = world({
      options: {
        onMerge: ({ user: u }: MergeContext) => {
          ;(u as unknown as FakeRecord).set('name', 'changed')
        },
      },
    })
    w.backend.addCollection('reviews', {
      type: 'base',
      fields: [
        { name: 'id', type: 'text' },
        { name: 'author', type: 'relation', collectionId: 'pbc_users', maxSelect: 1, required: true },
      ],
    })
    const review = w.backend.insert('reviews', { author: guest.record.id })
    const visit = w.post(guest.cookie)
    assert.throws(() => visit.auth.mergeAnonymousUser(user), {
      code: 'MERGE_FAILED',
      message: new RegExp(`^The onMerge hook failed: the record cannot be deleted .* record ${review.id} `),
    })
    assert.equal(w.backend.row('reviews', review.id)!.author, guest.record.id)
    assert.equal(w.backend.findAuthRecordByToken(guest.token)?.id, guest.record.id, 'the guest is intact')
    assert.deepEqual(w.backend.mergeRows(), [])
  })
})

describe('cleanup: a guest with many records', () => {
  it('goes in batches: cascades, unsets, and keeps a multi relation that holds others', () => {
    const w = new World()
    w.addNotes({ cascadeDelete: true })
    w.backend.addCollection('teams', {
      type: 'base',
      fields: [
        { name: 'id', type: 'text' },
        { name: 'members', type: 'relation', collectionId: 'pbc_users', maxSelect: 5, cascadeDelete: true },
      ],
    })
    const guest = w.insertGuest({ lastSeen: '1970-01-01 00:00:00.000Z' })
    for (let i = 0; i < NOTES; i++) w.backend.insert('notes', { owner: guest.id })
    const alone = w.backend.insert('teams', { members: [guest.id] })
    const shared = w.backend.insert('teams', { members: ['other', guest.id] })
    const start = w.backend.trace.length
    assert.equal(cleanup(w).deleted, 1)
    assert.ok(transactions(w, start) >= 4, 'the records went in batches before the guest')
    assert.equal(w.backend.rowsOf('notes').length, 0, 'cascading notes deleted')
    assert.equal(w.backend.row('teams', alone.id), null, 'a team left with no member is deleted (cascade)')
    assert.deepEqual(w.backend.row('teams', shared.id)!.members, ['other'], 'a team with others keeps them')
    assert.equal(w.backend.row('users', guest.id), null)
  })

  it('a guest with a few records goes in one transaction, as before (PocketBase cascades them)', () => {
    const w = new World()
    w.addNotes({ cascadeDelete: true })
    const guest = w.insertGuest({ lastSeen: '1970-01-01 00:00:00.000Z' })
    const note = w.backend.insert('notes', { owner: guest.id })
    const start = w.backend.trace.length
    assert.equal(cleanup(w).deleted, 1)
    assert.equal(transactions(w, start), 1, 'one transaction for a small guest')
    assert.equal(w.backend.row('notes', note.id), null, 'cascaded')
  })

  it('a required relation to the guest: not deleted, nothing changed (PocketBase would refuse)', () => {
    const w = new World()
    w.addNotes({ cascadeDelete: true })
    w.backend.addCollection('reviews', {
      type: 'base',
      fields: [
        { name: 'id', type: 'text' },
        { name: 'author', type: 'relation', collectionId: 'pbc_users', maxSelect: 1, required: true },
      ],
    })
    const guest = w.insertGuest({ lastSeen: '1970-01-01 00:00:00.000Z' })
    const note = w.backend.insert('notes', { owner: guest.id })
    w.backend.insert('reviews', { author: guest.id })
    const row = w.backend.row('users', guest.id)
    const report = cleanup(w)
    assert.deepEqual([report.deleted, report.failed], [0, 1])
    assert.ok(w.backend.row('notes', note.id), 'no record of the guest was deleted')
    assert.deepEqual(w.backend.row('users', guest.id), row, 'the guest is unchanged')
  })

  it('a guest seen again since the query is not deleted', () => {
    const w = new World()
    const guest = w.insertGuest({ lastSeen: '1970-01-01 00:00:00.000Z' })
    w.backend.before('transaction', () => w.backend.change('users', guest.id, { lastSeen: '2026-11-30 12:00:00.000Z' }))
    const report = cleanup(w)
    assert.equal(report.deleted, 0)
    assert.ok(w.backend.row('users', guest.id), 'kept')
  })
})
