// signOut(): the cookie always goes; a guest is revoked for good (token key rotated, last activity
// at the epoch so the next cleanup deletes it); a full account is left as it is.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { endGuest } from '../../src/core/operations/sign-out.ts'
import { outcomeOf, World } from '../support/fake-world.ts'

const EPOCH = '1970-01-01 00:00:00.000Z'

describe('signOut: scenarios', () => {
  it('a guest: revoked, marked for cleanup, cookie cleared', () => {
    const w = new World()
    const g = w.signInGuest()
    const before = w.backend.row('users', g.record.id)!
    const visit = w.post(g.cookie)
    const outcome = outcomeOf(visit, (auth) => auth.signOut())
    assert.deepEqual(outcome, {
      error: null,
      status: null,
      cookie: 'cleared',
      signedIn: null,
      cacheControl: 'private, no-store',
    })
    const after = w.backend.row('users', g.record.id)!
    assert.notEqual(after.tokenKey, before.tokenKey)
    assert.equal(after.lastSeen, EPOCH)
    assert.deepEqual(
      { ...after, tokenKey: 0, lastSeen: 0, updated: 0 },
      { ...before, tokenKey: 0, lastSeen: 0, updated: 0 },
    )
    assert.equal(w.backend.findAuthRecordByToken(g.token), null, 'every copy of its token stopped working')
    assert.equal(outcomeOf(w.visit({ cookies: [g.cookie] })).signedIn, null)
    assert.deepEqual(
      visit.changes.map((r) => r?.id),
      [g.record.id, undefined],
    )
    assert.equal(visit.auth.currentToken, undefined)
  })
  it('a full account: only the cookie goes', () => {
    const w = new World()
    const user = w.insertUser()
    const cookie = w.cookieFor(user)
    const before = w.backend.row('users', user.id)
    assert.equal(outcomeOf(w.post(cookie), (auth) => auth.signOut()).cookie, 'cleared')
    assert.deepEqual(w.backend.row('users', user.id), before)
    assert.equal(outcomeOf(w.visit({ cookies: [cookie] })).signedIn, 'user')
  })
  it('a flagged full account: only the cookie goes', () => {
    const w = new World()
    const user = w.insertUser({ anonymous: true })
    const before = w.backend.row('users', user.id)
    w.post(w.cookieFor(user)).auth.signOut()
    assert.deepEqual(w.backend.row('users', user.id), before)
  })
  it('signed out already: the cookie is cleared anyway', () => {
    const w = new World()
    assert.equal(outcomeOf(w.post(), (auth) => auth.signOut()).cookie, 'cleared')
    assert.deepEqual(w.backend.trace, [])
  })
  it('from another site: CROSS_SITE_REQUEST, the guest and its cookie stay', () => {
    const w = new World()
    const g = w.signInGuest()
    const before = w.backend.row('users', g.record.id)
    const outcome = outcomeOf(w.post(g.cookie, { headers: { Origin: 'https://evil.test' } }), (auth) => auth.signOut())
    assert.deepEqual(
      [outcome.error, outcome.status, outcome.cookie, outcome.signedIn],
      ['CROSS_SITE_REQUEST', 403, 'none', 'guest'],
    )
    assert.deepEqual(w.backend.row('users', g.record.id), before)
  })
})

describe('signOut: a concurrent change wins, and the cookie still goes', () => {
  const changes: [string, (w: World, id: string) => void][] = [
    [
      'the guest was upgraded meanwhile',
      (w, id) => w.backend.change('users', id, { tokenKey: 'new', anonymous: false }),
    ],
    ['the guest was merged away meanwhile', (w, id) => w.backend.remove('users', id)],
    ["the guest's flag was cleared meanwhile", (w, id) => w.backend.change('users', id, { anonymous: false })],
  ]
  for (const [name, change] of changes) {
    it(name, () => {
      const w = new World()
      const g = w.signInGuest()
      const visit = w.post(g.cookie)
      w.backend.before('transaction', () => change(w, g.record.id))
      const outcome = outcomeOf(visit, (auth) => auth.signOut())
      assert.deepEqual([outcome.error, outcome.cookie, outcome.signedIn], [null, 'cleared', null])
      const row = w.backend.row('users', g.record.id)
      assert.notEqual(row?.lastSeen, EPOCH, 'the winner is not marked for cleanup')
    })
  }
  it('ending the guest fails: logged, and the cookie still goes', () => {
    const w = new World()
    const g = w.signInGuest()
    w.backend.before('save', () => {
      throw new Error('database is locked')
    })
    const outcome = outcomeOf(w.post(g.cookie), (auth) => auth.signOut())
    assert.deepEqual([outcome.error, outcome.cookie, outcome.signedIn], [null, 'cleared', null])
    assert.deepEqual(
      w.backend.logs.map((l) => [l.level, l.message, ...l.keyValues]),
      [
        [
          'warn',
          'pocketpages-plugin-anonymous: could not end the guest on sign-out',
          'recordId',
          g.record.id,
          'error',
          'Error: database is locked',
        ],
      ],
    )
  })
})

describe('endGuest', () => {
  const options = { anonymousField: 'anonymous', lastSeenField: 'lastSeen' }
  it('returns true when it ended the guest, in one transaction', () => {
    const w = new World()
    const guest = w.insertGuest()
    assert.equal(endGuest(w.backend, guest, options, w.clock.now()), true)
    assert.deepEqual(
      w.backend.trace,
      ['tx:begin', 'save:users', 'counters.add', 'tx:commit'],
      'the sign-out and its stats count (counters.add) share the transaction',
    )
  })
  it('returns false for a guest whose session already changed, and writes nothing', () => {
    const w = new World()
    const guest = w.insertGuest()
    w.backend.change('users', guest.id, { tokenKey: 'other' })
    assert.equal(endGuest(w.backend, guest, options, w.clock.now()), false)
    assert.deepEqual(w.backend.trace, ['tx:begin', 'tx:commit'])
  })
  it('returns false for a full account', () => {
    const w = new World()
    assert.equal(endGuest(w.backend, w.insertUser({ anonymous: true }), options, w.clock.now()), false)
  })
})
