// Guest sign-in rate limits (sign-in-limit.ts) and the failure throttle for app forms
// (failedAttempts, failed-attempts.ts): exact boundaries, networks, Retry-After, what is stored.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { outcomeOf, World, type WorldSpec } from '../support/fake-world.ts'

/** The rate limits' rows: every counter but the operator's stats (stats.ts), which sign-ins add to. */
function limitRows(w: World) {
  return w.backend.counterRows().filter((r) => !r.bucket.startsWith('stats:'))
}

/** Guest sign-ins from `ip`; returns each one's error code (null = signed in). */
function signIns(w: World, count: number, ip = '192.0.2.1'): (string | null)[] {
  return Array.from({ length: count }, () => outcomeOf(w.post(undefined, { ip }), (a) => a.signInAnonymously()).error)
}

function limited(spec: WorldSpec['options']) {
  return new World({ options: spec })
}

describe('guest sign-in: per client network', () => {
  it('the Nth sign-in passes, the N+1th is refused with 429 and Retry-After', () => {
    const w = limited({ rateLimit: { perNetwork: 3 } })
    assert.deepEqual(signIns(w, 3), [null, null, null])
    assert.throws(
      () => w.signInGuest({ ip: '192.0.2.1' }),
      (e: { code: string; status: number; retryAfterSeconds: number; message: string }) =>
        e.code === 'RATE_LIMITED' &&
        e.status === 429 &&
        e.retryAfterSeconds === 3660 &&
        e.message === 'Too many guest sign-ins from your network. Try again in 61 minutes.',
    )
  })
  it('a refused sign-in creates nothing and is not counted', () => {
    const w = limited({ rateLimit: { perNetwork: 1 } })
    signIns(w, 1)
    const rows = w.backend.counterRows()
    const users = w.backend.rowsOf('users').length
    assert.deepEqual(signIns(w, 2), ['RATE_LIMITED', 'RATE_LIMITED'])
    assert.deepEqual(w.backend.counterRows(), rows)
    assert.equal(w.backend.rowsOf('users').length, users)
  })
  it('a refusal costs the conditional count and one read of the slots (for Retry-After), nothing more', () => {
    const w = limited({ rateLimit: { perNetwork: 1 } })
    signIns(w, 1)
    const before = w.backend.trace.length
    assert.deepEqual(signIns(w, 1), ['RATE_LIMITED'])
    assert.deepEqual(w.backend.trace.slice(before), ['tx:begin', 'counters.addBelow', 'counters.read', 'tx:rollback'])
  })
  it('a sign-in whose guest cannot be saved is not counted (one transaction)', () => {
    const w = limited({ rateLimit: { perNetwork: 1 } })
    w.backend.before('save', () => {
      throw new Error('GoError: no.')
    })
    assert.deepEqual(signIns(w, 1), ['CREATE_FAILED'])
    assert.deepEqual(signIns(w, 1), [null])
  })
  it('is allowed again once the slot of the first sign-in leaves the window', () => {
    const w = limited({ rateLimit: { perNetwork: 2, windowSeconds: 600 } })
    signIns(w, 1)
    w.clock.advance(30)
    signIns(w, 1)
    assert.deepEqual(signIns(w, 1), ['RATE_LIMITED'])
    w.clock.advance(579) // 609 s after the first: its 10 s slot is still seen by the window
    assert.throws(() => w.signInGuest(), { retryAfterSeconds: 1 })
    w.clock.advance(1)
    assert.deepEqual(signIns(w, 2), [null, 'RATE_LIMITED'])
  })
  const networks: [string, string, string, boolean][] = [
    ['another IPv4 address', '192.0.2.1', '192.0.2.2', false],
    ['the same IPv6 /64', '2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', true],
    ['another IPv6 /64', '2001:db8:1:2::1', '2001:db8:1:3::1', false],
    ['IPv4 and the same address IPv4-mapped', '192.0.2.1', '::ffff:192.0.2.1', true],
    ['IPv4 and its 6to4 /48', '198.51.100.7', '2002:c633:6407:1::1', true],
    ['IPv4 and its NAT64 address', '198.51.100.7', '64:ff9b::c633:6407', true],
    ['IPv4 and its IPv4-compatible address', '198.51.100.7', '::198.51.100.7', true],
    ['IPv4 and its IPv4-translated address', '198.51.100.7', '::ffff:0:c633:6407', true],
    ['two /64s of one 6to4 /48', '2002:c633:6407::1', '2002:c633:6407:ffff::1', true],
    ['the same address in another spelling', '2001:DB8:1:2::1', '2001:db8:1:2:0:0:0:1', true],
  ]
  for (const [name, first, second, shared] of networks) {
    it(`${name}: ${shared ? 'one count' : 'separate counts'}`, () => {
      const w = limited({ rateLimit: { perNetwork: 1 } })
      assert.deepEqual(signIns(w, 1, first), [null])
      assert.deepEqual(signIns(w, 1, second), [shared ? 'RATE_LIMITED' : null])
    })
  }
  it('counts per configured IPv4 prefix', () => {
    const w = limited({ rateLimit: { perNetwork: 1, ipv4Prefix: 24 } })
    assert.deepEqual([...signIns(w, 1, '192.0.2.1'), ...signIns(w, 1, '192.0.2.200')], [null, 'RATE_LIMITED'])
    assert.deepEqual(signIns(w, 1, '192.0.3.1'), [null])
  })
  it('perNetwork 0: no per-network limit and nothing stored for it', () => {
    const w = limited({ rateLimit: { perNetwork: 0 } })
    assert.deepEqual(signIns(w, 40), Array(40).fill(null))
    assert.deepEqual(limitRows(w), [], 'a per-network row was stored')
  })
  it('stores networks only as keyed hashes, never the address', () => {
    const w = limited({})
    signIns(w, 2, '203.0.113.77')
    const rows = limitRows(w)
    assert.deepEqual(
      rows.map((r) => [r.bucket.replace(/^signin:[0-9a-f]{32}$/, 'signin:HASH'), r.count]),
      [['signin:HASH', 2]],
    )
    assert.ok(
      !JSON.stringify(rows).includes('203.0.113'),
      `the counters store no client address: ${JSON.stringify(rows)}`,
    )
  })
})

