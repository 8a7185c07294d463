// upgradeAnonymousUser(): a guest becomes a full account in place. Cheapest check first: shape,
// then the failure throttle, then PocketBase's validation, then bcrypt OUTSIDE the transaction,
// then one short transaction that re-checks the session.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { FakeRecord } from '../support/fake-backend.ts'
import { authFields } from '../support/fake-backend.ts'
import { outcomeOf, World, type WorldSpec } from '../support/fake-world.ts'
import { decodeAuthCookie } from '../support/guest.ts'

const input = (email = 'new@mail.test', password = 'correct horse', passwordConfirm = password) => ({
  email,
  password,
  passwordConfirm,
})

function guestWorld(spec: WorldSpec = {}) {
  const w = new World(spec)
  const g = w.signInGuest()
  const traceStart = w.backend.trace.length
  return { w, g, visit: w.post(g.cookie), newTrace: () => w.backend.trace.slice(traceStart) }
}

describe('upgradeAnonymousUser: a successful upgrade', () => {
  it('keeps the id, sets email and password, clears the flag, rotates the token key, signs in as the account', () => {
    const { w, g, visit } = guestWorld()
    const before = w.backend.row('users', g.record.id)!
    const { token, record } = visit.auth.upgradeAnonymousUser(input('  New@Mail.test ', 'pass word 1'))
    const after = w.backend.row('users', g.record.id)!
    assert.equal(record.id, g.record.id)
    assert.equal(after.email, 'New@Mail.test')
    assert.equal(after.anonymous, false)
    assert.equal(after.verified, false)
    assert.notEqual(after.tokenKey, before.tokenKey)
    assert.ok(w.backend.passwordMatches(g.record, 'pass word 1'), 'the upgraded account signs in with its new password')
    assert.equal(w.backend.findAuthRecordByToken(g.token), null, 'the guest tokens stopped working')
    assert.equal(w.backend.findAuthRecordByToken(token)?.id, g.record.id)
    const outcome = outcomeOf(visit)
    assert.deepEqual([outcome.signedIn, outcome.cookie, outcome.cacheControl], ['user', 'set', 'private, no-store'])
    const cookie = decodeAuthCookie(visit.exchange.cookiesSet().at(-1)!.value)
    assert.deepEqual([cookie.token, cookie.record.anonymous, cookie.record.email], [token, false, 'New@Mail.test'])
  })
  it('does the work in order: throttle, validation, bcrypt outside the transaction, then one short transaction', () => {
    const { w, visit, newTrace } = guestWorld()
    visit.auth.upgradeAnonymousUser(input())
    assert.deepEqual(newTrace(), [
      'tx:begin',
      'counters.total',
      'counters.total',
      'counters.add',
      'counters.add',
      'tx:commit',
      'validate',
      'bcrypt',
      'tx:begin',
      'save:users',
      'counters.add', // the stats count, in the upgrade's transaction
      'tx:commit',
      'counters.add',
      'counters.add',
    ])
    assert.deepEqual(w.backend.bcryptCalls, [{ password: 'correct horse', inTransaction: false }])
  })
  it('takes the attempt back: a success does not count against the guest or the network', () => {
    const { w, visit } = guestWorld()
    visit.auth.upgradeAnonymousUser(input())
    const failures = w.backend.counterRows().filter((r) => r.bucket.startsWith('fail/'))
    assert.deepEqual(
      failures.map((r) => [r.bucket.replace(/[0-9a-f]{32}$/, 'HASH'), r.count]),
      [
        ['fail/upgrade:HASH', 0],
        ['fail/upgrade/network:HASH', 0],
      ],
    )
  })
  it('unverifies: a new email is not verified', () => {
    const w = new World()
    const guest = w.insertGuest({ verified: true })
    w.post(w.cookieFor(guest)).auth.upgradeAnonymousUser(input())
    assert.equal(w.backend.row('users', guest.id)!.verified, false)
  })
  it('validates the record as it will be saved: the new email, no longer flagged', () => {
    const { w, g, visit } = guestWorld()
    const seen: unknown[] = []
    w.backend.before('validate', ([record]) => {
      const r = record as FakeRecord
      seen.push([r.id, r.email(), r.getBool('anonymous'), r.plain])
    })
    visit.auth.upgradeAnonymousUser(input())
    assert.deepEqual(seen, [[g.record.id, 'new@mail.test', false, 'correct horse']])
  })
  it('an email of 255 characters passes the shape check', () => {
    const { visit } = guestWorld()
    const email = `${'a'.repeat(245)}@mail.test`
    assert.equal(email.length, 255)
    assert.equal(outcomeOf(visit, (auth) => auth.upgradeAnonymousUser(input(email))).error, null)
  })
  it('a taken email is found before PocketBase validates anything', () => {
    const { w, visit, newTrace } = guestWorld()
    w.insertUser({ email: 'new@mail.test' })
    assert.throws(() => visit.auth.upgradeAnonymousUser(input()), { code: 'EMAIL_TAKEN' })
    assert.ok(!newTrace().includes('validate'), 'EMAIL_TAKEN is decided before PocketBase validates')
  })
  it('an email taken meanwhile is found in the transaction, before any save is tried', () => {
    const { w, visit } = guestWorld()
    w.backend.before('hashPassword', () => w.insertUser({ email: 'new@mail.test' }))
    let saves = 0
    w.backend.before('save', () => saves++, 10)
    assert.throws(() => visit.auth.upgradeAnonymousUser(input()), { code: 'EMAIL_TAKEN' })
    assert.equal(saves, 0)
  })
  it("may keep the guest's own email", () => {
    const { w, g, visit } = guestWorld()
    visit.auth.upgradeAnonymousUser(input(g.record.email()))
    assert.equal(w.backend.row('users', g.record.id)!.anonymous, false)
  })
  it('accepts a password of exactly 72 bytes', () => {
    const { visit } = guestWorld()
    assert.equal(
      outcomeOf(visit, (auth) => auth.upgradeAnonymousUser(input(undefined, `${'é'.repeat(35)}ab`))).error,
      null,
    )
  })
  it('sends the verification email when asked; a failure to send is logged and the upgrade stands', () => {
    const { w, visit } = guestWorld({ options: { upgrade: { sendVerificationEmail: true } } })
    w.backend.before('sendVerificationEmail', () => {
      throw new Error('smtp down')
    })
    const { record } = visit.auth.upgradeAnonymousUser(input())
    assert.equal(w.backend.row('users', record.id)!.anonymous, false)
    assert.deepEqual(
      w.backend.logs.map((l) => [l.level, l.message, ...l.keyValues]),
      [
        [
          'warn',
          'pocketpages-plugin-anonymous: sending the verification email failed',
          'recordId',
          record.id,
          'error',
          'Error: smtp down',
        ],
      ],
    )
    const again = guestWorld({ options: { upgrade: { sendVerificationEmail: true } } })
    again.visit.auth.upgradeAnonymousUser(input('second@mail.test'))
    assert.deepEqual(again.w.backend.sentEmails, ['second@mail.test'])
    const off = guestWorld()
    off.visit.auth.upgradeAnonymousUser(input())
    assert.deepEqual(off.w.backend.sentEmails, [])
  })
})

