// signInAnonymously(): scenarios against the in-memory PocketBase (test/support/fake-world.ts).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AnonymousAuthError, ErrorCodes } from '../../src/core/errors.ts'
import { isGuestPasswordHash } from '../../src/core/guest-identity.ts'
import type { GuestCheckContext } from '../../src/core/options-types.ts'
import { authFields, type FieldSpec } from '../support/fake-backend.ts'
import type { RequestSpec } from '../support/fake-exchange.ts'
import { outcomeOf, T0, World, type WorldSpec } from '../support/fake-world.ts'
import { decodeAuthCookie } from '../support/guest.ts'

interface Scenario {
  name: string
  world?: WorldSpec
  setup?: (w: World) => string | undefined
  request?: RequestSpec
  collection?: string
  expect: { error: string | null; cookie: 'set' | 'cleared' | 'none'; signedIn: 'guest' | 'user' | null }
  /** Guest records that exist afterwards. */
  guests: number
}

const scenarios: Scenario[] = [
  { name: 'signed out: creates a guest', expect: { error: null, cookie: 'set', signedIn: 'guest' }, guests: 1 },
  {
    name: 'already a guest: the same guest, no new record, no new cookie',
    setup: (w) => w.signInGuest().cookie,
    expect: { error: null, cookie: 'none', signedIn: 'guest' },
    guests: 1,
  },
  {
    name: 'a full account: ALREADY_SIGNED_IN',
    setup: (w) => w.cookieFor(w.insertUser()),
    expect: { error: 'ALREADY_SIGNED_IN', cookie: 'none', signedIn: 'user' },
    guests: 0,
  },
  {
    name: 'a flagged full account (real password): ALREADY_SIGNED_IN',
    setup: (w) => w.cookieFor(w.insertUser({ anonymous: true })),
    expect: { error: 'ALREADY_SIGNED_IN', cookie: 'none', signedIn: 'user' },
    guests: 0,
  },
  {
    name: 'a guest asking for another configured collection: ALREADY_SIGNED_IN',
    world: { options: { collections: ['users', 'members'] } },
    setup: (w) => {
      w.backend.addCollection('members')
      return w.signInGuest().cookie
    },
    collection: 'members',
    expect: { error: 'ALREADY_SIGNED_IN', cookie: 'none', signedIn: 'guest' },
    guests: 1,
  },
  {
    name: 'a collection not in `collections`: COLLECTION_NOT_ALLOWED',
    collection: 'admins',
    expect: { error: 'COLLECTION_NOT_ALLOWED', cookie: 'none', signedIn: null },
    guests: 0,
  },
  {
    name: 'posted from another site: CROSS_SITE_REQUEST',
    request: { headers: { Origin: 'https://evil.test' } },
    expect: { error: 'CROSS_SITE_REQUEST', cookie: 'none', signedIn: null },
    guests: 0,
  },
  {
    name: 'from another site with csrf.enabled false: allowed',
    world: { options: { csrf: { enabled: false } } },
    request: { headers: { Origin: 'https://evil.test' } },
    expect: { error: null, cookie: 'set', signedIn: 'guest' },
    guests: 1,
  },
  {
    name: 'a guest with an invalid cookie: the cookie is cleared, then a new guest is set',
    setup: () => 'pb_auth=garbage',
    expect: { error: null, cookie: 'set', signedIn: 'guest' },
    guests: 1,
  },
]

describe('signInAnonymously: scenarios', () => {
  for (const s of scenarios) {
    it(s.name, () => {
      const w = new World(s.world)
      const cookie = s.setup?.(w)
      const guestsBefore = guestRows(w).map((r) => r.id)
      const visit = w.post(cookie, s.request)
      const outcome = outcomeOf(visit, (auth) =>
        auth.signInAnonymously(s.collection ? { collection: s.collection } : undefined),
      )
      assert.deepEqual({ error: outcome.error, cookie: outcome.cookie, signedIn: outcome.signedIn }, s.expect)
      assert.equal(guestRows(w).length, s.guests)
      if (s.expect.error)
        assert.deepEqual(
          guestRows(w).map((r) => r.id),
          guestsBefore,
          'a refusal creates nothing',
        )
    })
  }
})

function guestRows(w: World) {
  return w.backend.rowsOf('users').filter((r) => r.anonymous === true && isGuestPasswordHash(String(r.password)))
}

