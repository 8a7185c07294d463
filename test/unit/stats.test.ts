// The operator's figures (stats.ts): one upsert per event in a UTC-day slot, the 30-day window,
// per-day buckets, totals by upgrade path, the conversion rate, guests now, and rows that neither
// the prune loses too early nor the rate limits ever read.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { STORE_PREFIX } from '../../src/core/constants.ts'
import { resolveOptions } from '../../src/core/options.ts'
import { PrivateKeys } from '../../src/core/private-keys.ts'
import { countGuestSignIn } from '../../src/core/sign-in-limit.ts'
import {
  conversionRate,
  dayOf,
  readStats,
  recordEvent,
  STATS_WINDOW_DAYS,
  type StatsEvent,
  statsLogFields,
  UPGRADE_PATHS,
} from '../../src/core/stats.ts'
import { FakeMemory } from '../support/fake-memory.ts'
import { T0, World } from '../support/fake-world.ts'
import { nodeCrypto } from '../support/node-crypto.ts'

const DAY_MS = 86_400_000
/** The UTC midnight that starts T0's day. */
const MIDNIGHT = Math.floor(T0 / DAY_MS) * DAY_MS
const options = resolveOptions({})

function stats(w: World, now = w.clock.now()) {
  return readStats(w.backend, options, now)
}

describe('recordEvent', () => {
  it('adds one to the stats bucket of the event, in the slot of the UTC day, with one statement', () => {
    const w = new World()
    const traceBefore = w.backend.trace.length
    recordEvent(w.backend, 'created', T0)
    assert.deepEqual(w.backend.trace.slice(traceBefore), ['counters.add'], 'counting must be one statement')
    assert.deepEqual(
      w.backend.counterRows(),
      [{ bucket: 'stats:created', slot: dayOf(T0), count: 1, expires: MIDNIGHT + 33 * DAY_MS }],
      'a day row expires 32 days after its day ends',
    )
  })
  it('the same day adds to the same row; the next UTC day starts a new one', () => {
    const w = new World()
    recordEvent(w.backend, 'merged', MIDNIGHT)
    recordEvent(w.backend, 'merged', MIDNIGHT + DAY_MS - 1)
    recordEvent(w.backend, 'merged', MIDNIGHT + DAY_MS)
    assert.deepEqual(
      w.backend.counterRows().map((r) => [r.slot, r.count]),
      [
        [dayOf(MIDNIGHT), 2],
        [dayOf(MIDNIGHT) + 1, 1],
      ],
    )
  })
  it('adds `count` at once (the cleanup counts a run with one statement), and nothing for 0', () => {
    const w = new World()
    recordEvent(w.backend, 'cleaned-up', T0, 0)
    assert.deepEqual(w.backend.counterRows(), [], 'a run that deleted nothing must write nothing')
    recordEvent(w.backend, 'cleaned-up', T0, 7)
    assert.equal(w.backend.counterRows()[0]?.count, 7)
  })
  it('refuses an event no report reads', () => {
    const w = new World()
    assert.throws(() => recordEvent(w.backend, 'upgraded-pigeon' as StatsEvent, T0), /unknown event 'upgraded-pigeon'/)
    assert.throws(() => recordEvent(w.backend, 'stats:created' as StatsEvent, T0), /unknown event/)
    assert.deepEqual(w.backend.counterRows(), [])
  })
  it('inside a transaction it rolls back with the event', () => {
    const w = new World()
    assert.throws(() =>
      w.backend.transaction((tx) => {
        recordEvent(tx, 'created', T0)
        throw new Error('the guest insert failed')
      }),
    )
    assert.deepEqual(w.backend.counterRows(), [], 'a rolled-back event was counted')
    w.backend.transaction((tx) => recordEvent(tx, 'created', T0))
    assert.equal(stats(w).totals.created, 1, 'a committed event was not counted')
  })
})

