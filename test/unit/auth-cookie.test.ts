import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeAuthCookieToken, encodeAuthCookieValue, tokenFromCookieValue } from '../../src/core/auth-cookie.ts'

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

describe('pb_auth cookie value: size limits', () => {
  /** A cookie value of exactly `length` characters holding a token of `tokenLength`. */
  const cookieValue = (tokenLength: number, length: number) => {
    const bare = encodeURIComponent(JSON.stringify({ token: 't'.repeat(tokenLength), p: '' }))
    return encodeURIComponent(JSON.stringify({ token: 't'.repeat(tokenLength), p: 'p'.repeat(length - bare.length) }))
  }
  it('reads a value of 4096 characters, not one of 4097', () => {
    assert.equal(cookieValue(10, 4096).length, 4096)
    assert.equal(decodeAuthCookieToken(cookieValue(10, 4096)), 't'.repeat(10))
    assert.equal(decodeAuthCookieToken(cookieValue(10, 4097)), null)
  })
  it('reads a token of 2048 characters, not one of 2049', () => {
    assert.equal(decodeAuthCookieToken(cookieValue(2048, 2100)), 't'.repeat(2048))
    assert.equal(decodeAuthCookieToken(cookieValue(2049, 2100)), null)
  })
})

describe('tokenFromCookieValue (a session cookie written by page code or another plugin)', () => {
  const cases: [string, unknown, string | null][] = [
    ['an object with a token', { token: 'a.b.c', record: {} }, 'a.b.c'],
    ['its JSON', JSON.stringify({ token: 'a.b.c' }), 'a.b.c'],
    ['its URL-encoded JSON', encodeAuthCookieValue('a.b.c', record), 'a.b.c'],
    ['a token of 2048 characters', { token: 't'.repeat(2048) }, 't'.repeat(2048)],
    ['a token of 2049 characters', { token: 't'.repeat(2049) }, null],
    ['an empty token', { token: '' }, null],
    ['a non-string token', { token: 42 }, null],
    ['an object without a token', { record: {} }, null],
    ['null', null, null],
    ['a number', 42, null],
    ['an empty string', '', null],
    ['a JSON string of a string', JSON.stringify('a.b.c'), null],
    ['garbage', '%%%', null],
  ]
  for (const [label, value, token] of cases) {
    it(`${label}: ${token === null ? 'none' : 'the token'}`, () => {
      assert.equal(tokenFromCookieValue(value), token)
    })
  }
})
