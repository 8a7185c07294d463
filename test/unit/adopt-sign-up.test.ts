// signIn({ token }) of an account that an OAuth2 sign-up made a moment ago, while a guest is signed
// in (operations/adopt-sign-up.ts): the guest becomes that account in place; any other account
// gets the guest merged into it, as before.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isGuestRecord } from '../../src/core/guest-identity.ts'
import { FRESH_SIGN_UP_SECONDS } from '../../src/core/operations/adopt-sign-up.ts'
import { readStats } from '../../src/core/stats.ts'
import type { FakeRecord } from '../support/fake-backend.ts'
import { World } from '../support/fake-world.ts'

/** An account as PocketBase's OAuth2 sign-up leaves it: verified provider email, one identity link. */
function oauth2SignUp(w: World, data: Record<string, unknown> = {}): FakeRecord {
  const user = w.insertUser({ email: 'new@mail.test', verified: true, ...data })
  w.backend.linkExternalAuth(user, 'oidc', 'sub-1')
  return user
}

function signInWith(w: World, guestCookie: string, user: FakeRecord) {
  const visit = w.post(guestCookie)
  return { visit, result: visit.auth.signIn({ token: user.newAuthToken() }) }
}

describe('signIn after a fresh OAuth2 sign-up, holding a guest', () => {
  it('the guest becomes the account: same id, the email, verified, the identity, no longer a guest', () => {
    const w = new World({ users: undefined })
    const guest = w.signInGuest()
    const user = oauth2SignUp(w, { name: 'Ada' })
    const { visit, result } = signInWith(w, guest.cookie, user)
    assert.equal(result.record.id, guest.record.id, 'the guest id must stay')
    assert.equal(visit.auth.currentRecord?.id, guest.record.id, 'signed in as the guest id')
    assert.equal(w.backend.row('users', user.id), null, 'the empty new record is gone')
    const row = w.backend.row('users', guest.record.id)!
    assert.equal(row.email, 'new@mail.test', 'the email moved')
    assert.equal(row.verified, true, 'verified moved')
    assert.equal(
      isGuestRecord(w.backend, w.backend.findRecordById(w.backend.collection('users'), guest.record.id), 'anonymous'),
      false,
      'no longer a guest',
    )
    assert.deepEqual(
      w.backend
        .externalAuthsOf(w.backend.findRecordById(w.backend.collection('users'), guest.record.id)!)
        .map((a) => a.providerId),
      ['sub-1'],
      'the identity is linked to the guest id',
    )
    assert.notEqual(result.token, guest.token, 'a new token for the account')
    const stats = readStats(w.backend, w.options, w.clock.now()).totals
    assert.equal(stats.upgradedBy.oauth2, 1, 'counted as an OAuth2 upgrade')
    assert.equal(stats.merged, 0, 'not a merge')
  })
  it('what the guest made stays with it (relations untouched)', () => {
    const w = new World()
    w.addNotes()
    const guest = w.signInGuest()
    w.backend.insert('notes', { owner: guest.record.id })
    const user = oauth2SignUp(w)
    signInWith(w, guest.cookie, user)
    const notes = w.backend.db.table(w.backend.collection('notes'))
    assert.deepEqual(
      notes.map((n) => n.owner),
      [guest.record.id],
      'the note still points at the guest id',
    )
  })
  const merged: [string, (w: World) => FakeRecord][] = [
    [
      'an account with data',
      (w) => {
        w.addNotes()
        const user = oauth2SignUp(w)
        w.backend.insert('notes', { owner: user.id })
        return user
      },
    ],
    [
      'an account with two identities',
      (w) => {
        const user = oauth2SignUp(w)
        w.backend.linkExternalAuth(user, 'oidc2', 'sub-2')
        return user
      },
    ],
    [
      'an identity linked too long ago',
      (w) => {
        const user = w.insertUser({ email: 'old@mail.test' })
        w.backend.linkExternalAuth(user, 'oidc', 'sub-old')
        w.clock.advance(FRESH_SIGN_UP_SECONDS + 1)
        return user
      },
    ],
    ['a password account (no identity)', (w) => w.insertUser()],
  ]
  for (const [name, make] of merged) {
    it(`${name}: the guest is merged into it, as before`, () => {
      const w = new World()
      const guest = w.signInGuest()
      const user = make(w)
      const { result } = signInWith(w, guest.cookie, user)
      assert.equal(result.record.id, user.id, 'signed in as the account')
      assert.equal(w.backend.row('users', guest.record.id), null, 'the guest merged away')
      assert.ok(w.backend.row('users', user.id), 'the account stays')
    })
  }
  it('mergeOnSignIn off: neither adopted nor merged', () => {
    const w = new World({ options: { mergeOnSignIn: false } })
    const guest = w.signInGuest()
    const user = oauth2SignUp(w)
    const { result } = signInWith(w, guest.cookie, user)
    assert.equal(result.record.id, user.id, 'signed in as the account')
    assert.ok(w.backend.row('users', guest.record.id), 'the guest stays')
    assert.ok(w.backend.row('users', user.id), 'the account stays')
  })
  it('no guest signed in: a plain sign-in', () => {
    const w = new World()
    const user = oauth2SignUp(w)
    const result = w.post().auth.signIn({ token: user.newAuthToken() })
    assert.equal(result.record.id, user.id, 'the account')
    assert.ok(w.backend.row('users', user.id), 'nothing deleted')
  })
})
