// Reading the session cookie back (AuthSession.readCookie, verify-token.ts): every hostile cookie
// reads as signed out and is cleared, nothing throws; a valid one signs in, slides and is private.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import jwt from 'jsonwebtoken'
import type { AuthRecord, Backend } from '../../src/core/ports.ts'
import { readSession, verifyToken } from '../../src/core/verify-token.ts'
import { parseUnverifiedClaims } from '../support/fake-backend.ts'
import { outcomeOf, T0, World } from '../support/fake-world.ts'
import { claimsOf, decodeAuthCookie, encodeAuthCookie } from '../support/guest.ts'

const DAY = 86400

/** A cookie line whose value is the SDK format around `token`. */
const withToken = (token: unknown) => `pb_auth=${encodeAuthCookie(token)}`

interface Hostile {
  name: string
  /** Cookie header lines, built in a world that has a guest `g` (and its valid cookie `valid`). */
  lines: (w: World, g: { cookie: string; token: string; id: string }) => string[]
  reason: string
}

const hostile: Hostile[] = [
  { name: 'the cookie twice in one line', lines: (_, g) => [`${g.cookie}; ${g.cookie}`], reason: 'duplicate cookie' },
  {
    name: 'the cookie twice across lines',
    lines: (_, g) => [g.cookie, `a=1; ${g.cookie}`],
    reason: 'duplicate cookie',
  },
  { name: 'a valid cookie plus a tossed one', lines: (_, g) => [g.cookie, 'pb_auth=x'], reason: 'duplicate cookie' },
  { name: 'empty', lines: () => ['pb_auth='], reason: 'malformed cookie' },
  { name: 'oversized', lines: (_, g) => [`${g.cookie}${'%20'.repeat(1400)}`], reason: 'malformed cookie' },
  { name: 'not URL-encoded', lines: () => ['pb_auth=%E0%A4%A'], reason: 'malformed cookie' },
  { name: 'not JSON', lines: () => ['pb_auth=hello'], reason: 'malformed cookie' },
  {
    name: 'JSON without a token',
    lines: () => [`pb_auth=${encodeURIComponent('{"record":{}}')}`],
    reason: 'malformed cookie',
  },
  { name: 'a token that is not a JWT', lines: () => [withToken('not-a-jwt')], reason: 'malformed token' },
  {
    name: 'a JWT without PocketBase claims',
    lines: () => [withToken(jwt.sign({ sub: 'x' }, 'k'))],
    reason: 'malformed token',
  },
  {
    name: 'forged: signed with another key',
    lines: (_, g) => [withToken(jwt.sign(claimsOf(g.token), 'guessed-secret', { noTimestamp: true }))],
    reason: 'token rejected',
  },
  {
    name: "forged: alg 'none'",
    lines: (_, g) => [withToken(jwt.sign(claimsOf(g.token), '', { algorithm: 'none', noTimestamp: true }))],
    reason: 'token rejected',
  },
  {
    name: 'forged: claims of another record under the guest signature',
    lines: (w, g) => {
      const other = w.insertUser()
      const [header, , signature] = g.token.split('.')
      const payload = Buffer.from(JSON.stringify({ ...claimsOf(g.token), id: other.id })).toString('base64url')
      return [withToken(`${header}.${payload}.${signature}`)]
    },
    reason: 'token rejected',
  },
  {
    name: 'expired',
    lines: (w, g) => [
      withToken(w.backend.token(w.backend.findRecordById(w.backend.collection('users'), g.id)!, 'auth', T0 / 1000 - 1)),
    ],
    reason: 'malformed token',
  },
  ...(['file', 'verification', 'passwordReset', 'emailChange'] as const).map(
    (type): Hostile => ({
      name: `a valid ${type} token`,
      lines: (w, g) => [
        withToken(w.backend.token(w.backend.findRecordById(w.backend.collection('users'), g.id)!, type)),
      ],
      reason: 'not an auth token',
    }),
  ),
  {
    name: 'a valid auth token of an unconfigured auth collection',
    lines: (w) => {
      w.backend.addCollection('admins')
      const admin = w.backend.insert('admins', { email: 'root@admin.test', password: 'x' })
      return [withToken(admin.newAuthToken())]
    },
    reason: 'collection not configured',
  },
  {
    name: 'the guest was deleted',
    lines: (w, g) => {
      w.backend.delete(w.backend.findRecordById(w.backend.collection('users'), g.id)!)
      return [g.cookie]
    },
    reason: 'token rejected',
  },
  {
    name: 'the token key was rotated (signed out or upgraded elsewhere)',
    lines: (w, g) => {
      const record = w.backend.findRecordById(w.backend.collection('users'), g.id)!
      record.refreshTokenKey()
      w.backend.save(record)
      return [g.cookie]
    },
    reason: 'token rejected',
  },
]

