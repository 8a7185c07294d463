// Merging a guest into an existing account (mergeAnonymousUser, merge.ts): re-checks the guest
// session, repoints (or hands to onMerge) the guest's data, deletes the guest; on any failure
// nothing changes. Both ways it runs are covered where their code differs: in short transactions
// with the merge journal (merge-batches.test.ts has the rest), or in one transaction without it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AnonymousAuthError, ErrorCodes } from '../../src/core/errors.ts'
import type { MergeContext } from '../../src/core/options-types.ts'
import type { FakeRecord } from '../support/fake-backend.ts'
import { outcomeOf, World, type WorldSpec } from '../support/fake-world.ts'

/** A world with notes (one owner) and boards (many members) pointing at users. */
function world(spec: WorldSpec = {}) {
  const w = new World(spec)
  w.addNotes()
  w.addBoards()
  const guest = w.signInGuest()
  const user = w.insertUser()
  const note = w.backend.insert('notes', { owner: guest.record.id })
  const board = w.backend.insert('boards', { members: [user.id, guest.record.id, 'someone'] })
  const othersNote = w.backend.insert('notes', { owner: user.id })
  return { w, guest, user, note, board, othersNote }
}

/**
 * The two ways a merge runs: in short transactions with the journal (the migration ran), or in one
 * transaction where the journal table is missing. Their rules and outcomes are the same.
 */
const PATHS: [string, (w: World) => void][] = [
  ['in batches', () => {}],
  ['in one transaction (no journal table)', (w) => w.backend.dropMergesTable()],
]

describe('mergeAnonymousUser: the default merge', () => {
  it('repoints every relation to the account, deletes the guest and signs in as the account', () => {
    const { w, guest, user, note, board, othersNote } = world()
    const visit = w.post(guest.cookie)
    const { token, record } = visit.auth.mergeAnonymousUser(user)
    assert.equal(w.backend.row('notes', note.id)!.owner, user.id)
    assert.deepEqual(w.backend.row('boards', board.id)!.members, [user.id, 'someone'])
    assert.equal(w.backend.row('notes', othersNote.id)!.owner, user.id)
    assert.equal(w.backend.row('users', guest.record.id), null)
    assert.equal(record.id, user.id)
    assert.equal(w.backend.findAuthRecordByToken(token)?.id, user.id)
    assert.equal(outcomeOf(visit).signedIn, 'user')
    assert.equal(outcomeOf(visit).cookie, 'set')
  })
})

describe('mergeAnonymousUser: the onMerge hook', () => {
  for (const [path, arrange] of PATHS) {
    it(`runs instead of the default, inside the transaction, with both records and the transaction app (${path})`, () => {
      const seen: unknown[] = []
      const { w, guest, user, note } = world({
        options: {
          onMerge: ({ guest: g, user: u, app }: MergeContext) => {
            seen.push([(g as unknown as FakeRecord).id, (u as unknown as FakeRecord).id, app])
          },
        },
      })
      arrange(w)
      w.post(guest.cookie).auth.mergeAnonymousUser(user)
      assert.deepEqual(seen, [[guest.record.id, user.id, { app: 'transaction' }]])
      assert.equal(w.backend.row('notes', note.id)!.owner, '', 'not repointed: the hook chose; the delete unset it')
      assert.equal(w.backend.row('users', guest.record.id), null)
    })
  }
})

