// A guest linking an OAuth2 identity through PocketBase's own API (oauth2-link.ts): what the request
// hook plans, what the _externalAuths hook converts, and the cleanup's guard. Fakes only; the
// end-to-end half is test/e2e/oauth2-link.test.ts.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { deleteAbandonedGuests } from '../../src/core/cleanup.ts'
import { isGuestPasswordHash, isGuestRecord, noPasswordHash } from '../../src/core/guest-identity.ts'
import { convertLinkedGuest, planGuestLink, takeProviderEmail } from '../../src/core/oauth2-link.ts'
import { resolveOptions } from '../../src/core/options.ts'
import type { AuthRecord } from '../../src/core/ports.ts'
import { readStats } from '../../src/core/stats.ts'
import { authFields } from '../support/fake-backend.ts'
import { World } from '../support/fake-world.ts'
import { nodeCrypto } from '../support/node-crypto.ts'

function plan(w: World, auth: AuthRecord | null, record: AuthRecord | null, providerEmail = '', options = {}) {
  return planGuestLink(
    w.backend,
    { auth, record, collection: w.backend.collection('users'), providerEmail },
    { ...w.options, ...options },
  )
}

describe('planGuestLink: what a guest-authenticated auth-with-oauth2 does', () => {
  it('no token, or a full account: left to PocketBase', () => {
    const w = new World()
    const user = w.insertUser()
    assert.deepEqual(plan(w, null, null, 'a@b.test'), { action: 'none' }, 'no token: nothing to do')
    assert.deepEqual(plan(w, user, user, 'a@b.test'), { action: 'none' }, 'a full account is not a guest')
  })
  it('a flagged record without the marker is not a guest', () => {
    const w = new World()
    const flagged = w.insertUser({ anonymous: true })
    assert.deepEqual(plan(w, flagged, flagged, 'x@y.test'), { action: 'none' }, 'flag alone must not count')
  })
  it('a new identity with a free email: the guest takes it', () => {
    const w = new World()
    const guest = w.insertGuest()
    assert.deepEqual(plan(w, guest, guest, 'new@mail.test'), { action: 'convert', email: 'new@mail.test' })
  })
  it('a new identity without an email: converted, email unchanged', () => {
    const w = new World()
    const guest = w.insertGuest()
    assert.deepEqual(plan(w, guest, guest, ''), { action: 'convert', email: null })
  })
  it("the identity's email belongs to a full account: that account, then merge", () => {
    const w = new World()
    const guest = w.insertGuest()
    const owner = w.insertUser({ email: 'taken@mail.test' })
    const result = plan(w, guest, guest, 'TAKEN@mail.test')
    assert.equal(result.action, 'merge', 'an account owns the email')
    assert.equal(result.action === 'merge' && result.into.id, owner.id, 'merge into the owner')
  })
  it("the identity's email belongs to an account but mergeOnSignIn is off: converted without the email", () => {
    const w = new World()
    const guest = w.insertGuest()
    w.insertUser({ email: 'taken@mail.test' })
    assert.deepEqual(plan(w, guest, guest, 'taken@mail.test', { mergeOnSignIn: false }), {
      action: 'convert',
      email: null,
    })
  })
  it('the email belongs to another guest: never merged into a guest, the email not taken', () => {
    const w = new World()
    const guest = w.insertGuest()
    w.insertGuest({ email: 'other@mail.test' })
    assert.deepEqual(plan(w, guest, guest, 'other@mail.test'), { action: 'convert', email: null })
  })
  it('the identity is linked to an account already: merge into it (or nothing without mergeOnSignIn)', () => {
    const w = new World()
    const guest = w.insertGuest()
    const account = w.insertUser()
    const result = plan(w, guest, account, '')
    assert.equal(result.action === 'merge' && result.into.id, account.id, 'merge into the linked account')
    assert.deepEqual(plan(w, guest, account, '', { mergeOnSignIn: false }), { action: 'none' }, 'mergeOnSignIn off')
  })
  it('the identity is linked to another guest: nothing (a guest is never a merge target)', () => {
    const w = new World()
    const guest = w.insertGuest()
    const other = w.insertGuest()
    assert.deepEqual(plan(w, guest, other, ''), { action: 'none' })
  })
  it('a collection outside the options: nothing', () => {
    const w = new World({ options: { collection: 'members' } })
    w.backend.addCollection('members', { fields: authFields() })
    const guest = w.insertGuest()
    assert.deepEqual(
      planGuestLink(
        w.backend,
        { auth: guest, record: guest, collection: w.backend.collection('users'), providerEmail: '' },
        w.options,
      ),
      { action: 'none' },
    )
  })
})