describe('signInAnonymously: the guest', () => {
  it('is a guest by both facts: the hidden flag and the password marker; unverified, random email, lastSeen now', () => {
    const w = new World()
    const { record } = w.signInGuest()
    const row = w.backend.row('users', record.id)!
    assert.equal(row.anonymous, true)
    assert.ok(
      isGuestPasswordHash(String(row.password)),
      `the guest's password is the guest marker hash, got ${row.password}`,
    )
    assert.equal(row.verified, false)
    assert.equal(row.emailVisibility, false)
    assert.match(String(row.email), /^anonymous-[a-z0-9]{20}@example\.com$/)
    assert.equal(row.lastSeen, '2026-11-30 12:00:00.000Z')
  })
  it('uses the configured email prefix and domain', () => {
    const w = new World({ options: { emailPrefix: 'Guest.', emailDomain: 'Guests.Example.org' } })
    assert.match(w.signInGuest().record.email(), /^guest\.[a-z0-9]{20}@guests\.example\.org$/)
  })
  it('writes the marker at the password field cost and runs no bcrypt', () => {
    const w = new World({ users: { fields: usersWith({ password: { cost: 12 } }) } })
    const { record } = w.signInGuest()
    assert.match(String(w.backend.row('users', record.id)!.password), /^\$2a\$12\$/)
    assert.equal(w.backend.bcryptCalls.length, 0)
  })
  it('counts the sign-in and inserts the guest in one transaction', () => {
    const w = new World()
    w.signInGuest()
    assert.deepEqual(
      w.backend.trace,
      ['tx:begin', 'counters.addBelow', 'save:users', 'counters.add', 'tx:commit'],
      'the limit, the insert and the stats count (counters.add) share the transaction',
    )
  })
  it('returns a PocketBase auth token of the new record, and the request is signed in as it', () => {
    const w = new World()
    const { auth, changes } = w.post()
    const { token, record } = auth.signInAnonymously()
    assert.equal(w.backend.findAuthRecordByToken(token)?.id, record.id)
    assert.equal(auth.currentRecord, record)
    assert.equal(auth.currentToken, token)
    assert.deepEqual(changes, [record])
  })
  it('already a guest: hands back the same token and record', () => {
    const w = new World()
    const first = w.signInGuest()
    const { auth } = w.post(first.cookie)
    const again = auth.signInAnonymously()
    assert.equal(again.token, first.token)
    assert.equal(again.record.id, first.record.id)
  })
})

describe('signInAnonymously: the cookie', () => {
  const cases: [string, WorldSpec, RequestSpec, string][] = [
    ['plain HTTP: HttpOnly, SameSite=Lax, Path=/, no Secure', {}, {}, 'Max-Age=604800; Path=/; HttpOnly; SameSite=Lax'],
    ['over TLS: Secure', {}, { tls: true }, 'Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax'],
    [
      'behind a TLS proxy (X-Forwarded-Proto: https): Secure',
      {},
      { headers: { 'X-Forwarded-Proto': 'https' } },
      'Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax',
    ],
    [
      'X-Forwarded-Proto: the first hop counts, any case',
      {},
      { headers: { 'X-Forwarded-Proto': ' HTTPS , http' } },
      'Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax',
    ],
    [
      'X-Forwarded-Proto: http first is not HTTPS',
      {},
      { headers: { 'X-Forwarded-Proto': 'http, https' } },
      'Max-Age=604800; Path=/; HttpOnly; SameSite=Lax',
    ],
    [
      'cookie.secure true: Secure over plain HTTP',
      { options: { cookie: { secure: true } } },
      {},
      'Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax',
    ],
    [
      'cookie.secure false: no Secure over TLS',
      { options: { cookie: { secure: false } } },
      { tls: true },
      'Max-Age=604800; Path=/; HttpOnly; SameSite=Lax',
    ],
    [
      'every cookie option',
      { options: { cookie: { name: 'sid', path: '/app', domain: 'app.test', httpOnly: false, sameSite: 'Strict' } } },
      {},
      'Max-Age=604800; Domain=app.test; Path=/app; SameSite=Strict',
    ],
    [
      'Max-Age is the collection token lifetime',
      { users: { tokenDurationSeconds: 3600 } },
      {},
      'Max-Age=3600; Path=/; HttpOnly; SameSite=Lax',
    ],
  ]
  for (const [name, spec, request, attributes] of cases) {
    it(name, () => {
      const w = new World(spec)
      const { exchange, auth } = w.post(undefined, request)
      auth.signInAnonymously()
      assert.equal(exchange.setCookies.length, 1)
      const [pair, ...rest] = exchange.setCookies[0]!.split('; ')
      const expires = rest.findIndex((a) => a.startsWith('Expires='))
      assert.ok(expires >= 0, `the session cookie has an Expires attribute: ${exchange.setCookies[0]}`)
      const lifetime = Number(/Max-Age=(\d+)/.exec(attributes)![1])
      assert.equal(rest[expires], `Expires=${new Date(T0 + lifetime * 1000).toUTCString()}`)
      rest.splice(expires, 1)
      assert.equal(rest.join('; '), attributes)
      assert.match(pair!, new RegExp(`^${w.options.cookie.name}=`))
    })
  }
  it('holds the token and a copy of the record in the PocketBase SDK format', () => {
    const w = new World()
    const { exchange, auth } = w.post()
    const { token, record } = auth.signInAnonymously()
    const value = decodeAuthCookie(exchange.cookiesSet()[0]!.value)
    assert.deepEqual(value, {
      token,
      record: {
        id: record.id,
        collectionId: 'pbc_users',
        collectionName: 'users',
        email: record.email(),
        verified: false,
        anonymous: true,
      },
    })
  })
  it('makes the response private and uncacheable, varying on Cookie', () => {
    const w = new World()
    const { exchange, auth } = w.post()
    auth.signInAnonymously()
    assert.deepEqual(exchange.responseHeader('Cache-Control'), ['private, no-store'])
    assert.deepEqual(exchange.responseHeader('Vary'), ['Cookie'])
    assert.deepEqual([auth.touchedSession, auth.wroteCookie], [true, true])
  })
})