describe('mergeAnonymousUser: failures change nothing', () => {
  const failing: [string, WorldSpec, (w: World) => void, string][] = [
    [
      'the hook throws',
      {
        options: {
          onMerge: ({ user }: MergeContext) => {
            ;(user as unknown as FakeRecord).set('name', 'changed')
            throw new Error('GoError: quota exceeded.')
          },
        },
      },
      () => {},
      'The onMerge hook failed: quota exceeded. Nothing was changed.',
    ],
    [
      'repointing a relation fails',
      {},
      (w) =>
        w.backend.before('save', () => {
          throw new Error('owner: Invalid value.')
        }),
      "Moving the guest's records failed: owner: Invalid value. Nothing was changed.",
    ],
    [
      'deleting the guest fails',
      {},
      (w) =>
        w.backend.before('delete', () => {
          throw new Error('still referenced')
        }),
      "Moving the guest's records failed: still referenced. Nothing was changed.",
    ],
  ]
  for (const [path, arrangePath] of PATHS)
    for (const [name, spec, arrange, message] of failing) {
      it(`${name}: MERGE_FAILED (500), rolled back, still the guest (${path})`, () => {
        const { w, guest, user } = world(spec)
        arrangePath(w)
        const visit = w.post(guest.cookie)
        const rows = {
          users: w.backend.rowsOf('users'),
          notes: w.backend.rowsOf('notes'),
          boards: w.backend.rowsOf('boards'),
        }
        arrange(w)
        assert.throws(() => visit.auth.mergeAnonymousUser(user), { code: 'MERGE_FAILED', status: 500, message })
        assert.deepEqual(
          { users: w.backend.rowsOf('users'), notes: w.backend.rowsOf('notes'), boards: w.backend.rowsOf('boards') },
          rows,
        )
        assert.equal(outcomeOf(visit).signedIn, 'guest')
        assert.deepEqual(w.backend.mergeRows(), [], 'the merge journal keeps no row of an undone merge')
        assert.equal(w.backend.mergeMoveCount(), 0, 'the undo log is empty once everything went back')
      })
    }
  it('a plugin error thrown by the hook comes out unchanged', () => {
    const { w, guest, user } = world({
      options: {
        onMerge: () => {
          throw new AnonymousAuthError(ErrorCodes.EMAIL_TAKEN, 'taken')
        },
      },
    })
    assert.throws(() => w.post(guest.cookie).auth.mergeAnonymousUser(user), { code: 'EMAIL_TAKEN' })
  })
})

describe('mergeAnonymousUser: who can be merged into whom', () => {
  type Arranged = { cookie?: string; into: unknown; origin?: string }
  const refused: [string, (s: ReturnType<typeof world>) => Arranged, string][] = [
    ['signed out', ({ user }) => ({ into: user }), 'NOT_SIGNED_IN'],
    [
      'a full account is not a guest',
      ({ w, user }) => ({ cookie: w.cookieFor(w.insertUser()), into: user }),
      'NOT_ANONYMOUS',
    ],
    [
      'a flagged full account is not a guest',
      ({ w, user }) => ({ cookie: w.cookieFor(w.insertUser({ anonymous: true })), into: user }),
      'NOT_ANONYMOUS',
    ],
    ['into nothing', ({ guest }) => ({ cookie: guest.cookie, into: null }), 'INVALID_MERGE_TARGET'],
    [
      'into a plain object',
      ({ guest, user }) => ({ cookie: guest.cookie, into: { id: user.id } }),
      'INVALID_MERGE_TARGET',
    ],
    [
      'into a record without an id',
      ({ w, guest }) => ({ cookie: guest.cookie, into: w.backend.newRecord(w.backend.collection('users')) }),
      'INVALID_MERGE_TARGET',
    ],
    ['into itself', ({ guest }) => ({ cookie: guest.cookie, into: guest.record }), 'INVALID_MERGE_TARGET'],
    ['into another guest', ({ w, guest }) => ({ cookie: guest.cookie, into: w.insertGuest() }), 'INVALID_MERGE_TARGET'],
    [
      'into an account of an unconfigured collection',
      ({ w, guest }) => {
        w.backend.addCollection('admins')
        return { cookie: guest.cookie, into: w.backend.insert('admins', { email: 'a@a.test' }) }
      },
      'INVALID_MERGE_TARGET',
    ],
    [
      'from another site',
      ({ guest, user }) => ({ cookie: guest.cookie, into: user, origin: 'https://evil.test' }),
      'CROSS_SITE_REQUEST',
    ],
  ]
  for (const [name, arrange, code] of refused) {
    it(`${name}: ${code}`, () => {
      const setup = world()
      const { w } = setup
      const { cookie, into, origin } = arrange(setup)
      const users = w.backend.rowsOf('users')
      const visit = w.post(cookie, origin ? { headers: { Origin: origin } } : {})
      const outcome = outcomeOf(visit, (auth) => auth.mergeAnonymousUser(into as FakeRecord))
      assert.equal(outcome.error, code)
      assert.deepEqual(w.backend.rowsOf('users'), users)
    })
  }
  it('a full account is refused before any transaction', () => {
    const { w, user } = world()
    const visit = w.post(w.cookieFor(w.insertUser()))
    const start = w.backend.trace.length
    assert.throws(() => visit.auth.mergeAnonymousUser(user), { code: 'NOT_ANONYMOUS' })
    assert.deepEqual(w.backend.trace.slice(start), [])
  })
  it('an account deleted by the merge itself: INVALID_MERGE_TARGET after the merge', () => {
    const { w, guest, user } = world()
    w.backend.before('delete', () => w.backend.remove('users', user.id))
    assert.throws(() => w.post(guest.cookie).auth.mergeAnonymousUser(user), {
      code: 'INVALID_MERGE_TARGET',
      message: 'The account to merge into no longer exists.',
    })
  })
})

