import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { resolveOptionsCached } from '../../src/plugin/options-cache.ts'

describe('resolveOptionsCached', () => {
  const cookie = { sameSite: 'Strict' }
  it('reuses the resolution while keys and values are the same references', () => {
    const first = resolveOptionsCached({ name: 'x', collection: 'users', cookie })
    const second = resolveOptionsCached({ name: 'x', collection: 'users', cookie })
    assert.equal(second, first)
  })
  it('resolves again when a value changes', () => {
    const first = resolveOptionsCached({ collection: 'users', cookie })
    const second = resolveOptionsCached({ collection: 'members', cookie })
    assert.notEqual(second, first)
    assert.equal(second.collection, 'members')
  })
  it('resolves again when a nested object is a new one', () => {
    const first = resolveOptionsCached({ cookie })
    const second = resolveOptionsCached({ cookie: { sameSite: 'Lax' } })
    assert.equal(first.cookie.sameSite, 'Strict')
    assert.equal(second.cookie.sameSite, 'Lax')
  })
  it('still reports invalid options', () => {
    assert.throws(() => resolveOptionsCached({ nope: 1 }), /unknown key 'nope'/)
  })
})