interface Refusal {
  name: string
  world?: WorldSpec
  /** Returns the upgrade input; may change the world first. */
  arrange?: (w: World, guest: FakeRecord) => unknown
  code: string
  status: number
  fieldErrors?: Record<string, string>
  /** Whether the attempt reached the throttle (counted as a failure) and bcrypt. */
  counted: boolean
  bcrypt: boolean
}

const refusals: Refusal[] = [
  // 1. shape: no database, no count
  ...(
    [
      ['no email', input(''), { email: 'Enter an email address.' }],
      ['a blank email', input('   '), { email: 'Enter an email address.' }],
      ['an email over 255 characters', input(`${'a'.repeat(247)}@mail.test`), { email: 'Use at most 255 characters.' }],
      ['no password', input(undefined, ''), { password: 'Enter a password.' }],
      [
        'a password over 72 bytes',
        input(undefined, `${'é'.repeat(36)}a`),
        { password: 'Use at most 72 bytes (fewer characters outside ASCII).' },
      ],
      [
        'passwords that differ',
        input(undefined, 'correct horse', 'correct house'),
        { passwordConfirm: 'The passwords do not match.' },
      ],
      ['no input at all', null, { email: 'Enter an email address.', password: 'Enter a password.' }],
      [
        'values that are not strings',
        { email: ['a@b.test'], password: 12345678, passwordConfirm: 12345678 },
        { email: 'Enter an email address.', password: 'Enter a password.' },
      ],
    ] as [string, unknown, Record<string, string>][]
  ).map(
    ([name, value, fieldErrors]): Refusal => ({
      name,
      arrange: () => value,
      code: 'VALIDATION_FAILED',
      status: 400,
      fieldErrors,
      counted: false,
      bcrypt: false,
    }),
  ),
  // 3. PocketBase's validation: counted, no bcrypt
  {
    name: 'an email of another account (any case)',
    arrange: (w) => {
      w.insertUser({ email: 'taken@mail.test' })
      return input('Taken@Mail.TEST')
    },
    code: 'EMAIL_TAKEN',
    status: 409,
    fieldErrors: { email: 'Already in use.' },
    counted: true,
    bcrypt: false,
  },
  {
    name: 'a password under the field minimum',
    arrange: () => input(undefined, 'short'),
    code: 'VALIDATION_FAILED',
    status: 400,
    fieldErrors: { password: 'Must be at least 8 character(s)' },
    counted: true,
    bcrypt: false,
  },
  {
    name: 'a password against the field pattern',
    world: { users: { fields: authFields({ password: { pattern: '[0-9]' } }) } },
    arrange: () => input(undefined, 'no digits here'),
    code: 'VALIDATION_FAILED',
    status: 400,
    fieldErrors: { password: 'Invalid value format' },
    counted: true,
    bcrypt: false,
  },
  {
    name: 'an invalid email',
    arrange: () => input('not-an-email'),
    code: 'VALIDATION_FAILED',
    status: 400,
    fieldErrors: { email: 'Must be a valid email address' },
    counted: true,
    bcrypt: false,
  },
  // 5. the transaction re-checks the session
  {
    name: 'the guest signed out meanwhile (token key rotated before the transaction)',
    arrange: (w, guest) => {
      w.backend.before('hashPassword', () => w.backend.change('users', guest.id, { tokenKey: 'rotated' }))
      return input()
    },
    code: 'SESSION_ENDED',
    status: 409,
    counted: true,
    bcrypt: true,
  },
  {
    name: 'another request upgraded the guest meanwhile',
    arrange: (w, guest) => {
      w.backend.before('hashPassword', () =>
        w.backend.change('users', guest.id, { tokenKey: 'rotated', anonymous: false, email: 'other@mail.test' }),
      )
      return input()
    },
    code: 'SESSION_ENDED',
    status: 409,
    counted: true,
    bcrypt: true,
  },
  {
    name: 'the guest was merged away meanwhile',
    arrange: (w, guest) => {
      w.backend.before('hashPassword', () => w.backend.remove('users', guest.id))
      return input()
    },
    code: 'SESSION_ENDED',
    status: 409,
    counted: true,
    bcrypt: true,
  },
  {
    name: "the guest's flag was cleared meanwhile (same token key)",
    arrange: (w, guest) => {
      w.backend.before('hashPassword', () => w.backend.change('users', guest.id, { anonymous: false }))
      return input()
    },
    code: 'NOT_ANONYMOUS',
    status: 403,
    counted: true,
    bcrypt: true,
  },
  {
    name: 'the email was taken meanwhile',
    arrange: (w) => {
      w.backend.before('hashPassword', () => w.insertUser({ email: 'new@mail.test' }))
      return input()
    },
    code: 'EMAIL_TAKEN',
    status: 409,
    fieldErrors: { email: 'Already in use.' },
    counted: true,
    bcrypt: true,
  },
  {
    name: 'the save hits the unique index',
    arrange: (w) => {
      w.backend.before('save', () => {
        throw new Error('GoError: email: Value must be unique.')
      })
      return input()
    },
    code: 'EMAIL_TAKEN',
    status: 409,
    fieldErrors: { email: 'Already in use.' },
    counted: true,
    bcrypt: true,
  },
  {
    name: 'the save refuses a field',
    arrange: (w) => {
      w.backend.before('save', () => {
        throw new Error('email: Email domain is not allowed; name: Cannot be blank.')
      })
      return input()
    },
    code: 'VALIDATION_FAILED',
    status: 400,
    fieldErrors: { email: 'Email domain is not allowed', name: 'Cannot be blank' },
    counted: true,
    bcrypt: true,
  },
]

