// Sliding-window counters in 60 slots per window (counters.ts): slot arithmetic, window edges,
// secondsUntilBelow.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { addEvent, addEventBelow, SLOTS_PER_WINDOW, slotAt, slotLengthMs, tally } from '../../src/core/counters.ts'
import type { CounterSlot, CounterStore } from '../../src/core/ports.ts'
import { FakeBackend } from '../support/fake-backend.ts'
import { FakeClock, T0 } from '../support/fake-world.ts'

const hour = { windowSeconds: 3600 }
const store = () => new FakeBackend(new FakeClock()).counters

describe('slots', () => {
  it('a window has 60 slots', () => {
    assert.equal(SLOTS_PER_WINDOW, 60)
  })
  const lengths: [number, number][] = [
    [3600, 60_000],
    [900, 15_000],
    [60, 1000],
    [1, 17],
    [0, 1],
  ]
  for (const [windowSeconds, ms] of lengths) {
    it(`a ${windowSeconds} s window has ${ms} ms slots`, () => assert.equal(slotLengthMs({ windowSeconds }), ms))
  }
  it('slotAt is the slot containing the moment', () => {
    assert.equal(slotAt(hour, 0), 0)
    assert.equal(slotAt(hour, 59_999), 0)
    assert.equal(slotAt(hour, 60_000), 1)
    assert.equal(slotAt(hour, T0), T0 / 60_000)
  })
})

describe('addEvent', () => {
  it('adds to the slot of the moment, with the expiry when no window can see it any more', () => {
    const calls: unknown[][] = []
    const spy: CounterStore = {
      read: () => [],
      total: () => 0,
      add: (...args) => void calls.push(args),
      addBelow: () => false,
      prune: () => 0,
    }
    addEvent(spy, 'k', hour, T0 + 59_999)
    addEvent(spy, 'k', hour, T0 + 60_000, -1)
    const slot = T0 / 60_000
    assert.deepEqual(calls, [
      ['k', slot, T0 + 60_000 + 3_600_000, 1],
      ['k', slot + 1, T0 + 120_000 + 3_600_000, -1],
    ])
  })
})

describe('addEventBelow', () => {
  it('asks the store to add to the slot of the moment while the window over the keys is below the limit', () => {
    const calls: unknown[][] = []
    const spy: CounterStore = {
      read: () => [],
      total: () => 0,
      add: () => {},
      addBelow: (...args) => calls.push(args) > 0,
      prune: () => 0,
    }
    assert.equal(addEventBelow(spy, 5, ['k', 'old'], 'k', hour, T0 + 59_999), null)
    const slot = T0 / 60_000
    assert.deepEqual(calls, [[5, { keys: ['k', 'old'], fromSlot: slot - 60 }, 'k', slot, T0 + 60_000 + 3_600_000]])
  })
  it('counts up to the limit, then refuses with the tally, adding nothing', () => {
    const counters = store()
    for (let i = 0; i < 3; i++) assert.equal(addEventBelow(counters, 3, ['new', 'old'], 'new', hour, T0 + i), null)
    const refused = addEventBelow(counters, 3, ['new', 'old'], 'new', hour, T0 + 3)
    assert.equal(refused?.count, 3)
    assert.equal(refused.secondsUntilBelow(3), 3660)
    assert.equal(tally(counters, ['new'], hour, T0 + 3).count, 3)
  })
  it('counts what the other keys hold against the limit', () => {
    const counters = store()
    addEvent(counters, 'old', hour, T0)
    addEvent(counters, 'old', hour, T0)
    assert.equal(addEventBelow(counters, 3, ['new', 'old'], 'new', hour, T0), null)
    assert.notEqual(addEventBelow(counters, 3, ['new', 'old'], 'new', hour, T0), null)
    assert.equal(tally(counters, ['new'], hour, T0).count, 1)
  })
  it('a slot that has left the window does not count', () => {
    const counters = store()
    addEvent(counters, 'k', hour, T0)
    assert.notEqual(addEventBelow(counters, 1, ['k'], 'k', hour, T0 + 3_659_999), null)
    assert.equal(addEventBelow(counters, 1, ['k'], 'k', hour, T0 + 3_660_000), null)
  })
})

describe('tally', () => {
  it('counts every slot overlapping [now - window, now], the oldest one whole', () => {
    const counters = store()
    addEvent(counters, 'k', hour, T0) // slot s
    addEvent(counters, 'k', hour, T0 + 30_000) // slot s, later
    addEvent(counters, 'k', hour, T0 + 60_000) // slot s + 1
    assert.equal(tally(counters, ['k'], hour, T0 + 3_600_000).count, 3, 'one window later: slot s still overlaps')
    assert.equal(tally(counters, ['k'], hour, T0 + 3_659_999).count, 3)
    assert.equal(tally(counters, ['k'], hour, T0 + 3_660_000).count, 1, 'slot s has left the window')
    assert.equal(tally(counters, ['k'], hour, T0 + 3_720_000).count, 0)
  })
  it('sums every key asked for, and only those', () => {
    const counters = store()
    addEvent(counters, 'a', hour, T0)
    addEvent(counters, 'b', hour, T0)
    addEvent(counters, 'c', hour, T0)
    assert.equal(tally(counters, ['a', 'b'], hour, T0).count, 2)
  })
  it('a taken-back event no longer counts', () => {
    const counters = store()
    addEvent(counters, 'a', hour, T0)
    addEvent(counters, 'a', hour, T0, -1)
    assert.equal(tally(counters, ['a'], hour, T0).count, 0)
  })
})

describe('secondsUntilBelow', () => {
  /** A store that returns fixed rows, newest first, to show the order is not relied on. */
  const fixed = (rows: CounterSlot[]): CounterStore => ({
    read: () => [...rows].reverse(),
    total: () => rows.reduce((sum, row) => sum + row.count, 0),
    add: () => {},
    addBelow: () => false,
    prune: () => 0,
  })
  const s = T0 / 60_000
  it('is when enough of the oldest slots have left the window', () => {
    const rows = [
      { slot: s, count: 2 },
      { slot: s + 5, count: 1 },
      { slot: s + 10, count: 1 },
    ]
    const now = T0 + 20 * 60_000
    const t = tally(fixed(rows), ['k'], hour, now)
    assert.equal(t.count, 4)
    // Below 4: slot s must go, at (s + 1) * slot + window.
    assert.equal(t.secondsUntilBelow(4), (T0 + 60_000 + 3_600_000 - now) / 1000)
    // Below 3: slot s goes and leaves 2.
    assert.equal(t.secondsUntilBelow(3), (T0 + 60_000 + 3_600_000 - now) / 1000)
    // Below 2: slot s + 5 must go too.
    assert.equal(t.secondsUntilBelow(2), (T0 + 6 * 60_000 + 3_600_000 - now) / 1000)
    assert.equal(t.secondsUntilBelow(1), (T0 + 11 * 60_000 + 3_600_000 - now) / 1000)
  })
  it('rounds up to whole seconds, and is at least 1', () => {
    const rows = [{ slot: s, count: 1 }]
    assert.equal(tally(fixed(rows), ['k'], hour, T0 + 3_659_500).secondsUntilBelow(1), 1)
    assert.equal(tally(fixed(rows), ['k'], hour, T0 + 3_658_500).secondsUntilBelow(1), 2)
    assert.equal(tally(fixed(rows), ['k'], hour, T0).secondsUntilBelow(2), 1, 'already below')
  })
})
