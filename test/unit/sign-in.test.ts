// signIn({ token }): signing the browser in to an account with a token the app obtained, merging
// a guest session into it first (mergeOnSignIn).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import jwt from 'jsonwebtoken'
import { type FakeRecord, fakeBcrypt } from '../support/fake-backend.ts'
import type { RequestSpec } from '../support/fake-exchange.ts'
import { outcomeOf, World, type WorldSpec } from '../support/fake-world.ts'
import { decodeAuthCookie } from '../support/guest.ts'

interface Scenario {
  name: string
  world?: WorldSpec
  /** The session the browser holds ('none', a guest, a full user) and the account signed in to. */
  from: 'none' | 'guest' | 'user'
  to: 'user' | 'guest' | 'same-guest'
  request?: RequestSpec
  expect: { error: string | null; signedIn: 'guest' | 'user' | null; cookie: 'set' | 'none' }
  merged: boolean
}

const scenarios: Scenario[] = [
  { name: 'signed out: signs in', from: 'none', to: 'user', expect: ok('user'), merged: false },
  { name: 'a guest: merged into the account', from: 'guest', to: 'user', expect: ok('user'), merged: true },
  {
    name: 'a guest, mergeOnSignIn off: the guest stays',
    world: { options: { mergeOnSignIn: false } },
    from: 'guest',
    to: 'user',
    expect: ok('user'),
    merged: false,
  },
  {
    name: 'a guest signing in to another guest: no merge',
    from: 'guest',
    to: 'guest',
    expect: ok('guest'),
    merged: false,
  },
  {
    name: 'a guest signing in to itself: no merge',
    from: 'guest',
    to: 'same-guest',
    expect: ok('guest'),
    merged: false,
  },
  { name: 'a full account switching accounts: no merge', from: 'user', to: 'user', expect: ok('user'), merged: false },
  {
    name: 'a cross-site POST: CROSS_SITE_REQUEST',
    from: 'guest',
    to: 'user',
    request: { headers: { Origin: 'https://evil.test' } },
    expect: { error: 'CROSS_SITE_REQUEST', signedIn: 'guest', cookie: 'none' },
    merged: false,
  },
  {
    name: 'a cross-site PUT: CROSS_SITE_REQUEST',
    from: 'none',
    to: 'user',
    request: { method: 'PUT', headers: { Origin: 'https://evil.test' } },
    expect: { error: 'CROSS_SITE_REQUEST', signedIn: null, cookie: 'none' },
    merged: false,
  },
  ...['GET', 'get', 'HEAD', 'OPTIONS'].map(
    (method): Scenario => ({
      name: `a cross-site ${method} (an OAuth2 callback): allowed`,
      from: 'guest',
      to: 'user',
      request: { method, headers: { Origin: 'https://idp.test', Referer: 'https://idp.test/authorize' } },
      expect: ok('user'),
      merged: true,
    }),
  ),
]

function ok(signedIn: 'guest' | 'user') {
  return { error: null, signedIn, cookie: 'set' as const }
}

describe('signIn: scenarios', () => {
  for (const s of scenarios) {
    it(s.name, () => {
      const w = new World(s.world)
      const from = s.from === 'guest' ? w.signInGuest().record : s.from === 'user' ? w.insertUser() : undefined
      const to = s.to === 'user' ? w.insertUser() : s.to === 'guest' ? w.insertGuest() : (from as FakeRecord)
      const visit = w.visit({
        method: 'POST',
        headers: { Origin: 'http://app.test' },
        ...s.request,
        cookies: from ? [w.cookieFor(from)] : [],
      })
      const token = to.newAuthToken()
      const outcome = outcomeOf(visit, (auth) => auth.signIn({ token }))
      assert.deepEqual({ error: outcome.error, signedIn: outcome.signedIn, cookie: outcome.cookie }, s.expect)
      if (!s.expect.error) {
        assert.equal(visit.auth.currentRecord?.id, to.id)
        assert.equal(visit.auth.currentToken, token)
        const value = decodeAuthCookie(visit.exchange.cookiesSet().at(-1)!.value)
        assert.deepEqual(
          [value.token, value.record.id, value.record.anonymous],
          [token, to.id, s.expect.signedIn === 'guest'],
        )
      }
      if (from) assert.equal(w.backend.row('users', from.id) === null, s.merged, s.merged ? 'merged away' : 'kept')
    })
  }
})