describe('upgradeAnonymousUser: refusals change nothing', () => {
  for (const r of refusals) {
    it(`${r.name}: ${r.code}`, () => {
      const { w, g, visit } = guestWorld(r.world)
      const value = r.arrange?.(w, g.record)
      const rows = w.backend.rowsOf('users').filter((row) => row.id === g.record.id)
      let thrown: { fieldErrors?: unknown } = {}
      const outcome = outcomeOf(visit, (auth) => {
        try {
          auth.upgradeAnonymousUser(value as ReturnType<typeof input>)
        } catch (error) {
          thrown = error as typeof thrown
          throw error
        }
      })
      assert.deepEqual(
        [outcome.error, outcome.status, outcome.cookie, outcome.signedIn],
        [r.code, r.status, 'none', 'guest'],
      )
      assert.deepEqual(thrown.fieldErrors, r.fieldErrors)
      if (!r.bcrypt) {
        assert.deepEqual(
          w.backend.rowsOf('users').filter((row) => row.id === g.record.id),
          rows,
        )
      }
      assert.equal(w.backend.bcryptCalls.length, r.bcrypt ? 1 : 0)
      const failures = w.backend.counterRows().filter((c) => c.bucket.startsWith('fail/upgrade'))
      assert.deepEqual(
        failures.map((c) => c.count),
        r.counted ? [1, 1] : [],
      )
    })
  }
  it('describes every field in the message', () => {
    const { visit } = guestWorld()
    assert.throws(() => visit.auth.upgradeAnonymousUser(input('', 'a', 'b')), {
      message: 'email: Enter an email address. passwordConfirm: The passwords do not match.',
    })
  })
  it('a save failure that is not a validation error says so', () => {
    const { w, visit } = guestWorld()
    w.backend.before('save', () => {
      throw new Error('GoError: disk full.')
    })
    assert.throws(() => visit.auth.upgradeAnonymousUser(input()), {
      code: 'VALIDATION_FAILED',
      message: 'The account could not be saved: disk full.',
    })
  })
})

