// The double-submit pair's parts (first-submit.ts): only a well-formed secret and nonce count, the
// pair's email is a fixed derivation, and the pair's guest is handed out within its time window only.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatPocketBaseDate as date } from '../../src/core/dates.ts'
import { mayAdopt, PAIR_TTL_SECONDS, pairEmail, readFormSecret, readNonce } from '../../src/core/first-submit.ts'
import { T0 } from '../support/fake-world.ts'
import { nodeCrypto } from '../support/node-crypto.ts'

const SECRET = 'Ab3'.repeat(10).concat('Zz')
const NONCE = 'nOnCe'.repeat(4).concat('0123')

describe('readFormSecret', () => {
  const rows: [string, string[], string | null][] = [
    ['one well-formed secret', [`pb_auth_form=${SECRET}`], SECRET],
    ['no cookie', [], null],
    ['one character short', [`pb_auth_form=${SECRET.slice(1)}`], null],
    ['one character long', [`pb_auth_form=${SECRET}x`], null],
    ['a character outside [A-Za-z0-9]', [`pb_auth_form=${SECRET.slice(1)}-`], null],
    ['two secrets (a tossed cookie beside the real one)', [`pb_auth_form=${SECRET}; pb_auth_form=${SECRET}`], null],
  ]
  for (const [name, lines, expected] of rows) {
    it(`${name}: ${expected ? 'read' : 'null'}`, () => {
      assert.equal(readFormSecret(lines, 'pb_auth_form'), expected, name)
    })
  }
})

describe('readNonce', () => {
  const rows: [string, unknown, string | null][] = [
    ['a well-formed nonce', NONCE, NONCE],
    ['one character short', NONCE.slice(1), null],
    ['one character long', `${NONCE}x`, null],
    ['a character outside [A-Za-z0-9]', `${NONCE.slice(1)}"`, null],
    ['empty', '', null],
    ['absent', undefined, null],
  ]
  for (const [name, value, expected] of rows) {
    it(`${name}: ${expected ? 'read' : 'null'}`, () => {
      assert.equal(readNonce(value), expected, name)
    })
  }
})

describe('pairEmail', () => {
  const options = { emailPrefix: 'anonymous-', emailDomain: 'example.com' }
  it('is a fixed derivation: a change would split the duplicates of a submission across a deploy', () => {
    // Computed once with this derivation (HMAC-SHA256 under a labelled key, one hex byte per character).
    assert.equal(
      pairEmail(nodeCrypto, 'collection-secret', { secret: 'A'.repeat(32), nonce: 'b'.repeat(24) }, options),
      'anonymous-90isczv7mn9bdtr52jgh@example.com',
      'the derivation changed',
    )
  })
  it('depends on the collection secret, the secret and the nonce', () => {
    const base = pairEmail(nodeCrypto, 's1', { secret: SECRET, nonce: NONCE }, options)
    const others = [
      pairEmail(nodeCrypto, 's2', { secret: SECRET, nonce: NONCE }, options),
      pairEmail(nodeCrypto, 's1', { secret: SECRET.toLowerCase(), nonce: NONCE }, options),
      pairEmail(nodeCrypto, 's1', { secret: SECRET, nonce: NONCE.toUpperCase() }, options),
    ]
    for (const other of others) assert.notEqual(other, base, 'every part must change the email')
  })
})

describe('mayAdopt: the edges of the window', () => {
  const rows: [string, number, boolean][] = [
    ['created 60 s in the future (clock skew)', T0 + 60_000, true],
    ['created 1 s in the future', T0 + 1000, true],
    ['created 61 s in the future', T0 + 61_000, false],
    ['created exactly PAIR_TTL_SECONDS ago', T0 - PAIR_TTL_SECONDS * 1000, true],
  ]
  for (const [name, created, expected] of rows) {
    it(`${name}: ${expected ? 'adopted' : 'not adopted'}`, () => {
      assert.equal(mayAdopt(date(created), date(T0), T0), expected, name)
    })
  }
})