describe('guest sign-in: the IPv6 site tier (perIpv6Site, per /48)', () => {
  /** One sign-in from each of `count` /64s of 2001:db8:9::/48 (or another /48). */
  function fromSlash64s(w: World, count: number, site = '2001:db8:9'): (string | null)[] {
    return Array.from({ length: count }, (_, i) => signIns(w, 1, `${site}:${i.toString(16)}::1`)[0]!)
  }
  it('the holder of a /48 gets perIpv6Site guests over all its /64s, then 429 naming the network', () => {
    const w = limited({ rateLimit: { perNetwork: 2, perIpv6Site: 5 } })
    assert.deepEqual(
      fromSlash64s(w, 7),
      [null, null, null, null, null, 'RATE_LIMITED', 'RATE_LIMITED'],
      'five /64s, then the /48 is full',
    )
    assert.throws(() => w.signInGuest({ ip: '2001:db8:9:ff::1' }), {
      message: 'Too many guest sign-ins from your network. Try again in 61 minutes.',
    })
    assert.deepEqual(fromSlash64s(w, 1, '2001:db8:a'), [null], 'another /48 has its own count')
    assert.deepEqual(signIns(w, 1, '192.0.2.1'), [null], 'IPv4 is not counted in any site')
  })
  it('the per-/64 limit still holds inside the site', () => {
    const w = limited({ rateLimit: { perNetwork: 2, perIpv6Site: 100 } })
    assert.deepEqual(signIns(w, 3, '2001:db8:9:1::1'), [null, null, 'RATE_LIMITED'])
  })
  it('a site refusal rolls back the /64 count, and a /64 refusal is not counted for the site', () => {
    const w = limited({ rateLimit: { perNetwork: 1, perIpv6Site: 2 } })
    assert.deepEqual(fromSlash64s(w, 2), [null, null])
    const rows = JSON.stringify(limitRows(w))
    assert.deepEqual(fromSlash64s(w, 3).slice(2), ['RATE_LIMITED'], 'the third /64 is refused by the site')
    assert.equal(JSON.stringify(limitRows(w)), rows, 'nothing counted for a refused sign-in')
  })
  it('IPv4 sign-ins cost no site statement; IPv6 ones one more, under keyed hashes', () => {
    const w = limited({ rateLimit: { perNetwork: 5, perIpv6Site: 50 } })
    signIns(w, 1, '192.0.2.1')
    assert.equal(limitRows(w).length, 1, 'one row for an IPv4 sign-in')
    signIns(w, 1, '2001:db8:9:1::1')
    const rows = limitRows(w)
    assert.equal(rows.length, 3, 'a /64 row and a /48 row for an IPv6 sign-in')
    assert.ok(
      rows.every((r) => /^signin:[0-9a-f]{32}$/.test(r.bucket)),
      'networks stored only as keyed hashes',
    )
    assert.ok(!JSON.stringify(rows).includes('2001'), 'no address in the rows')
  })
  it('0 disables the tier; with ipv6Prefix 48 or wider the network already is the site', () => {
    assert.deepEqual(fromSlash64s(limited({ rateLimit: { perNetwork: 1, perIpv6Site: 0 } }), 40), Array(40).fill(null))
    const wide = limited({ rateLimit: { perNetwork: 3, perIpv6Site: 1, ipv6Prefix: 48 } })
    assert.deepEqual(
      fromSlash64s(wide, 4),
      [null, null, null, 'RATE_LIMITED'],
      'perNetwork counts the /48, the site tier stays out',
    )
  })
})