describe('signInAnonymously: beforeGuestSignIn (a human check)', () => {
  const refusals: [string, () => unknown][] = [
    ['returns false', () => false],
    ['returns undefined', () => undefined],
    ['returns a truthy non-boolean', () => 'yes'],
    [
      'throws',
      () => {
        throw new Error('captcha service down')
      },
    ],
  ]
  for (const [name, check] of refusals) {
    it(`refuses with HUMAN_CHECK_FAILED (403) when the check ${name}, before counting the sign-in`, () => {
      const w = new World({ options: { beforeGuestSignIn: check } })
      const outcome = outcomeOf(w.post(), (auth) => auth.signInAnonymously())
      assert.deepEqual([outcome.error, outcome.status, outcome.cookie], ['HUMAN_CHECK_FAILED', 403, 'none'])
      assert.deepEqual(w.backend.trace, [], 'no count, no record')
    })
  }
  it('logs the check failure without letting the sign-in through', () => {
    const w = new World({
      options: {
        beforeGuestSignIn: () => {
          throw new Error('captcha service down')
        },
      },
    })
    outcomeOf(w.post(), (auth) => auth.signInAnonymously())
    assert.deepEqual(
      w.backend.logs.map((l) => [l.level, l.message, ...l.keyValues]),
      [
        [
          'warn',
          'pocketpages-plugin-anonymous: beforeGuestSignIn threw; the sign-in was refused',
          'error',
          'Error: captcha service down',
        ],
      ],
    )
  })
  it('passes a plugin error thrown by the check through unchanged', () => {
    const w = new World({
      options: {
        beforeGuestSignIn: () => {
          throw new AnonymousAuthError(ErrorCodes.RATE_LIMITED, 'slow down', { retryAfterSeconds: 5 })
        },
      },
    })
    assert.equal(outcomeOf(w.post(), (auth) => auth.signInAnonymously()).error, 'RATE_LIMITED')
  })
  it('lets the sign-in through on true, handing it the request, the client IP and the app', () => {
    const seen: GuestCheckContext[] = []
    const w = new World({
      options: {
        beforeGuestSignIn: (context: GuestCheckContext) => {
          seen.push(context)
          return true
        },
      },
    })
    const outcome = outcomeOf(w.post(undefined, { ip: '203.0.113.9' }), (auth) => auth.signInAnonymously())
    assert.equal(outcome.signedIn, 'guest')
    assert.deepEqual(seen, [{ request: { fake: 'request' }, clientIp: '203.0.113.9', app: { app: 'outer' } }])
  })
  it('is not asked when the request is refused for another reason first', () => {
    let asked = 0
    const w = new World({ options: { beforeGuestSignIn: () => ++asked > 0 } })
    outcomeOf(w.post(undefined, { headers: { Origin: 'https://evil.test' } }), (auth) => auth.signInAnonymously())
    assert.equal(asked, 0)
  })
})