describe('upgradeAnonymousUser: only a guest, by both facts', () => {
  it('signed out: NOT_SIGNED_IN (401)', () => {
    const outcome = outcomeOf(new World().post(), (auth) => auth.upgradeAnonymousUser(input()))
    assert.deepEqual([outcome.error, outcome.status], ['NOT_SIGNED_IN', 401])
  })
  const cases: [string, (w: World) => FakeRecord][] = [
    ['a full account', (w) => w.insertUser()],
    ['a flagged full account (a real password)', (w) => w.insertUser({ anonymous: true })],
    ['a marker without the flag', (w) => w.insertGuest({ anonymous: false })],
  ]
  for (const [name, make] of cases) {
    it(`${name}: NOT_ANONYMOUS, before anything is counted`, () => {
      const w = new World()
      const record = make(w)
      const before = w.backend.row('users', record.id)
      const outcome = outcomeOf(w.post(w.cookieFor(record)), (auth) => auth.upgradeAnonymousUser(input()))
      assert.deepEqual([outcome.error, outcome.status], ['NOT_ANONYMOUS', 403])
      assert.deepEqual(w.backend.row('users', record.id), before)
      assert.deepEqual(w.backend.counterRows(), [])
    })
  }
  it('the session changed before the request got to it: SESSION_ENDED before validation and bcrypt', () => {
    const { w, g, visit, newTrace } = guestWorld()
    w.backend.change('users', g.record.id, { tokenKey: 'rotated' })
    assert.throws(() => visit.auth.upgradeAnonymousUser(input()), { code: 'SESSION_ENDED' })
    assert.ok(!newTrace().includes('validate'), 'SESSION_ENDED is decided before PocketBase validates')
    assert.equal(w.backend.bcryptCalls.length, 0)
  })
  it('from another site: CROSS_SITE_REQUEST', () => {
    const { w, g } = guestWorld()
    const visit = w.post(g.cookie, { headers: { Origin: 'https://evil.test' } })
    assert.throws(() => visit.auth.upgradeAnonymousUser(input()), { code: 'CROSS_SITE_REQUEST' })
    assert.deepEqual(
      w.backend.counterRows().filter((c) => c.bucket.startsWith('fail/')),
      [],
    )
  })
})