describe('guest sign-in: the global limit', () => {
  it('counts every network together: the Nth passes, the N+1th is refused', () => {
    const w = limited({ rateLimit: { global: 2 } })
    assert.deepEqual([...signIns(w, 1, '192.0.2.1'), ...signIns(w, 1, '198.51.100.1')], [null, null])
    assert.throws(
      () => w.signInGuest({ ip: '203.0.113.1' }),
      (e: { message: string; retryAfterSeconds: number }) =>
        e.message === 'Too many guest sign-ins on this site right now. Try again in 61 minutes.' &&
        e.retryAfterSeconds === 3660,
    )
    assert.deepEqual(
      w.backend
        .counterRows()
        .filter((r) => r.bucket === 'signin:*')
        .map((r) => r.count),
      [2],
    )
  })
  it('a per-network refusal does not count globally', () => {
    const w = limited({ rateLimit: { global: 3, perNetwork: 1 } })
    assert.deepEqual(signIns(w, 3), [null, 'RATE_LIMITED', 'RATE_LIMITED'])
    assert.deepEqual([...signIns(w, 1, '198.51.100.1'), ...signIns(w, 1, '198.51.100.2')], [null, null])
    assert.deepEqual(signIns(w, 1, '198.51.100.3'), ['RATE_LIMITED'])
  })
  it("a global refusal does not count for the network: the network's count is rolled back with it", () => {
    const w = limited({ rateLimit: { global: 1, perNetwork: 5 } })
    assert.deepEqual(
      [...signIns(w, 1, '192.0.2.1'), ...signIns(w, 2, '198.51.100.1')],
      [null, 'RATE_LIMITED', 'RATE_LIMITED'],
    )
    const byNetwork = limitRows(w).filter((r) => r.bucket !== 'signin:*')
    assert.deepEqual(
      byNetwork.map((r) => r.count),
      [1],
      'only the network that got its guest has a count',
    )
    assert.deepEqual(
      w.backend
        .counterRows()
        .filter((r) => r.bucket === 'stats:created')
        .map((r) => r.count),
      [1],
      'the refused sign-ins were counted as created guests',
    )
  })
  it('0 (the default): no global counter', () => {
    const w = limited({})
    signIns(w, 1)
    assert.ok(
      !w.backend.counterRows().some((r) => r.bucket === 'signin:*'),
      'with global 0 no global counter row is written',
    )
  })
})