describe('a hostile session cookie: signed out, cookie cleared, never a throw', () => {
  for (const h of hostile) {
    it(h.name, () => {
      const w = new World()
      const g = w.signInGuest()
      const lines = h.lines(w, { cookie: g.cookie, token: g.token, id: g.record.id })
      const rowsBefore = w.backend.rowsOf('users')
      const visit = w.visit({ cookies: lines })
      assert.deepEqual(outcomeOf(visit), {
        error: null,
        status: null,
        cookie: 'cleared',
        signedIn: null,
        cacheControl: 'private, no-store',
      })
      const [cleared] = visit.exchange.cookiesSet()
      assert.deepEqual([cleared!.value, cleared!.path, cleared!.httpOnly], ['', '/', true])
      assert.equal(cleared!.expires?.getTime(), 0)
      assert.deepEqual(visit.exchange.responseHeader('Vary'), ['Cookie'])
      assert.deepEqual(visit.changes, [], 'nobody was signed in')
      assert.deepEqual(w.backend.rowsOf('users'), rowsBefore, 'reading changes nothing')
      const read = readSession(w.backend, lines, 'pb_auth', ['users'], (t) => parseUnverifiedClaims(t, w.clock))
      assert.deepEqual(read, { state: 'invalid', reason: h.reason })
    })
  }
})

describe('no session cookie: nothing happens', () => {
  const lines: [string, string[]][] = [
    ['no Cookie header', []],
    ['other cookies only', ['a=1; b=2']],
    ['names that only contain the name', ['xpb_auth=1; pb_authx=2']],
  ]
  for (const [name, cookies] of lines) {
    it(name, () => {
      const w = new World()
      const visit = w.visit({ cookies })
      assert.deepEqual(outcomeOf(visit), {
        error: null,
        status: null,
        cookie: 'none',
        signedIn: null,
        cacheControl: null,
      })
      assert.deepEqual(visit.exchange.responseHeaders, [])
      assert.deepEqual([visit.auth.touchedSession, visit.auth.wroteCookie], [false, false])
    })
  }
  it('reads the configured cookie name only', () => {
    const w = new World({ options: { cookie: { name: 'sid' } } })
    const { cookie } = w.signInGuest()
    assert.match(cookie, /^sid=/)
    assert.equal(outcomeOf(w.visit({ cookies: [cookie] })).signedIn, 'guest')
    assert.equal(outcomeOf(w.visit({ cookies: [cookie.replace(/^sid=/, 'pb_auth=')] })).cookie, 'none')
  })
})

describe('a valid session cookie', () => {
  it('signs the request in, enriches the record, and keeps the response private (no-cache, Vary: Cookie)', () => {
    const w = new World()
    const g = w.signInGuest()
    const visit = w.visit({ cookies: ['theme=dark', g.cookie] })
    assert.deepEqual(outcomeOf(visit), {
      error: null,
      status: null,
      cookie: 'none',
      signedIn: 'guest',
      cacheControl: 'private, no-cache',
    })
    assert.equal(visit.auth.currentRecord?.id, g.record.id)
    assert.equal(visit.auth.currentToken, g.token)
    assert.deepEqual(
      visit.exchange.enriched.map((r) => r.id),
      [g.record.id],
    )
    assert.deepEqual(visit.exchange.responseHeader('Vary'), ['Cookie'])
    assert.deepEqual(
      visit.changes.map((r) => r?.id),
      [g.record.id],
    )
    assert.deepEqual([visit.auth.touchedSession, visit.auth.wroteCookie], [true, false])
  })
  it('a full account signs in the same way', () => {
    const w = new World()
    const user = w.insertUser()
    const visit = w.visit({ cookies: [w.cookieFor(user)] })
    assert.equal(outcomeOf(visit).signedIn, 'user')
    assert.equal(visit.auth.currentRecord?.id, user.id)
  })
  it('of a second configured collection signs in too', () => {
    const w = new World({ options: { collections: ['users', 'members'] } })
    w.backend.addCollection('members')
    const member = w.backend.insert('members', { email: 'm@mail.test', password: 'x' })
    assert.equal(w.visit({ cookies: [w.cookieFor(member)] }).auth.currentRecord?.id, member.id)
  })
  it('is refused when a configured collection does not exist (nothing to compare the token with)', () => {
    const w = new World({ options: { collections: ['users', 'ghosts'] } })
    const ghosts = w.backend.addCollection('ghosts')
    const ghost = w.backend.insert('ghosts', { email: 'g@mail.test', password: 'x' })
    const cookie = w.cookieFor(ghost)
    w.backend.db.collections.splice(w.backend.db.collections.indexOf(ghosts), 1)
    assert.equal(outcomeOf(w.visit({ cookies: [cookie] })).cookie, 'cleared')
  })
})