describe('readStats: days and window', () => {
  it(`lists ${STATS_WINDOW_DAYS} UTC days, oldest first, today last`, () => {
    const w = new World()
    const { days, windowDays } = stats(w)
    assert.equal(windowDays, 30)
    assert.equal(days.length, 30)
    assert.equal(days.at(-1)!.date, new Date(T0).toISOString().slice(0, 10), 'the last day is today')
    assert.equal(days[0]!.date, new Date(T0 - 29 * DAY_MS).toISOString().slice(0, 10), 'the first is 29 days back')
    for (let i = 1; i < days.length; i++) assert.ok(days[i - 1]!.date < days[i]!.date, 'days must be in order')
  })
  it('puts each event in the day it happened', () => {
    const w = new World()
    recordEvent(w.backend, 'created', T0)
    recordEvent(w.backend, 'created', T0 - DAY_MS)
    recordEvent(w.backend, 'created', T0 - DAY_MS)
    recordEvent(w.backend, 'signed-out', MIDNIGHT - 1)
    const { days } = stats(w)
    assert.deepEqual(
      days.slice(-2).map((d) => [d.created, d.signedOut]),
      [
        [2, 1],
        [1, 0],
      ],
      'yesterday: 2 created and 1 sign-out (one ms before midnight); today: 1 created',
    )
    assert.ok(
      days.slice(0, -2).every((d) => d.created === 0 && d.signedOut === 0),
      'other days got counts',
    )
  })
  it('counts the 30 days up to today: 29 days ago is in, 30 days ago is out', () => {
    const w = new World()
    recordEvent(w.backend, 'created', MIDNIGHT - 29 * DAY_MS)
    recordEvent(w.backend, 'created', MIDNIGHT - 29 * DAY_MS - 1)
    recordEvent(w.backend, 'created', MIDNIGHT - 40 * DAY_MS)
    const report = stats(w)
    assert.equal(report.totals.created, 1, 'only the event 29 days ago is in the window')
    assert.equal(report.days[0]!.created, 1, 'the first day holds it')
  })
  it('ignores a row from a later day (the clock went back)', () => {
    const w = new World()
    recordEvent(w.backend, 'created', T0 + 2 * DAY_MS)
    assert.equal(stats(w).totals.created, 0)
  })
  it('a day row survives every prune while the window can see it, and goes after', () => {
    const w = new World()
    recordEvent(w.backend, 'created', MIDNIGHT + DAY_MS - 1)
    // The last moment its day is in the window: 29 days after it, at the end of that day.
    const lastSeen = MIDNIGHT + 30 * DAY_MS - 1
    assert.equal(w.backend.counters.prune(lastSeen), 0, 'pruned while still in the window')
    assert.equal(stats(w, lastSeen).totals.created, 1, 'out of the window too early')
    assert.equal(stats(w, lastSeen + 1).totals.created, 0, 'still in the window on the 31st day')
    assert.equal(w.backend.counters.prune(MIDNIGHT + 33 * DAY_MS + 1), 1, 'a day row past its keep must be pruned')
  })
})

describe('readStats: totals and the conversion rate', () => {
  function month(w: World): void {
    const events: [StatsEvent, number][] = [
      ['created', 10],
      ['upgraded-password', 2],
      ['upgraded-code', 1],
      ['upgraded-oauth2', 1],
      ['merged', 1],
      ['signed-out', 3],
      ['cleaned-up', 4],
    ]
    for (const [event, n] of events) {
      for (let i = 0; i < n; i++) recordEvent(w.backend, event, T0 - (i % 5) * DAY_MS)
    }
  }
  it('adds the days up, each upgrade path apart and in the total', () => {
    const w = new World()
    month(w)
    assert.deepEqual(stats(w).totals, {
      created: 10,
      upgraded: 4,
      upgradedBy: { password: 2, code: 1, oauth2: 1 },
      merged: 1,
      signedOut: 3,
      cleanedUp: 4,
    })
  })
  it('lists every upgrade path, 0 or not', () => {
    const w = new World()
    const { totals, days } = stats(w)
    assert.deepEqual(Object.keys(totals.upgradedBy), [...UPGRADE_PATHS])
    assert.deepEqual(Object.keys(days[0]!.upgradedBy), [...UPGRADE_PATHS])
  })
  it('the rate is (upgraded + merged) / created over the window', () => {
    const w = new World()
    month(w)
    assert.equal(stats(w).conversionRate, 0.5, '(4 upgraded + 1 merged) / 10 created')
  })
  const rates: [string, { created: number; upgraded: number; merged: number }, number | null][] = [
    ['none created', { created: 0, upgraded: 3, merged: 1 }, null],
    ['none converted', { created: 5, upgraded: 0, merged: 0 }, 0],
    ['all converted', { created: 4, upgraded: 3, merged: 1 }, 1],
    ['a third, to 4 decimals', { created: 3, upgraded: 1, merged: 0 }, 0.3333],
    ['two thirds, rounded', { created: 3, upgraded: 1, merged: 1 }, 0.6667],
    ['merges count', { created: 4, upgraded: 0, merged: 1 }, 0.25],
    ['more converted than created (guests from before the window)', { created: 2, upgraded: 3, merged: 0 }, 1.5],
  ]
  for (const [name, figures, expected] of rates) {
    it(`conversion rate: ${name} -> ${expected}`, () => assert.equal(conversionRate(figures), expected, name))
  }
  it('sign-outs and cleanups do not change the rate', () => {
    const w = new World()
    recordEvent(w.backend, 'created', T0)
    recordEvent(w.backend, 'created', T0)
    recordEvent(w.backend, 'upgraded-password', T0)
    recordEvent(w.backend, 'signed-out', T0)
    recordEvent(w.backend, 'cleaned-up', T0)
    assert.equal(stats(w).conversionRate, 0.5)
  })
})

