import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import jwt from 'jsonwebtoken'
import { readTokenClaims } from '../../src/core/token-claims.ts'
import { decodeBase64UrlToString } from '../../src/core/base64url.ts'

const claims = { id: 'rec1', type: 'auth', collectionId: 'pbc_1', refreshable: true }

describe('readTokenClaims', () => {
  it('reads what PocketBase puts in an auth token', () => {
    const token = jwt.sign(claims, 'secret', { algorithm: 'HS256', expiresIn: 60 })
    const read = readTokenClaims(token)
    assert.ok(read)
    assert.equal(read.type, 'auth')
    assert.equal(read.alg, 'HS256')
    assert.equal(read.id, 'rec1')
    assert.equal(read.collectionId, 'pbc_1')
    assert.ok(read.exp > Date.now() / 1000)
  })
  it('reports the algorithm so alg=none can be refused', () => {
    const token = jwt.sign({ ...claims, exp: 9999999999 }, '', { algorithm: 'none' })
    assert.equal(readTokenClaims(token)?.alg, 'none')
  })
  it('reports other token types (file, verification, ...)', () => {
    const token = jwt.sign({ ...claims, type: 'file', exp: 9999999999 }, 'k')
    assert.equal(readTokenClaims(token)?.type, 'file')
  })
  const invalid: [string, unknown][] = [
    ['not a string', 42],
    ['empty', ''],
    ['two segments', 'a.b'],
    ['not base64url', 'a!.b.c'],
    ['payload not JSON', 'eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig'],
    ['payload an array', `eyJhbGciOiJIUzI1NiJ9.${Buffer.from('[1]').toString('base64url')}.sig`],
    ['missing exp', jwt.sign({ id: 'x', type: 'auth', collectionId: 'c' }, 'k', { noTimestamp: true })],
    ['too long', `${'a'.repeat(3000)}.b.c`],
  ]
  for (const [label, token] of invalid) {
    it(`returns null for ${label}`, () => {
      assert.equal(readTokenClaims(token), null)
    })
  }
})

describe('decodeBase64UrlToString', () => {
  it('matches Node for ASCII and multi-byte UTF-8', () => {
    for (const text of ['', 'a', 'ab', 'abc', '{"x":1}', 'héllo wörld ✓ 𝄞']) {
      assert.equal(decodeBase64UrlToString(Buffer.from(text).toString('base64url')), text)
    }
  })
  it('rejects impossible lengths and foreign characters', () => {
    assert.equal(decodeBase64UrlToString('abcde'), null)
    assert.equal(decodeBase64UrlToString('ab+/'), null)
  })
  it('rejects malformed UTF-8', () => {
    assert.equal(decodeBase64UrlToString(Buffer.from([0xc3]).toString('base64url')), null)
    assert.equal(decodeBase64UrlToString(Buffer.from([0xff, 0x41]).toString('base64url')), null)
  })
})