describe('keep-alive: sliding token renewal', () => {
  const week = 7 * DAY
  const cases: [string, number, Record<string, unknown>, boolean][] = [
    ['a fresh token is left alone', 60, {}, false],
    ['exactly half its life used: left alone', week / 2, {}, false],
    ['one second past half its life: renewed', week / 2 + 1, {}, true],
    ['past the configured fraction: renewed', 0.1 * week + 1, { keepAlive: { refreshAfterFraction: 0.1 } }, true],
    ['within the configured fraction: left alone', 0.9 * week, { keepAlive: { refreshAfterFraction: 0.9 } }, false],
  ]
  for (const [name, ageSeconds, options, renewed] of cases) {
    it(name, () => {
      const w = new World({ options })
      const g = w.signInGuest()
      w.clock.advance(ageSeconds)
      const visit = w.visit({ cookies: [g.cookie] })
      const outcome = outcomeOf(visit)
      assert.equal(outcome.cookie, renewed ? 'set' : 'none')
      assert.equal(outcome.cacheControl, renewed ? 'private, no-store' : 'private, no-cache')
      assert.equal(outcome.signedIn, 'guest')
      assert.equal(visit.auth.wroteCookie, renewed)
      if (!renewed) return assert.equal(visit.auth.currentToken, g.token)
      const token = visit.auth.currentToken!
      assert.notEqual(token, g.token)
      assert.equal(claimsOf(token).exp, Math.floor(w.clock.now() / 1000) + week)
      assert.equal(w.backend.findAuthRecordByToken(token)?.id, g.record.id)
      const [set] = visit.exchange.cookiesSet()
      assert.equal(set!.maxAge, week)
      assert.equal(decodeAuthCookie(set!.value).token, token)
      assert.deepEqual(visit.exchange.responseHeader('Vary'), ['Cookie'])
    })
  }
  it('renews a full account too', () => {
    const w = new World()
    const user = w.insertUser()
    const cookie = w.cookieFor(user)
    w.clock.advance(4 * DAY)
    assert.equal(outcomeOf(w.visit({ cookies: [cookie] })).cookie, 'set')
  })
  it('never renews a token PocketBase would not refresh (an impersonation token), however old', () => {
    const w = new World()
    const user = w.insertUser()
    const expires = T0 / 1000 + 60
    const cookie = w.cookieFor(user, w.backend.token(user, 'auth', expires, { refreshable: false }))
    w.clock.advance(59)
    const visit = w.visit({ cookies: [cookie] })
    const outcome = outcomeOf(visit)
    assert.equal(outcome.signedIn, 'user', 'honoured until it expires')
    assert.equal(outcome.cookie, 'none', 'no new token, no new cookie')
    w.clock.advance(2)
    assert.equal(outcomeOf(w.visit({ cookies: [cookie] })).cookie, 'cleared', 'gone once PocketBase says it expired')
  })
  it('never renews a token without the refreshable claim (PocketBase refuses to refresh it too)', () => {
    const w = new World()
    const user = w.insertUser()
    const cookie = w.cookieFor(user, w.backend.token(user, 'auth', undefined, { refreshable: undefined }))
    w.clock.advance(4 * DAY)
    assert.equal(outcomeOf(w.visit({ cookies: [cookie] })).cookie, 'none', 'not renewed')
  })
  it('never renews with a zero token lifetime', () => {
    const w = new World({ users: { tokenDurationSeconds: 0 } })
    const user = w.insertUser()
    const cookie = w.cookieFor(user, w.backend.token(user, 'auth', T0 / 1000 + 60))
    assert.equal(outcomeOf(w.visit({ cookies: [cookie] })).cookie, 'none')
  })
})

