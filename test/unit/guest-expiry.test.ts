// When a guest expires (guest-expiry.ts), checked against the cleanup itself so the two cannot
// drift, and the signed, non-identifying guest trace a browser keeps.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { deleteAbandonedGuests } from '../../src/core/cleanup.ts'
import { formatPocketBaseDate as date } from '../../src/core/dates.ts'
import {
  dayOf,
  decodeTrace,
  encodeTrace,
  guestExpiryMs,
  traceExpiredAtMs,
  traceKey,
  traceMaxAgeSeconds,
} from '../../src/core/guest-expiry.ts'
import { resolveOptions } from '../../src/core/options.ts'
import { T0, World } from '../support/fake-world.ts'
import { nodeCrypto } from '../support/node-crypto.ts'

const DAY_MS = 86_400_000

describe('guestExpiryMs', () => {
  it('is the last activity plus retentionDays', () => {
    assert.equal(guestExpiryMs(date(T0), date(T0 - 5 * DAY_MS), 30), T0 + 30 * DAY_MS, 'from lastSeen')
    assert.equal(guestExpiryMs(date(T0), '', 2), T0 + 2 * DAY_MS, 'follows retentionDays')
  })
  it('falls back to the creation date when no activity was recorded', () => {
    assert.equal(guestExpiryMs('', date(T0), 30), T0 + 30 * DAY_MS, 'from created')
  })
  it('is null without any readable date', () => {
    assert.equal(guestExpiryMs('', '', 30), null, 'no dates')
    assert.equal(guestExpiryMs('garbage', '', 30), null, 'unreadable')
  })
  it('names the moment the cleanup starts deleting the guest (not before, just after)', () => {
    for (const [lastSeen, created] of [
      [date(T0 - 10 * DAY_MS), date(T0 - 20 * DAY_MS)],
      ['', date(T0 - 3 * DAY_MS)],
    ] as const) {
      const expiry = guestExpiryMs(lastSeen, created, 30)!
      const at = (ms: number) => {
        const w = new World()
        const guest = w.insertGuest({ lastSeen, created })
        w.clock.ms = ms
        deleteAbandonedGuests(w.backend, resolveOptions({}), w.clock.now())
        return w.backend.row('users', guest.id) === null
      }
      assert.equal(at(expiry), false, `deleted at the expiry moment itself (${lastSeen || 'created'})`)
      assert.equal(at(expiry + 1), true, `kept past the expiry moment (${lastSeen || 'created'})`)
    }
  })
})

describe('guest trace', () => {
  const key = traceKey(nodeCrypto, 'secret-of-users')
  const keyOf = (id: string) => (id === 'pbc_users' ? key : null)
  const trace = { collectionId: 'pbc_users', lastSeenDay: dayOf(T0) }

  it('reads back what it wrote, and says nothing but the collection and a day', () => {
    const value = encodeTrace(nodeCrypto, key, trace)
    assert.deepEqual(decodeTrace(nodeCrypto, value, keyOf), trace, 'round trip')
    assert.match(value, /^1\.pbc_users\.\d+\.[0-9a-f]{32}$/, 'only version, collection, day and MAC')
  })
  it('refuses anything the server did not sign', () => {
    const value = encodeTrace(nodeCrypto, key, trace)
    const [v, c, d, mac] = value.split('.') as [string, string, string, string]
    const bad: [string, string][] = [
      ['another day', `${v}.${c}.${Number(d) + 1}.${mac}`],
      ['another MAC', `${v}.${c}.${d}.${mac.replace(/^./, mac[0] === 'a' ? 'b' : 'a')}`],
      ['another collection', `${v}.pbc_other.${d}.${mac}`],
      ['another version', `2.${c}.${d}.${mac}`],
      ['a key of another secret', encodeTrace(nodeCrypto, traceKey(nodeCrypto, 'other'), trace)],
      ['empty', ''],
      ['garbage', '%%%.;'],
      ['too long', `1.${'a'.repeat(300)}.1.${mac}`],
      ['a fifth part', `${value}.x`],
      ['a character appended to the MAC', `${value}0`],
      ['a MAC cut short', value.slice(0, -1)],
      ['no MAC', `${v}.${c}.${d}.`],
    ]
    for (const [name, input] of bad) assert.equal(decodeTrace(nodeCrypto, input, keyOf), null, `${name} accepted`)
  })
  it('a signed body with a malformed collection id or day is still refused, and no key is looked up for it', () => {
    // Signed with the right key, so only the shape checks can refuse them.
    const signed = (body: string) => `${body}.${nodeCrypto.hmac(body, key).slice(0, 32)}`
    const asked: string[] = []
    const anyKey = (id: string) => {
      asked.push(id)
      return key
    }
    for (const body of [
      '1.pbc_users.12a',
      '1.pbc_users.a12',
      '1.pbc_users.12345678',
      '1.pbc_users.',
      '1.pbc-users.1',
      '1.!pbc_users.1',
      '1.pbc_users!.1',
      `1.${'a'.repeat(101)}.1`,
    ]) {
      assert.equal(decodeTrace(nodeCrypto, signed(body), anyKey), null, `${body} accepted`)
    }
    assert.deepEqual(asked, [], 'no key lookup for a malformed trace')
    assert.deepEqual(
      decodeTrace(nodeCrypto, signed('1.pbc_users.1234567'), anyKey),
      {
        collectionId: 'pbc_users',
        lastSeenDay: 1234567,
      },
      'a well-formed one reads',
    )
  })
  it('a value that is not a string reads as no trace', () => {
    for (const value of [undefined, null, 12, {}, ['1', 'pbc_users']]) {
      assert.equal(decodeTrace(nodeCrypto, value as unknown as string, keyOf), null, `${String(value)} must not throw`)
    }
  })
  it('keeps its format: a trace written by an earlier release still reads (pinned key derivation)', () => {
    // Changing the key label or the layout voids every trace in every browser: this must be deliberate.
    assert.equal(key, 'a079e2e95d65f102b01eedf85ec847ad17444ded2f0be70b60e7c59db32076e1', 'the trace key')
    assert.equal(
      encodeTrace(nodeCrypto, key, { collectionId: 'pbc_users', lastSeenDay: 20000 }),
      '1.pbc_users.20000.e7745d5020ba4582d35c111ae3420ec6',
      'the cookie value',
    )
  })
  it('a key lookup that throws reads as no trace', () => {
    const value = encodeTrace(nodeCrypto, key, trace)
    assert.equal(
      decodeTrace(nodeCrypto, value, () => {
        throw new Error('no collection')
      }),
      null,
      'must not throw',
    )
  })
  it('expired when the session lapsed or the cleanup ran, whichever came first', () => {
    const day = { collectionId: 'c', lastSeenDay: 100 }
    assert.equal(traceExpiredAtMs(day, 30, 7 * 86400), 107 * DAY_MS, 'a 7-day token lapses before a 30-day cleanup')
    assert.equal(traceExpiredAtMs(day, 2, 7 * 86400), 102 * DAY_MS, 'a 2-day cleanup comes first')
  })
  it('lives past the cleanup', () => {
    assert.ok(traceMaxAgeSeconds(30) > 30 * 86400, 'the trace must outlive the retention')
    assert.equal(traceMaxAgeSeconds(30), 60 * 86400, 'by 30 days, in seconds')
    assert.equal(traceMaxAgeSeconds(1.5), 31.5 * 86400, 'fractional retention days too')
  })
})