describe('takeProviderEmail', () => {
  it('sets an email the collection accepts', () => {
    const w = new World()
    const guest = w.insertGuest()
    assert.equal(takeProviderEmail(w.backend, guest, 'me@mail.test'), true, 'a valid email should be taken')
    assert.equal(guest.email(), 'me@mail.test')
  })
  it('keeps the placeholder when the domain rules refuse it', () => {
    const w = new World({
      users: { fields: authFields({ email: { exceptDomains: ['blocked.test'] } }) },
    })
    const guest = w.insertGuest()
    const before = guest.email()
    assert.equal(takeProviderEmail(w.backend, guest, 'me@blocked.test'), false, 'a refused domain must not be taken')
    assert.equal(guest.email(), before, 'the email must be restored')
  })
})

describe('convertLinkedGuest: inside the transaction that links', () => {
  it('a guest becomes an account: flag off, marker replaced, nothing else', () => {
    const w = new World()
    const guest = w.insertGuest()
    const before = w.backend.row('users', guest.id)!
    const done = w.backend.transaction((tx) =>
      convertLinkedGuest(tx, { collectionRef: 'pbc_users', recordRef: guest.id }, w.options, nodeCrypto, w.clock.now()),
    )
    assert.equal(done, true, 'a guest should be converted')
    const after = w.backend.row('users', guest.id)!
    assert.equal(after.anonymous, false, 'the flag must be cleared')
    assert.ok(!isGuestPasswordHash(String(after.password)), 'the marker must be replaced')
    assert.equal(after.tokenKey, before.tokenKey, "the token key stays (PocketBase's response token)")
    assert.equal(after.email, before.email, 'the email is not this hook’s business')
    assert.equal(
      readStats(w.backend, w.options, w.clock.now()).totals.upgradedBy.oauth2,
      1,
      'counted as an OAuth2 upgrade',
    )
    assert.equal(
      isGuestRecord(w.backend, w.backend.findRecordById(w.backend.collection('users'), guest.id), 'anonymous'),
      false,
    )
  })
  it('a full account, a missing record or another collection: untouched', () => {
    const w = new World()
    const user = w.insertUser()
    const before = w.backend.row('users', user.id)
    const convert = (collectionRef: string, recordRef: string) =>
      w.backend.transaction((tx) =>
        convertLinkedGuest(tx, { collectionRef, recordRef }, w.options, nodeCrypto, w.clock.now()),
      )
    assert.equal(convert('pbc_users', user.id), false, 'a full account is not converted')
    assert.deepEqual(w.backend.row('users', user.id), before, 'a full account must not change')
    assert.equal(convert('pbc_users', 'missing'), false, 'a missing record')
    assert.equal(convert('pbc_other', user.id), false, 'an unknown collection')
  })
})

describe('noPasswordHash', () => {
  it('is a well-formed bcrypt hash that is not the guest marker', () => {
    for (let i = 0; i < 50; i++) {
      const hash = noPasswordHash(nodeCrypto, 12)
      assert.match(hash, /^\$2a\$12\$[./A-Za-z0-9]{53}$/, 'bcrypt shape')
      assert.equal(isGuestPasswordHash(hash), false, 'must not read as a guest')
    }
  })
})

describe('cleanup: a flagged guest with an OAuth2 identity is kept', () => {
  it('kept and counted as skipped; a plain stale guest still goes', () => {
    const w = new World()
    const linked = w.insertGuest({ lastSeen: '1970-01-01 00:00:00.000Z' })
    const plain = w.insertGuest({ lastSeen: '1970-01-01 00:00:00.000Z' })
    w.backend.linkExternalAuth(linked, 'oidc', 'sub-1')
    const report = deleteAbandonedGuests(w.backend, resolveOptions({}), w.clock.now())
    assert.ok(w.backend.row('users', linked.id), 'a guest with an identity must never be deleted')
    assert.equal(w.backend.row('users', plain.id), null, 'the plain stale guest should go')
    assert.equal(report.skipped, 1, 'the linked guest counts as skipped')
    assert.equal(report.deleted, 1, 'one deletion')
  })
})
