// Deleting a guest that many records point at (guest-deletion.ts): what points at it goes first,
// in batches, each its own short transaction that stops once it spent its time budget (but always
// does one record); then the guest. A small guest goes in one transaction, PocketBase's delete.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BATCH_BUDGET_MS, deleteGuestInBatches, detachReferences } from '../../src/core/guest-deletion.ts'
import type { RelationRef } from '../../src/core/ports.ts'
import type { FieldSpec } from '../support/fake-backend.ts'
import { World } from '../support/fake-world.ts'

/** A base collection `name` with one relation field `field` to users (settings as given). */
function addRelation(w: World, name: string, field: string, spec: Partial<FieldSpec> = {}): void {
  w.backend.addCollection(name, {
    type: 'base',
    fields: [
      { name: 'id', type: 'text' },
      { name: field, type: 'relation', collectionId: 'pbc_users', maxSelect: 1, ...spec },
    ],
  })
}

/** How many `entry` trace lines each transaction begun since `from` wrote. */
function perTransaction(w: World, from: number, entry: string): number[] {
  const counts: number[] = []
  for (const t of w.backend.trace.slice(from)) {
    if (t === 'tx:begin') counts.push(0)
    else if (t === entry && counts.length > 0) counts[counts.length - 1]!++
  }
  return counts
}

const users = (w: World) => w.backend.collection('users')

/** A guest that owns `count` notes (their owner field optional, not cascading). */
function guestWithNotes(count: number) {
  const w = new World()
  w.addNotes()
  const guest = w.insertGuest()
  const notes = Array.from({ length: count }, () => w.backend.insert('notes', { owner: guest.id }).id)
  return { w, guest, notes }
}

describe('detachReferences: batches', () => {
  it('takes the id out of every record, batchSize per transaction; a full batch is not taken for the last', () => {
    const { w, guest, notes } = guestWithNotes(5)
    const start = w.backend.trace.length
    detachReferences(w.backend, users(w), guest.id, undefined, 2)
    assert.deepEqual(
      notes.map((id) => w.backend.row('notes', id)!.owner),
      ['', '', '', '', ''],
      'every note was unset (its owner field is not required)',
    )
    assert.deepEqual(
      perTransaction(w, start, 'saveNoValidate:notes'),
      [2, 2, 1],
      'two full batches, each followed by another look, then the short last one',
    )
  })

  it('a batch of exactly batchSize looks once more, and finds nothing', () => {
    const { w, guest } = guestWithNotes(4)
    const start = w.backend.trace.length
    detachReferences(w.backend, users(w), guest.id, undefined, 2)
    assert.deepEqual(
      perTransaction(w, start, 'saveNoValidate:notes'),
      [2, 2, 0],
      'two full batches, then an empty look',
    )
    assert.equal(w.backend.isReferenced(users(w), guest.id), false, 'nothing points at the guest any more')
  })

  it('goes through every relation field that points at the guest', () => {
    const w = new World()
    w.addNotes({ cascadeDelete: true })
    addRelation(w, 'boards', 'members', { maxSelect: 10 })
    const guest = w.insertGuest()
    for (let i = 0; i < 3; i++) w.backend.insert('notes', { owner: guest.id })
    const shared = w.backend.insert('boards', { members: ['someone', guest.id] })
    const alone = w.backend.insert('boards', { members: [guest.id] })
    detachReferences(w.backend, users(w), guest.id, undefined, 2)
    assert.equal(w.backend.rowsOf('notes').length, 0, 'the cascading notes were deleted')
    assert.deepEqual(w.backend.row('boards', shared.id)!.members, ['someone'], 'a board keeps its other member')
    assert.deepEqual(w.backend.row('boards', alone.id)!.members, [], 'a board left with no member is kept, emptied')
  })
})

describe('detachReferences: the time budget', () => {
  it('a batch stops once it spent exactly BATCH_BUDGET_MS; the next transaction goes on', () => {
    const { w, guest, notes } = guestWithNotes(5)
    // Each save takes half the budget: two saves spend it exactly.
    w.backend.before('saveNoValidate', () => (w.clock.ms += BATCH_BUDGET_MS / 2), 100)
    const start = w.backend.trace.length
    detachReferences(w.backend, users(w), guest.id)
    assert.deepEqual(
      perTransaction(w, start, 'saveNoValidate:notes'),
      [2, 2, 1],
      'each transaction stopped as its budget ran out, and a later one carried on',
    )
    assert.ok(
      notes.every((id) => w.backend.row('notes', id)!.owner === ''),
      'a batch cut short by its budget is not taken for the last: every note was unset',
    )
  })

  it('a batch always does one record, even when the query alone spent the budget', () => {
    const { w, guest } = guestWithNotes(3)
    // A slow query, at most 20 times (a batch that did nothing would otherwise loop for ever).
    w.backend.before('findReferencing', () => (w.clock.ms += BATCH_BUDGET_MS + 10), 20)
    const start = w.backend.trace.length
    detachReferences(w.backend, users(w), guest.id)
    assert.deepEqual(
      perTransaction(w, start, 'saveNoValidate:notes'),
      [1, 1, 1],
      'each transaction made progress: one note, then it stopped (its budget was spent)',
    )
    assert.equal(w.backend.isReferenced(users(w), guest.id), false, 'every note was detached')
  })
})