describe('signInAnonymously: what the collection refuses', () => {
  it('a custom required field with no value: UNFILLABLE_REQUIRED_FIELD naming it', () => {
    const w = new World({ users: { fields: usersWith({ nickname: { type: 'text', required: true } }) } })
    assert.throws(
      () => w.signInGuest(),
      (e: AnonymousAuthError) => e.code === 'UNFILLABLE_REQUIRED_FIELD' && /'nickname'/.test(e.message),
    )
  })
  it("an email domain the field refuses: CREATE_FAILED naming the option 'emailDomain'", () => {
    const w = new World({ users: { fields: usersWith({ email: { onlyDomains: ['corp.test'] } }) } })
    assert.throws(
      () => w.signInGuest(),
      (e: AnonymousAuthError) =>
        e.code === 'CREATE_FAILED' &&
        e.message ===
          "Collection 'users' rejected the guest email (Email domain is not allowed). Allow the domain 'example.com' in the email field's domain lists, or set the plugin option 'emailDomain'.",
    )
  })
  it('a hook refusing the save: CREATE_FAILED with its message, and the count rolled back', () => {
    const w = new World()
    w.backend.before('save', () => {
      throw new Error('GoError: the app refused guests today.')
    })
    assert.throws(
      () => w.signInGuest(),
      (e: AnonymousAuthError) =>
        e.code === 'CREATE_FAILED' &&
        e.message ===
          "Could not create a guest in collection 'users': the app refused guests today. Check the collection's fields and any onRecordCreate hooks.",
    )
    assert.deepEqual(w.backend.counterRows(), [])
  })
  it('the counters table missing (migration not run): MIGRATION_MISSING', () => {
    const w = new World()
    w.backend.dropCountersTable()
    assert.throws(() => w.signInGuest(), { code: 'MIGRATION_MISSING', status: 500 })
  })
  it('a plugin error inside the transaction is not mistaken for a missing migration', () => {
    const w = new World({ options: { rateLimit: { perNetwork: 1 } } })
    w.signInGuest()
    Object.assign(w.backend, { countersReady: () => false })
    assert.throws(() => w.signInGuest(), { code: 'RATE_LIMITED' })
  })
  it('a database error with the migration in place comes out unchanged', () => {
    const w = new World()
    w.backend.before('counters.addBelow', () => {
      throw new Error('database is locked')
    })
    assert.throws(() => w.signInGuest(), { message: 'database is locked' })
  })
  it('a missing collection, a base collection, a missing or visible field: the configuration error', () => {
    const cases: [WorldSpec['users'], string][] = [
      [{ type: 'base' }, 'NOT_AUTH_COLLECTION'],
      [{ fields: usersWith({ anonymous: null }) }, 'MISSING_FIELD'],
      [{ fields: usersWith({ lastSeen: { hidden: false } }) }, 'UNPROTECTED_FIELD'],
    ]
    for (const [users, code] of cases) {
      assert.throws(() => new World({ users }).signInGuest(), { code })
    }
    const w = new World({ options: { collection: 'members' } })
    assert.throws(() => w.signInGuest(), { code: 'COLLECTION_NOT_FOUND' })
  })
})

describe('signInAnonymously: email clashes', () => {
  it('retries with a new random email, at most three times in all', () => {
    const w = new World()
    let saves = 0
    w.backend.before(
      'save',
      () => {
        saves++
        throw new Error('email: Value must be unique.')
      },
      3,
    )
    assert.throws(
      () => w.signInGuest(),
      (e: AnonymousAuthError) => e.code === 'CREATE_FAILED' && /Value must be unique/.test(e.message),
    )
    assert.equal(saves, 3)
  })
  it('succeeds when a retry finds a free email', () => {
    const w = new World()
    w.backend.before(
      'save',
      () => {
        throw new Error('email: Value must be unique.')
      },
      2,
    )
    assert.ok(w.signInGuest().record.id, 'the retried sign-in returns a guest')
  })
})

/** The default users fields with some changed (`null` removes one). */
function usersWith(overrides: Record<string, Partial<FieldSpec> | null>): FieldSpec[] {
  return authFields(overrides)
}