describe('upgradeAnonymousUser: the failure throttle', () => {
  const fail = (w: World, cookie: string, ip?: string) =>
    outcomeOf(w.post(cookie, ip ? { ip } : {}), (auth) => auth.upgradeAnonymousUser(input(undefined, 'short')))
  it('per guest: the Nth failure is let through, then even a valid attempt is refused before validation', () => {
    const w = new World({ options: { upgrade: { failuresPerGuest: 3 } } })
    const g = w.signInGuest()
    for (let i = 0; i < 3; i++) assert.equal(fail(w, g.cookie).error, 'VALIDATION_FAILED')
    const traceStart = w.backend.trace.length
    const visit = w.post(g.cookie)
    assert.throws(
      () => visit.auth.upgradeAnonymousUser(input()),
      (e: { code: string; retryAfterSeconds: number; message: string; status: number }) =>
        e.code === 'RATE_LIMITED' &&
        e.status === 429 &&
        e.retryAfterSeconds === 915 &&
        e.message === 'Too many failed attempts to save this account. Try again in 16 minutes.',
    )
    assert.ok(!w.backend.trace.slice(traceStart).includes('validate'), 'a throttled upgrade never reaches validation')
    assert.equal(w.backend.bcryptCalls.length, 0)
    const other = w.signInGuest({ ip: '192.0.2.1' })
    assert.equal(fail(w, other.cookie).error, 'VALIDATION_FAILED', 'another guest has its own count')
  })
  it('per network: guests of one network share a count; another network does not', () => {
    const w = new World({ options: { upgrade: { failuresPerNetwork: 2 } } })
    const guests = [w.signInGuest(), w.signInGuest(), w.signInGuest()]
    assert.equal(fail(w, guests[0]!.cookie).error, 'VALIDATION_FAILED')
    assert.equal(fail(w, guests[1]!.cookie).error, 'VALIDATION_FAILED')
    assert.equal(fail(w, guests[2]!.cookie).error, 'RATE_LIMITED')
    assert.equal(fail(w, guests[2]!.cookie, '198.51.100.7').error, 'VALIDATION_FAILED')
  })
  it('the window passes: allowed again', () => {
    const w = new World({ options: { upgrade: { failuresPerGuest: 1, failureWindowSeconds: 60 } } })
    const g = w.signInGuest()
    fail(w, g.cookie)
    assert.equal(fail(w, g.cookie).error, 'RATE_LIMITED')
    w.clock.advance(60)
    assert.equal(fail(w, g.cookie).error, 'RATE_LIMITED', 'the slot of the failure is still inside the window')
    w.clock.advance(1)
    assert.equal(fail(w, g.cookie).error, 'VALIDATION_FAILED')
  })
  it('successes are taken back: they never use up the allowance', () => {
    const w = new World({ options: { upgrade: { failuresPerNetwork: 1 } } })
    for (let i = 0; i < 3; i++) {
      const g = w.signInGuest()
      const outcome = outcomeOf(w.post(g.cookie), (auth) => auth.upgradeAnonymousUser(input(`u${i}@mail.test`)))
      assert.equal(outcome.error, null)
    }
  })
})
