// The policy edges of adopting a fresh OAuth2 sign-up (operations/adopt-sign-up.ts): which account
// counts as "just made by an OAuth2 sign-up" (collection, guest or not, the time windows of its
// link and of its creation), what the guest takes from it, and what a concurrent change or a
// failure inside the transaction leads to.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatPocketBaseDate as date } from '../../src/core/dates.ts'
import { FRESH_SIGN_UP_SECONDS, isFreshOAuth2SignUp } from '../../src/core/operations/adopt-sign-up.ts'
import { authFields, type FakeRecord } from '../support/fake-backend.ts'
import { World } from '../support/fake-world.ts'

/** An account as PocketBase's OAuth2 sign-up leaves it: verified provider email, one identity link. */
function oauth2SignUp(w: World, data: Record<string, unknown> = {}, collection = 'users'): FakeRecord {
  const user = w.backend.insert(collection, {
    email: 'new@mail.test',
    password: 'x',
    verified: true,
    anonymous: false,
    lastSeen: '',
    ...data,
  })
  w.backend.linkExternalAuth(user, 'oidc', 'sub-1')
  return user
}

/** Sets when the user's one identity link was made (as PocketBase stored it). */
function linkedAt(w: World, user: FakeRecord, ms: number): void {
  for (const link of w.backend.db.externalAuths) if (link.recordRef === user.id) link.created = date(ms)
}

function fresh(w: World, guest: FakeRecord, user: FakeRecord): boolean {
  return isFreshOAuth2SignUp(w.backend, guest, user, 'anonymous', w.clock.now())
}

describe('isFreshOAuth2SignUp: which account the guest may become', () => {
  it('a fresh sign-up: yes (the baseline of the cases below)', () => {
    const w = new World()
    assert.equal(fresh(w, w.insertGuest(), oauth2SignUp(w)), true, 'just made, one link, nothing points at it')
  })
  it('an account of another collection: no', () => {
    const w = new World({ options: { collections: ['users', 'members'] } })
    w.backend.addCollection('members', { fields: authFields() })
    const user = oauth2SignUp(w, {}, 'members')
    assert.equal(fresh(w, w.insertGuest(), user), false, 'a guest becomes an account of its own collection only')
  })
  it('another guest with a fresh link: no (a guest is never adopted)', () => {
    const w = new World()
    const other = w.insertGuest()
    w.backend.linkExternalAuth(other, 'oidc', 'sub-1')
    assert.equal(fresh(w, w.insertGuest(), other), false, 'a guest is not an account')
  })
  it('the link at the edges of its window', () => {
    const w = new World()
    const guest = w.insertGuest()
    const user = oauth2SignUp(w)
    const now = w.clock.now()
    const rows: [string, number, boolean][] = [
      ['linked exactly FRESH_SIGN_UP_SECONDS ago', now - FRESH_SIGN_UP_SECONDS * 1000, true],
      ['linked a second longer ago', now - (FRESH_SIGN_UP_SECONDS + 1) * 1000, false],
      ['linked 60 s in the future (clock skew)', now + 60_000, true],
      ['linked 61 s in the future', now + 61_000, false],
    ]
    for (const [name, at, expected] of rows) {
      linkedAt(w, user, at)
      assert.equal(fresh(w, guest, user), expected, name)
    }
  })
  it('the record itself created long before its fresh link: no', () => {
    const w = new World()
    const guest = w.insertGuest()
    const user = oauth2SignUp(w, { created: date(w.clock.now() - (FRESH_SIGN_UP_SECONDS + 1) * 1000) })
    assert.equal(fresh(w, guest, user), false, 'an old account that linked an identity is not a sign-up')
  })
  it('a collection without `created`: the link alone decides', () => {
    const w = new World({ users: { fields: authFields({ created: null }) } })
    const guest = w.insertGuest()
    const user = oauth2SignUp(w)
    assert.equal(fresh(w, guest, user), true, 'fresh link, no creation date to read')
  })
})

