import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  GUEST_PASSWORD_DIGEST,
  guestPasswordHash,
  isGuest,
  isGuestPasswordHash,
} from '../../src/core/guest-identity.ts'
import { nodeCrypto } from '../support/node-crypto.ts'

// Real bcrypt hashes written by PocketBase (password 'pass12345'), for contrast.
const REAL_HASHES = [
  '$2a$10$gPnXA4pVmfphqXy7bNhK6erbHUJGBrqXEnnUM5uhvqdl62.HOs0Ru',
  '$2a$10$UMyHWk6KStmcJDFVxFewce4896MVn8vzNm1if8enhxSjzqWjWS20O',
]

describe('guestPasswordHash', () => {
  it('is a canonical bcrypt hash: 60 characters, the field cost, a salt ending in one of .Oeu', () => {
    for (let i = 0; i < 200; i++) {
      assert.match(guestPasswordHash(nodeCrypto, 0), /^\$2a\$10\$[./A-Za-z0-9]{21}[.Oeu][./A-Za-z0-9]{31}$/)
    }
    assert.match(guestPasswordHash(nodeCrypto, 12), /^\$2a\$12\$/)
  })
  it('has a random salt and the fixed guest digest', () => {
    const a = guestPasswordHash(nodeCrypto, 10)
    const b = guestPasswordHash(nodeCrypto, 10)
    assert.notEqual(a.slice(7, 29), b.slice(7, 29))
    assert.equal(a.slice(29), GUEST_PASSWORD_DIGEST)
  })
})

describe('isGuestPasswordHash', () => {
  it('recognizes the marker at any cost', () => {
    assert.equal(isGuestPasswordHash(guestPasswordHash(nodeCrypto, 10)), true)
    assert.equal(isGuestPasswordHash(guestPasswordHash(nodeCrypto, 4)), true)
  })
  const refused: [string, string][] = [
    ['a real bcrypt hash', REAL_HASHES[0]!],
    ['another real bcrypt hash', REAL_HASHES[1]!],
    ['the empty string', ''],
    ['the digest alone', GUEST_PASSWORD_DIGEST],
    ['the marker with a non-canonical salt', `$2a$10$${'a'.repeat(22)}${GUEST_PASSWORD_DIGEST}`],
    ['the marker with a trailing character', `${guestPasswordHash(nodeCrypto, 10)}x`],
    ['the marker with a leading space', ` ${guestPasswordHash(nodeCrypto, 10)}`],
    ['a short salt', `$2a$10$${'a'.repeat(20)}e${GUEST_PASSWORD_DIGEST}`],
  ]
  for (const [label, hash] of refused) {
    it(`refuses ${label}`, () => assert.equal(isGuestPasswordHash(hash), false))
  }
})

describe('isGuest', () => {
  const marker = guestPasswordHash(nodeCrypto, 10)
  it('needs both facts: the flag and the marker', () => {
    assert.equal(isGuest(true, marker), true)
    assert.equal(isGuest(false, marker), false, 'a cleared flag (a superuser made it a full account)')
    assert.equal(isGuest(true, REAL_HASHES[0]!), false, 'a flagged full account')
    assert.equal(isGuest(false, REAL_HASHES[0]!), false)
  })
})