describe('readStats: guests now, and what the report holds', () => {
  it('counts guests by both facts, per collection; a flagged full account is no guest', () => {
    const w = new World()
    w.backend.addCollection('members')
    for (let i = 0; i < 3; i++) w.insertGuest()
    w.insertUser()
    w.insertUser({ anonymous: true })
    w.insertGuest({ anonymous: false })
    w.backend.insert('members', { anonymous: true, password: w.insertGuest().getString('password') })
    const report = readStats(w.backend, resolveOptions({ collections: ['users', 'members'] }), T0)
    assert.deepEqual(report.guestsNow, { total: 5, byCollection: { users: 4, members: 1 } })
  })
  it('a missing collection counts 0', () => {
    const w = new World()
    w.insertGuest()
    const report = readStats(w.backend, resolveOptions({ collections: ['users', 'gone'] }), T0)
    assert.deepEqual(report.guestsNow, { total: 1, byCollection: { users: 1, gone: 0 } })
  })
  it('holds counts only: no id, email or token of any guest', () => {
    const w = new World()
    const guests = [w.insertGuest(), w.insertGuest()]
    recordEvent(w.backend, 'created', T0)
    const json = JSON.stringify(stats(w))
    for (const guest of guests) {
      for (const secret of [guest.id, guest.email(), guest.tokenKey()])
        assert.ok(!json.includes(secret), `the report holds ${secret}`)
    }
    assert.doesNotMatch(json, /@/, 'the report holds something like an email')
  })
  it('the log line carries the same figures as the route', () => {
    const w = new World()
    w.insertGuest()
    recordEvent(w.backend, 'created', T0)
    recordEvent(w.backend, 'upgraded-code', T0)
    const fields = statsLogFields(stats(w))
    const pairs = Object.fromEntries(
      Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i], fields[2 * i + 1]]),
    )
    assert.deepEqual(pairs, {
      guestsNow: 1,
      created30d: 1,
      upgraded30d: 1,
      'upgraded30d.password': 0,
      'upgraded30d.code': 1,
      'upgraded30d.oauth2': 0,
      merged30d: 0,
      signedOut30d: 0,
      cleanedUp30d: 0,
      conversionRate30d: 1,
    })
  })
})

describe('stats rows and the other counters never meet', () => {
  it('stats events do not count against the guest sign-in limits', () => {
    const w = new World()
    const keys = new PrivateKeys(new FakeMemory(), nodeCrypto, STORE_PREFIX)
    for (let i = 0; i < 50; i++) recordEvent(w.backend, 'created', T0)
    const limits = { perNetwork: 1, perIpv6Site: 0, global: 1, windowSeconds: 3600, ipv4Prefix: 32, ipv6Prefix: 64 }
    assert.doesNotThrow(
      () => countGuestSignIn(w.backend.counters, keys, '192.0.2.1', limits, T0),
      'the first sign-in was refused: a rate limit read the stats rows',
    )
    assert.throws(() => countGuestSignIn(w.backend.counters, keys, '192.0.2.1', limits, T0), /Too many/)
    assert.equal(stats(w).totals.created, 50, 'a rate limit changed the stats')
  })
  it('no rate-limit or throttle bucket starts with the stats prefix', () => {
    const w = new World()
    const keys = new PrivateKeys(new FakeMemory(), nodeCrypto, STORE_PREFIX)
    const limits = { perNetwork: 5, perIpv6Site: 0, global: 5, windowSeconds: 3600, ipv4Prefix: 32, ipv6Prefix: 64 }
    countGuestSignIn(w.backend.counters, keys, '192.0.2.1', limits, T0)
    // The throttles' kinds: 'fail/<name>' and 'fail/<name>/network', names of a-z, 0-9 and '-'.
    for (const kind of ['fail/upgrade', 'fail/upgrade/network', 'fail/app-stats', 'fail/app-stats/network'])
      w.backend.counters.add(keys.current(kind, 900, 'stats:created', T0), 1, T0 + 1, 1)
    const others = w.backend.counterRows().map((r) => r.bucket)
    assert.ok(others.length >= 5, 'the scenario wrote no counters')
    for (const bucket of others) assert.ok(!bucket.startsWith('stats:'), `${bucket} looks like a stats bucket`)
    assert.equal(stats(w).totals.created, 0, 'a rate-limit row was read as a stats row')
  })
})
