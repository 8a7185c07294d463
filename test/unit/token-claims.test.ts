import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import jwt from 'jsonwebtoken'
import { readTokenClaims } from '../../src/core/token-claims.ts'

const claims = { id: 'rec1', type: 'auth', collectionId: 'pbc_1', refreshable: true }

/** Stand-in for $security.parseUnverifiedJWT: decodes the payload, throws on garbage like Go's parser. */
const parse = (token: string): unknown => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'))
const read = (token: unknown) => readTokenClaims(token, parse)

describe('readTokenClaims', () => {
  it('reads what PocketBase puts in an auth token', () => {
    const token = jwt.sign(claims, 'secret', { algorithm: 'HS256', expiresIn: 60 })
    const result = read(token)
    assert.ok(result)
    assert.equal(result.type, 'auth')
    assert.equal(result.id, 'rec1')
    assert.equal(result.collectionId, 'pbc_1')
    assert.ok(result.exp > Date.now() / 1000)
  })
  it('returns null when the parser throws', () => {
    assert.equal(
      readTokenClaims('a.b.c', () => {
        throw new Error('bad')
      }),
      null,
    )
  })
  it('reports other token types (file, verification, ...)', () => {
    const token = jwt.sign({ ...claims, type: 'file', exp: 9999999999 }, 'k')
    assert.equal(read(token)?.type, 'file')
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
      assert.equal(read(token), null)
    })
  }
})