describe('mergeAnonymousUser: a concurrent change wins', () => {
  const SESSION_ENDED =
    'This guest session was changed by another request (saved, merged or signed out). Reload the page.'
  const NOT_A_GUEST = 'Only a guest can be merged into another account.'
  const NOT_A_FULL_ACCOUNT = 'A guest can only be merged into a full account.'
  const changes: [string, (w: World, guest: FakeRecord, user: FakeRecord) => void, string, string][] = [
    [
      'the guest signed out meanwhile (token key rotated)',
      (w, guest) => w.backend.change('users', guest.id, { tokenKey: 'rotated' }),
      'SESSION_ENDED',
      SESSION_ENDED,
    ],
    [
      'the guest was deleted meanwhile',
      (w, guest) => w.backend.remove('users', guest.id),
      'SESSION_ENDED',
      SESSION_ENDED,
    ],
    [
      "the guest's flag was cleared meanwhile (same token key)",
      (w, guest) => w.backend.change('users', guest.id, { anonymous: false }),
      'NOT_ANONYMOUS',
      NOT_A_GUEST,
    ],
    [
      'the account was deleted meanwhile',
      (w, _, user) => w.backend.remove('users', user.id),
      'INVALID_MERGE_TARGET',
      NOT_A_FULL_ACCOUNT,
    ],
    [
      'the account became a guest meanwhile',
      (w, guest, user) =>
        w.backend.change('users', user.id, { password: w.backend.row('users', guest.id)!.password, anonymous: true }),
      'INVALID_MERGE_TARGET',
      NOT_A_FULL_ACCOUNT,
    ],
  ]
  for (const [path, arrange] of PATHS)
    for (const [name, change, code, message] of changes) {
      it(`${name}: ${code}, nothing merged (${path})`, () => {
        const { w, guest, user, note } = world()
        arrange(w)
        const visit = w.post(guest.cookie)
        // Another request commits its change just before the merge's (first) transaction reads.
        w.backend.before('transaction', () => change(w, guest.record, user))
        assert.throws(() => visit.auth.mergeAnonymousUser(user), { code, message })
        assert.equal(w.backend.row('notes', note.id)!.owner, guest.record.id, 'the note stays with the guest')
        assert.deepEqual(w.backend.mergeRows(), [], 'no merge was begun')
      })
    }
  it('SESSION_ENDED says what happened (409)', () => {
    const { w, guest, user } = world()
    const visit = w.post(guest.cookie)
    w.backend.before('transaction', () => w.backend.change('users', guest.record.id, { tokenKey: 'rotated' }))
    assert.throws(() => visit.auth.mergeAnonymousUser(user), {
      status: 409,
      message: 'This guest session was changed by another request (saved, merged or signed out). Reload the page.',
    })
  })
})

describe('mergeAnonymousUser: only into auth records of the configured collections', () => {
  it('refuses a record of a base collection', () => {
    const { w, guest, note } = world()
    assert.throws(() => w.post(guest.cookie).auth.mergeAnonymousUser(note), {
      code: 'INVALID_MERGE_TARGET',
      message: 'A guest can only be merged into an auth record.',
    })
  })
  it('refuses the guest itself, and merges into a same-id record of another collection', () => {
    const { w, guest } = world({ options: { collections: ['users', 'members'] } })
    assert.throws(() => w.post(guest.cookie).auth.mergeAnonymousUser(guest.record), {
      message: 'A guest cannot be merged into itself.',
    })
    w.backend.addCollection('members')
    const twin = w.backend.insert('members', { id: guest.record.id, email: 'twin@mail.test' })
    w.post(guest.cookie).auth.mergeAnonymousUser(twin)
    assert.equal(w.backend.row('users', guest.record.id), null, 'the guest is gone')
  })
})
