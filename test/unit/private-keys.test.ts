// Counter keys as HMACs under in-memory keys that rotate with the window (private-keys.ts).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PrivateKeys } from '../../src/core/private-keys.ts'
import { FakeMemory } from '../support/fake-memory.ts'
import { nodeCrypto } from '../support/node-crypto.ts'

const HOUR_MS = 3_600_000
const P = 500_000 // a period number: [P * hour, (P + 1) * hour)
const at = (period: number, offsetMs = 0) => period * HOUR_MS + offsetMs
const storeKey = (period: number) => `prefix/key/signin/3600/${period}`

function keys() {
  const memory = new FakeMemory()
  return { memory, keys: new PrivateKeys(memory, nodeCrypto, 'prefix/') }
}

describe('PrivateKeys.current', () => {
  it('is the kind and 32 hex characters of the HMAC of the value under the period key', () => {
    const { memory, keys: k } = keys()
    const counterKey = k.current('signin', 3600, '4:192.0.2.1/32', at(P, 10))
    const key = memory.get(storeKey(P)) as string
    assert.match(key, /^[A-Za-z0-9]{43}$/)
    assert.equal(counterKey, `signin:${nodeCrypto.hmac('4:192.0.2.1/32', key).slice(0, 32)}`)
    assert.ok(!counterKey.includes('192.0.2.1'), `the counter key does not reveal the address: ${counterKey}`)
  })
  it('is stable within a period and changes with the next one', () => {
    const { keys: k } = keys()
    const a = k.current('signin', 3600, 'v', at(P))
    assert.equal(k.current('signin', 3600, 'v', at(P, HOUR_MS - 1)), a)
    assert.notEqual(k.current('signin', 3600, 'v', at(P + 1)), a)
  })
  it('has its own key per kind and per window length', () => {
    const { memory, keys: k } = keys()
    k.current('signin', 3600, 'v', at(P))
    k.current('fail/upgrade', 3600, 'v', at(P))
    k.current('signin', 60, 'v', at(P))
    assert.deepEqual([...memory.map.keys()].sort(), [
      'prefix/key/fail/upgrade/3600/500000',
      'prefix/key/signin/3600/500000',
      `prefix/key/signin/60/${P * 60}`,
    ])
    assert.equal(new Set(memory.map.values()).size, 3)
  })
})

describe('PrivateKeys: rotation', () => {
  it('keeps the current and two previous periods, and drops the one three back when a period starts', () => {
    const { memory, keys: k } = keys()
    for (let period = P; period <= P + 3; period++) k.current('signin', 3600, 'v', at(period))
    assert.deepEqual([...memory.map.keys()], [storeKey(P + 1), storeKey(P + 2), storeKey(P + 3)])
  })
  it('draws a key once per period', () => {
    const { memory, keys: k } = keys()
    k.current('signin', 3600, 'v', at(P))
    const key = memory.get(storeKey(P))
    k.current('signin', 3600, 'w', at(P, 5))
    k.since('signin', 3600, 'v', at(P - 1), at(P, 6))
    assert.equal(memory.get(storeKey(P)), key)
  })
})

describe('PrivateKeys: the store', () => {
  it('reads an existing key without handing the store a function to run under its lock', () => {
    let calls = 0
    const memory = new (class extends FakeMemory {
      override getOrSet(key: string, create: () => unknown): unknown {
        calls++
        return super.getOrSet(key, create)
      }
    })()
    const k = new PrivateKeys(memory, nodeCrypto, 'prefix/')
    const first = k.current('signin', 3600, 'v', at(P))
    assert.equal(calls, 1, 'a new period draws its key through getOrSet')
    assert.equal(k.current('signin', 3600, 'v', at(P, 1)), first)
    assert.equal(calls, 1, 'an existing key is a plain read')
  })
})

describe('PrivateKeys: a store that answers null for a missing key (Go nil through goja)', () => {
  it('draws a random key; never uses the text "null" as one', () => {
    const memory = new (class extends FakeMemory {
      override get(key: string): unknown {
        return this.map.has(key) ? this.map.get(key) : null
      }
    })()
    const k = new PrivateKeys(memory, nodeCrypto, 'prefix/')
    const counterKey = k.current('signin', 3600, 'v', at(P))
    const key = memory.map.get(storeKey(P))
    assert.match(String(key), /^[A-Za-z0-9]{43}$/, 'a drawn key is stored')
    assert.equal(counterKey, `signin:${nodeCrypto.hmac('v', String(key)).slice(0, 32)}`, 'and used')
    assert.notEqual(counterKey, `signin:${nodeCrypto.hmac('v', 'null').slice(0, 32)}`, 'a guessable key')
  })
})

describe('PrivateKeys.since', () => {
  it('gives the counter keys of every period the window touches, current first', () => {
    const { keys: k } = keys()
    const now = at(P, 10)
    assert.deepEqual(k.since('signin', 3600, 'v', now - HOUR_MS, now), [
      k.current('signin', 3600, 'v', now),
      k.current('signin', 3600, 'v', at(P - 1)),
    ])
  })
  it('one period when the window starts in it', () => {
    const { keys: k } = keys()
    assert.equal(k.since('signin', 3600, 'v', at(P, 1), at(P, 2)).length, 1)
  })
  it('never more than three periods', () => {
    const { keys: k } = keys()
    const now = at(P, 10)
    assert.deepEqual(k.since('signin', 3600, 'v', at(P - 10), now), [
      k.current('signin', 3600, 'v', now),
      k.current('signin', 3600, 'v', at(P - 1)),
      k.current('signin', 3600, 'v', at(P - 2)),
    ])
  })
})