describe('signIn: merging the guest', () => {
  it("ends the guest's session, moves its records to the account, then deletes the guest, in short transactions", () => {
    const w = new World()
    w.addNotes()
    const guest = w.signInGuest()
    const note = w.backend.insert('notes', { owner: guest.record.id })
    const user = w.insertUser()
    const { auth } = w.post(guest.cookie)
    const before = w.backend.trace.length
    auth.signIn({ token: user.newAuthToken() })
    assert.equal(w.backend.row('notes', note.id)!.owner, user.id)
    assert.equal(w.backend.row('users', guest.record.id), null)
    assert.deepEqual(
      w.backend.trace.slice(before),
      [
        ...['tx:begin', 'merges.insert', 'writeQuietly:tokenKey', 'tx:commit'],
        ...['tx:begin', 'save:notes', 'tx:commit'],
        ...['tx:begin', 'delete:users', 'counters.add', 'tx:commit'],
        ...['tx:begin', 'merges.remove', 'tx:commit'],
      ],
      'journal and session end, one batch of moves, the deletion with the stats count (counters.add), the purge',
    )
  })
  it('runs the onMerge hook instead when one is configured', () => {
    const calls: string[] = []
    const w = new World({
      options: {
        onMerge: ({ guest, user }: { guest: FakeRecord; user: FakeRecord }) => calls.push(`${guest.id}->${user.id}`),
      },
    })
    const guest = w.signInGuest()
    const user = w.insertUser()
    w.post(guest.cookie).auth.signIn({ token: user.newAuthToken() })
    assert.deepEqual(calls, [`${guest.record.id}->${user.id}`])
  })
})

describe('signIn: an account of another collection with the same id as the guest', () => {
  it('is another account: the guest is merged into it', () => {
    const w = new World({ options: { collections: ['users', 'members'] } })
    w.backend.addCollection('members')
    const g = w.signInGuest()
    const member = w.backend.insert('members', { id: g.record.id, email: 'm@mail.test', password: fakeBcrypt('pw') })
    w.post(g.cookie).auth.signIn({ token: member.newAuthToken() })
    assert.equal(w.backend.row('users', g.record.id), null)
  })
})

describe('signIn: a guest upgraded by another request meanwhile', () => {
  it('signs in to the upgraded account without merging it into itself', () => {
    const w = new World()
    const g = w.signInGuest()
    const visit = w.post(g.cookie)
    // Another tab saved the guest as an account; this request still holds the guest it read.
    w.backend.change('users', g.record.id, { anonymous: false, password: fakeBcrypt('pw'), tokenKey: 'new' })
    const upgraded = w.backend.findRecordById(w.backend.collection('users'), g.record.id)!
    const outcome = outcomeOf(visit, (auth) => auth.signIn({ token: upgraded.newAuthToken() }))
    assert.deepEqual([outcome.error, outcome.signedIn], [null, 'user'])
    assert.equal(w.backend.row('users', g.record.id)?.anonymous, false)
  })
})

describe('signIn: tokens it refuses (INVALID_TOKEN, 400)', () => {
  const refused: [string, (w: World, user: FakeRecord) => unknown][] = [
    ['no argument', () => undefined],
    ['null', () => null],
    ['no token', () => ({})],
    ['a token that is not a string', () => ({ token: 42 })],
    ['an empty token', () => ({ token: '' })],
    ['garbage', () => ({ token: 'garbage' })],
    ['expired', (w, user) => ({ token: w.backend.token(user, 'auth', w.clock.now() / 1000 - 1) })],
    ['a file token', (w, user) => ({ token: w.backend.token(user, 'file') })],
    [
      'an impersonation token (refreshable: false)',
      (w, user) => ({ token: w.backend.token(user, 'auth', undefined, { refreshable: false }) }),
    ],
    ['forged', (_, user) => ({ token: jwt.sign(jwt.decode(user.newAuthToken()) as object, 'guess') })],
    [
      'of an unconfigured collection',
      (w) => {
        w.backend.addCollection('admins')
        return { token: w.backend.insert('admins', { email: 'a@a.test' }).newAuthToken() }
      },
    ],
  ]
  for (const [name, input] of refused) {
    it(name, () => {
      const w = new World()
      const user = w.insertUser()
      const visit = w.post()
      const argument = input(w, user)
      const outcome = outcomeOf(visit, (auth) => auth.signIn(argument as { token: string }))
      assert.deepEqual(
        [outcome.error, outcome.status, outcome.cookie, outcome.signedIn],
        ['INVALID_TOKEN', 400, 'none', null],
      )
    })
  }
  it('says why, and never echoes the token', () => {
    const w = new World({ options: { collections: ['users', 'members'] } })
    const user = w.insertUser()
    const token = w.backend.token(user, 'verification')
    assert.throws(
      () => w.post().auth.signIn({ token }),
      (e: Error) =>
        e.message ===
          "signIn() needs a valid, refreshable auth token of a collection in the plugin option 'collections' ([users, members]); this one was refused (not an auth token)." &&
        !e.message.includes(token),
    )
    assert.throws(() => w.post().auth.signIn({}), /was refused \(malformed cookie\)\.$/)
  })
})