describe('adopting: what the guest takes', () => {
  const fields = authFields({
    name: { type: 'text' },
    website: { type: 'url' },
    bio: { type: 'editor' },
    plan: { type: 'select', values: ['gold'] } as never,
    badge: { type: 'text', system: true },
  })
  it('the text, url and editor fields it has empty; nothing it has; no other type; no system field', () => {
    const w = new World({ users: { fields } })
    const guest = w.signInGuest()
    w.backend.change('users', guest.record.id, { website: '', bio: 'mine', name: '', plan: '', badge: '' })
    const user = oauth2SignUp(w, {
      name: 'Ada',
      website: 'https://ada.test',
      bio: '',
      plan: 'gold',
      badge: 'theirs',
    })
    const result = w.post(guest.cookie).auth.signIn({ token: user.newAuthToken() })
    assert.equal(result.record.id, guest.record.id, 'adopted')
    const row = w.backend.row('users', guest.record.id)!
    assert.equal(row.name, 'Ada', 'a text field the guest left empty is taken')
    assert.equal(row.website, 'https://ada.test', 'a url field is taken')
    assert.equal(row.bio, 'mine', "the guest's own value stays; an empty one does not overwrite it")
    assert.equal(row.plan, '', 'a select is not copied as a string')
    assert.equal(row.badge, '', 'a system field is never copied')
    assert.equal(row.anonymous, false, 'the flag is cleared')
  })
  it("the guest's own text value is kept over the account's", () => {
    const w = new World({ users: { fields } })
    const guest = w.signInGuest()
    w.backend.change('users', guest.record.id, { name: 'Guest', bio: '' })
    const user = oauth2SignUp(w, { name: 'Ada', bio: '<p>hi</p>' })
    w.post(guest.cookie).auth.signIn({ token: user.newAuthToken() })
    const row = w.backend.row('users', guest.record.id)!
    assert.equal(row.name, 'Guest', 'kept')
    assert.equal(row.bio, '<p>hi</p>', 'an editor field is taken')
  })
})

describe('adopting: races and failures', () => {
  it('the guest signed out elsewhere just before (token key rotated): SESSION_ENDED, nothing changed', () => {
    const w = new World()
    const guest = w.signInGuest()
    const user = oauth2SignUp(w)
    w.backend.before('transaction', () => w.backend.change('users', guest.record.id, { tokenKey: 'rotated' }))
    assert.throws(
      () => w.post(guest.cookie).auth.signIn({ token: user.newAuthToken() }),
      { code: 'SESSION_ENDED' },
      'a guest that ended must not become the account',
    )
    assert.ok(w.backend.row('users', user.id), 'the account stays')
    assert.equal(w.backend.row('users', guest.record.id)?.email === 'new@mail.test', false, 'the guest took nothing')
    assert.ok(!w.backend.logs.some((l) => l.level === 'warn'), 'a session end is no failure to log')
  })
  it('the guest upgraded elsewhere just before (no longer a guest): SESSION_ENDED', () => {
    const w = new World()
    const guest = w.signInGuest()
    const user = oauth2SignUp(w)
    w.backend.before('transaction', () => w.backend.change('users', guest.record.id, { anonymous: false }))
    assert.throws(
      () => w.post(guest.cookie).auth.signIn({ token: user.newAuthToken() }),
      { code: 'SESSION_ENDED' },
      'an upgraded guest must not be turned into another account',
    )
    assert.ok(w.backend.row('users', user.id), 'the account stays')
  })
  it('a failure inside the transaction: logged with the guest id, then merged as usual', () => {
    const w = new World()
    const guest = w.signInGuest()
    const user = oauth2SignUp(w)
    w.backend.before('linkExternalAuth', () => {
      throw new Error('disk full')
    })
    const result = w.post(guest.cookie).auth.signIn({ token: user.newAuthToken() })
    assert.equal(result.record.id, user.id, 'the account, as for any other sign-in')
    assert.equal(w.backend.row('users', guest.record.id), null, 'the guest was merged into it')
    const warning = w.backend.logs.find((l) => l.level === 'warn' && l.message.includes('merging instead'))
    assert.ok(warning, `the failure must be logged: ${JSON.stringify(w.backend.logs)}`)
    assert.match(warning.message, /could not turn the guest into the new OAuth2 account/, 'what failed')
    const [k1, v1, k2, v2] = warning.keyValues
    assert.deepEqual([k1, v1, k2], ['guestId', guest.record.id, 'error'], 'the guest id and the error, keyed')
    assert.match(String(v2), /disk full/, 'the error itself')
  })
})