describe('detachReferences: required relations', () => {
  it("a required field left empty refuses, as PocketBase's delete does, and its batch is rolled back", () => {
    const w = new World()
    addRelation(w, 'reviews', 'author', { required: true })
    const guest = w.insertGuest()
    const review = w.backend.insert('reviews', { author: guest.id })
    assert.throws(() => detachReferences(w.backend, users(w), guest.id), {
      message: `the record cannot be deleted because it is part of a required reference in record ${review.id} (reviews collection)`,
    })
    assert.equal(w.backend.row('reviews', review.id)!.author, guest.id, 'the review still points at the guest')
    assert.equal(w.backend.trace.at(-1), 'tx:rollback', 'the batch was rolled back')
  })

  it('a required field that keeps other ids, and a field that is not required, are saved without the guest', () => {
    const w = new World()
    addRelation(w, 'teams', 'members', { required: true, maxSelect: 5 })
    addRelation(w, 'notes', 'owner')
    const guest = w.insertGuest()
    const team = w.backend.insert('teams', { members: ['other', guest.id] })
    const note = w.backend.insert('notes', { owner: guest.id })
    detachReferences(w.backend, users(w), guest.id)
    assert.deepEqual(w.backend.row('teams', team.id)!.members, ['other'], 'the team keeps its other member')
    assert.equal(w.backend.row('notes', note.id)!.owner, '', 'the note has no owner any more')
  })
})

describe('deleteGuestInBatches', () => {
  /** A guest with `notes` notes, `boards` board memberships and `teams` team memberships. */
  function guestWith(counts: { notes: number; boards: number; teams: number }) {
    const w = new World()
    w.addNotes()
    addRelation(w, 'boards', 'members', { maxSelect: 10 })
    addRelation(w, 'teams', 'members', { maxSelect: 10 })
    const guest = w.insertGuest()
    for (let i = 0; i < counts.notes; i++) w.backend.insert('notes', { owner: guest.id })
    for (let i = 0; i < counts.boards; i++) w.backend.insert('boards', { members: [guest.id] })
    for (let i = 0; i < counts.teams; i++) w.backend.insert('teams', { members: [guest.id] })
    return { w, guest }
  }
  const transactions = (w: World, from: number) => w.backend.trace.slice(from).filter((t) => t === 'tx:begin').length

  it('fewer than batchSize references, over several relation fields: one transaction, PocketBase delete', () => {
    const { w, guest } = guestWith({ notes: 1, boards: 1, teams: 1 })
    const start = w.backend.trace.length
    assert.equal(
      deleteGuestInBatches(w.backend, guest, () => true, 4),
      true,
      'the guest was deleted',
    )
    assert.equal(transactions(w, start), 1, 'a small guest goes in one transaction')
    assert.equal(w.backend.row('users', guest.id), null, 'the guest is gone')
  })

  it('batchSize references summed over several relation fields: in batches, the guest last', () => {
    const { w, guest } = guestWith({ notes: 2, boards: 2, teams: 0 })
    const start = w.backend.trace.length
    assert.equal(
      deleteGuestInBatches(w.backend, guest, () => true, 4),
      true,
      'the guest was deleted',
    )
    assert.ok(transactions(w, start) > 1, 'a guest with batchSize references went in batches, not in one transaction')
    assert.equal(w.backend.isReferenced(users(w), guest.id), false, 'nothing points at the deleted guest')
    assert.equal(w.backend.row('users', guest.id), null, 'the guest is gone')
  })

  it('counting asks each relation only for what is still missing, and stops once it has batchSize', () => {
    const { w, guest } = guestWith({ notes: 2, boards: 3, teams: 1 })
    const asked: [string, number][] = []
    let inFirst = true
    w.backend.before('writeQuietly', () => (inFirst = false), 1)
    w.backend.before(
      'findReferencing',
      (args) => {
        if (inFirst) asked.push([(args[0] as RelationRef).collection.name, args[2] as number])
      },
      100,
    )
    deleteGuestInBatches(w.backend, guest, () => true, 4)
    assert.deepEqual(
      asked,
      [
        ['notes', 4],
        ['boards', 2],
      ],
      'the count read at most batchSize records in all, and did not ask the teams once it had enough',
    )
  })

  it('a guest deleted in batches loses its session in the first transaction: its token fails between batches', () => {
    const { w, guest } = guestWith({ notes: 5, boards: 0, teams: 0 })
    const token = w.backend.token(guest)
    assert.ok(w.backend.findAuthRecordByToken(token), 'the token signs in before the deletion')
    const signsIn: boolean[] = []
    w.backend.before('transaction', () => signsIn.push(w.backend.findAuthRecordByToken(token) !== null), 100)
    deleteGuestInBatches(w.backend, guest, () => true, 2)
    assert.ok(signsIn.length > 2, `the deletion ran in ${signsIn.length} transactions, not in batches`)
    assert.equal(signsIn[0], true, 'the token worked until the first transaction')
    assert.ok(
      signsIn.slice(1).every((works) => !works),
      'from the first transaction on, nobody can sign in as the half-deleted guest',
    )
  })

  it('start says no: nothing changes', () => {
    const { w, guest } = guestWith({ notes: 5, boards: 0, teams: 0 })
    const before = { users: w.backend.rowsOf('users'), notes: w.backend.rowsOf('notes') }
    assert.equal(
      deleteGuestInBatches(w.backend, guest, () => false, 2),
      false,
      'refused',
    )
    assert.deepEqual(
      { users: w.backend.rowsOf('users'), notes: w.backend.rowsOf('notes') },
      before,
      'the guest and its notes are unchanged',
    )
  })
})
