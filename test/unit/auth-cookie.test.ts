import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeAuthCookieToken, encodeAuthCookieValue } from '../../src/core/auth-cookie.ts'

const record = {
  id: 'abc123',
  collectionId: 'pbc_1',
  collectionName: 'users',
  email: 'anonymous-x@example.com',
  verified: false,
  anonymous: true,
}

describe('pb_auth cookie value', () => {
  it('is URL-encoded JSON in the PocketBase JS SDK format', () => {
    const value = encodeAuthCookieValue('t.o.k', record)
    assert.doesNotMatch(value, /[;,\s"]/)
    assert.deepEqual(JSON.parse(decodeURIComponent(value)), { token: 't.o.k', record })
  })
  it('round-trips the token', () => {
    assert.equal(decodeAuthCookieToken(encodeAuthCookieValue('a.b.c', record)), 'a.b.c')
  })
  it('reads only the token: the record half is ignored', () => {
    const tampered = encodeURIComponent(JSON.stringify({ token: 'a.b.c', record: { id: 'someone-else' } }))
    assert.equal(decodeAuthCookieToken(tampered), 'a.b.c')
  })
  const invalid: [string, string][] = [
    ['empty', ''],
    ['not URL-encoded', '%E0%A4%A'],
    ['not JSON', encodeURIComponent('hello')],
    ['JSON without token', encodeURIComponent('{"record":{}}')],
    ['token not a string', encodeURIComponent('{"token":42}')],
    ['empty token', encodeURIComponent('{"token":""}')],
    ['JSON null', 'null'],
    ['JSON array', encodeURIComponent('["a.b.c"]')],
    ['oversized', 'a'.repeat(5000)],
    ['huge token', encodeURIComponent(JSON.stringify({ token: 'x'.repeat(3000) }))],
  ]
  for (const [label, raw] of invalid) {
    it(`is treated as signed out without throwing: ${label}`, () => {
      assert.equal(decodeAuthCookieToken(raw), null)
    })
  }
})