describe("keep-alive: a guest's last activity", () => {
  const hour = 3600
  const lastSeenAfter = (seconds: number, options: Record<string, unknown> = {}) => {
    const w = new World({ options })
    const g = w.signInGuest()
    w.clock.advance(seconds)
    w.visit({ cookies: [g.cookie] })
    return w.backend.row('users', g.record.id)!.lastSeen
  }
  it('is written on a visit once the interval has passed', () => {
    assert.equal(lastSeenAfter(hour), '2026-11-30 13:00:00.000Z')
  })
  it('is not written again within the interval', () => {
    assert.equal(lastSeenAfter(hour - 1), '2026-11-30 12:00:00.000Z')
  })
  it('follows the configured interval', () => {
    assert.equal(lastSeenAfter(60, { keepAlive: { lastSeenWriteIntervalSeconds: 60 } }), '2026-11-30 12:01:00.000Z')
  })
  it('is written when never written before, quietly (no save, no `updated` change)', () => {
    const w = new World()
    const guest = w.insertGuest({ lastSeen: '', updated: 'before' })
    w.visit({ cookies: [w.cookieFor(guest)] })
    assert.deepEqual(w.backend.trace, ['writeDateQuietly:lastSeen'])
    assert.deepEqual(
      [w.backend.row('users', guest.id)!.lastSeen, w.backend.row('users', guest.id)!.updated],
      ['2026-11-30 12:00:00.000Z', 'before'],
    )
  })
  it('is never written for a full account, even a flagged one', () => {
    const w = new World()
    for (const user of [w.insertUser(), w.insertUser({ anonymous: true })]) {
      w.visit({ cookies: [w.cookieFor(user)] })
      assert.equal(w.backend.row('users', user.id)!.lastSeen, '')
    }
    assert.deepEqual(w.backend.trace, [])
  })
  it('a failing write is logged and the page stays signed in', () => {
    const w = new World()
    const guest = w.insertGuest()
    w.backend.before('writeDateQuietly', () => {
      throw new Error('database is locked')
    })
    const visit = w.visit({ cookies: [w.cookieFor(guest)] })
    assert.equal(outcomeOf(visit).signedIn, 'guest')
    assert.deepEqual(
      w.backend.logs.map((l) => [l.level, l.message, ...l.keyValues]),
      [
        [
          'warn',
          'pocketpages-plugin-anonymous: could not record guest activity',
          'recordId',
          guest.id,
          'error',
          'Error: database is locked',
        ],
      ],
    )
  })
})

describe('a session from an Authorization header (PocketBase verified it)', () => {
  it('starts signed in as it, reads no cookie, and refuses a guest sign-in for a full account', () => {
    const w = new World()
    const user = w.insertUser()
    const token = user.newAuthToken()
    const visit = w.visit(
      { method: 'POST', headers: { Origin: 'http://app.test' } },
      { load: false, initial: { record: user, token } },
    )
    assert.equal(visit.auth.currentRecord, user)
    assert.equal(visit.auth.currentToken, token)
    assert.throws(() => visit.auth.signInAnonymously(), { code: 'ALREADY_SIGNED_IN' })
  })
})

describe('verifyToken: the token must match what PocketBase resolved', () => {
  const w = new World()
  const guest = w.insertGuest()
  const other = w.insertUser()
  const token = guest.newAuthToken()
  const lying = (record: AuthRecord): Backend =>
    Object.assign(Object.create(w.backend), { findAuthRecordByToken: () => record })
  const parse = (t: string) => parseUnverifiedClaims(t, w.clock)
  it('refuses a record other than the claims name', () => {
    assert.deepEqual(verifyToken(lying(other), token, ['users'], parse), { state: 'invalid', reason: 'token rejected' })
  })
  it('refuses a record of another collection with the same id', () => {
    w.backend.addCollection('members')
    const twin = w.backend.insert('members', { id: guest.id, email: 'm@mail.test' })
    assert.deepEqual(verifyToken(lying(twin), token, ['users', 'members'], parse), {
      state: 'invalid',
      reason: 'token rejected',
    })
  })
  it('accepts the record the claims name', () => {
    assert.equal(verifyToken(w.backend, token, ['users'], parse).state, 'valid')
  })
  it('a missing token is a malformed cookie', () => {
    assert.deepEqual(verifyToken(w.backend, null, ['users'], parse), { state: 'invalid', reason: 'malformed cookie' })
  })
})