describe('failedAttempts: a throttle for app forms', () => {
  const limits = { perKey: 2, perNetwork: 3, windowSeconds: 600 }
  /** One attempt at a form, failing unless `succeed`; returns the refusal code or null. */
  const attempt = (w: World, key: string, { ip = '192.0.2.1', succeed = false } = {}) =>
    outcomeOf(w.post(undefined, { ip }), (auth) => {
      const running = auth.failedAttempts('password-sign-in', limits).begin(key)
      if (succeed) running.succeeded()
    }).error
  it('per key: N failures pass, the N+1th attempt is refused; keys are trimmed and case-folded', () => {
    const w = new World()
    assert.deepEqual(
      [attempt(w, 'Ann@Mail.test'), attempt(w, ' ann@mail.TEST '), attempt(w, 'ann@mail.test')],
      [null, null, 'RATE_LIMITED'],
    )
    assert.equal(attempt(w, 'bob@mail.test'), null)
  })
  it('per network: N failures over any keys, then refused', () => {
    const w = new World()
    assert.deepEqual(
      ['a', 'b', 'c', 'd'].map((k) => attempt(w, k)),
      [null, null, null, 'RATE_LIMITED'],
    )
    assert.equal(attempt(w, 'e', { ip: '198.51.100.1' }), null)
  })
  it('remembers failures across a key rotation: the window spans two periods', () => {
    const w = new World()
    w.clock.advance(-1) // the last second of a period (T0 is a multiple of the 600 s window)
    attempt(w, 'a')
    attempt(w, 'a')
    w.clock.advance(2)
    assert.equal(attempt(w, 'a'), 'RATE_LIMITED')
  })
  it('keeps its keys in memory under the plugin prefix', () => {
    const w = new World()
    attempt(w, 'a')
    w.signInGuest()
    // The current period's key, and the previous one the window still reaches back into.
    assert.deepEqual([...w.memory.map.keys()].sort(), [
      'pocketpages-plugin-anonymous/key/fail/app-password-sign-in/600/2993399',
      'pocketpages-plugin-anonymous/key/fail/app-password-sign-in/600/2993400',
      'pocketpages-plugin-anonymous/key/fail/app-password-sign-in/network/600/2993399',
      'pocketpages-plugin-anonymous/key/fail/app-password-sign-in/network/600/2993400',
      'pocketpages-plugin-anonymous/key/signin/3600/498899',
      'pocketpages-plugin-anonymous/key/signin/3600/498900',
    ])
  })
  it('says when to retry', () => {
    const w = new World()
    attempt(w, 'a')
    attempt(w, 'a')
    assert.throws(
      () => w.post().auth.failedAttempts('password-sign-in', limits).begin('a'),
      (e: { message: string; retryAfterSeconds: number; status: number }) =>
        e.message === 'Too many failed attempts. Try again in 11 minutes.' &&
        e.retryAfterSeconds === 610 &&
        e.status === 429,
    )
  })
  it('succeeded() takes the attempt back, once', () => {
    const w = new World()
    for (let i = 0; i < 5; i++) assert.equal(attempt(w, 'a', { succeed: true }), null)
    const running = w.post().auth.failedAttempts('password-sign-in', limits).begin('a')
    running.succeeded()
    running.succeeded()
    assert.deepEqual(
      w.backend.counterRows().map((r) => r.count),
      [0, 0],
    )
  })
  it('counts the attempt before the work, in one transaction with the check', () => {
    const w = new World()
    w.post().auth.failedAttempts('password-sign-in', limits).begin('a')
    assert.deepEqual(w.backend.trace, [
      'tx:begin',
      'counters.total',
      'counters.total',
      'counters.add',
      'counters.add',
      'tx:commit',
    ])
    assert.deepEqual(
      w.backend
        .counterRows()
        .map((r) => [r.bucket.replace(/[0-9a-f]{32}$/, 'HASH'), r.count])
        .sort(),
      [
        ['fail/app-password-sign-in/network:HASH', 1],
        ['fail/app-password-sign-in:HASH', 1],
      ],
    )
  })
  it('a name or limits it cannot use: a TypeError saying what is wrong', () => {
    const auth = new World().post().auth
    const names = ['', 'Upper', '-dash-first', 'a'.repeat(41), 'sp ace', 42]
    for (const name of names) {
      assert.throws(() => auth.failedAttempts(name as string, limits), {
        name: 'TypeError',
        message: "failedAttempts(name, ...): name must be 1-40 of a-z, 0-9 and '-', starting with a letter or digit",
      })
    }
    assert.doesNotThrow(() => auth.failedAttempts('a'.repeat(40), limits))
    assert.doesNotThrow(() => auth.failedAttempts('9-lives', limits))
    for (const key of ['perKey', 'perNetwork', 'windowSeconds']) {
      for (const value of [0, 1.5, '3', undefined]) {
        assert.throws(() => auth.failedAttempts('form', { ...limits, [key]: value }), {
          name: 'TypeError',
          message: `failedAttempts('form', limits): limits.${key} must be a whole number >= 1`,
        })
      }
    }
    assert.throws(() => auth.failedAttempts('form', undefined as never), /limits\.perKey must be/)
    assert.doesNotThrow(() => auth.failedAttempts('form', { perKey: 1, perNetwork: 1, windowSeconds: 1 }))
  })
  it('a missing key counts as the empty key', () => {
    const w = new World()
    const begin = (key: unknown) =>
      w
        .post()
        .auth.failedAttempts('form', { ...limits, perKey: 1 })
        .begin(key as string)
    begin(undefined)
    assert.throws(() => begin(null), { code: 'RATE_LIMITED' })
    assert.throws(() => begin(''), { code: 'RATE_LIMITED' })
  })
})
