import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import jwt from 'jsonwebtoken'
import { readTokenClaims } from '../../src/core/token-claims.ts'
import { parseUnverifiedClaims } from '../support/fake-backend.ts'
import { FakeClock } from '../support/fake-world.ts'

const clock = new FakeClock()
const exp = clock.now() / 1000 + 60
const claims = { id: 'rec1', type: 'auth', collectionId: 'pbc_1', refreshable: true, exp }
const sign = (payload: object) => jwt.sign(payload, 'secret', { algorithm: 'HS256', noTimestamp: true })
const read = (token: unknown) => readTokenClaims(token, (t) => parseUnverifiedClaims(t, clock))
const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

describe('readTokenClaims', () => {
  it('reads what PocketBase puts in an auth token', () => {
    assert.deepEqual(read(sign(claims)), { type: 'auth', id: 'rec1', collectionId: 'pbc_1', exp, refreshable: true })
  })
  it('reads refreshable as true only for the boolean true (as PocketBase mints it)', () => {
    for (const value of [false, 'true', 1, undefined]) {
      assert.equal(read(sign({ ...claims, refreshable: value }))?.refreshable, false, `refreshable: ${String(value)}`)
    }
  })
  it('reports other token types (file, verification, ...)', () => {
    assert.equal(read(sign({ ...claims, type: 'file' }))?.type, 'file')
  })
  it("accepts an empty signature (alg 'none'): verifying is PocketBase's job", () => {
    assert.equal(read(`${segment({ alg: 'none' })}.${segment(claims)}.`)?.id, 'rec1')
  })
  it('reads a token of the longest accepted length', () => {
    const padded = sign({ ...claims, pad: '' })
    const long = sign({ ...claims, pad: 'x'.repeat(Math.floor(((2048 - padded.length) * 3) / 4)) })
    assert.ok(long.length <= 2048 && long.length > 2040, String(long.length))
    assert.equal(read(long)?.id, 'rec1')
  })
  it('returns null when the parser throws', () => {
    assert.equal(
      readTokenClaims('a.b.c', () => {
        throw new Error('bad')
      }),
      null,
    )
  })
  const invalid: [string, unknown][] = [
    ['not a string', 42],
    ['empty', ''],
    ['two segments', 'a.b'],
    ['four segments', 'a.b.c.d'],
    ['not base64url', 'a!.b.c'],
    ['whitespace around it', ` ${sign(claims)}`],
    ['payload not JSON', 'eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig'],
    ['payload an array', `eyJhbGciOiJIUzI1NiJ9.${segment([1])}.sig`],
    ['payload null', `eyJhbGciOiJIUzI1NiJ9.${segment(null)}.sig`],
    ['payload a number', `eyJhbGciOiJIUzI1NiJ9.${segment(5)}.sig`],
    ['missing exp', sign({ id: 'x', type: 'auth', collectionId: 'c' })],
    ['exp not a number', `eyJhbGciOiJIUzI1NiJ9.${segment({ ...claims, exp: String(exp) })}.sig`],
    ['expired', sign({ ...claims, exp: clock.now() / 1000 })],
    ['type not a string', sign({ ...claims, type: 1 })],
    ['id not a string', sign({ ...claims, id: 1 })],
    ['collectionId not a string', sign({ ...claims, collectionId: null })],
    ['trailing characters outside base64url', `${sign(claims)}!`],
    ['too long', sign({ ...claims, pad: 'x'.repeat(1600) })],
  ]
  for (const [label, token] of invalid) {
    it(`returns null for ${label}`, () => {
      assert.equal(read(token), null)
    })
  }
  const payloads: [string, unknown][] = [
    ['null', null],
    ['undefined', undefined],
    ['a number', 5],
    ['a string', 'claims'],
    ['an array', [claims]],
  ]
  for (const [label, payload] of payloads) {
    it(`a parser that returns ${label}: null`, () => {
      assert.equal(
        readTokenClaims(sign(claims), () => payload),
        null,
      )
    })
  }
  it('a parser that returns claims with a non-finite exp: null', () => {
    const token = sign(claims)
    assert.equal(
      readTokenClaims(token, () => ({ ...claims, exp: Number.POSITIVE_INFINITY })),
      null,
    )
    assert.equal(
      readTokenClaims(token, () => ({ ...claims, exp: Number.NaN })),
      null,
    )
  })
})
