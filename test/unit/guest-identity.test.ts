import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  GUEST_PASSWORD_DIGEST,
  guestPasswordHash,
  isGuest,
  isGuestPasswordHash,
  isGuestRecord,
  noPasswordHash,
} from '../../src/core/guest-identity.ts'
import type { AuthRecord, Backend } from '../../src/core/ports.ts'
import { World } from '../support/fake-world.ts'
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
    assert.match(guestPasswordHash(nodeCrypto, 4), /^\$2a\$04\$/)
  })
  it("draws the salt from bcrypt's alphabet, its last character from the four canonical ones", () => {
    const asked: [number, string][] = []
    const spy = {
      ...nodeCrypto,
      randomString: (length: number, alphabet: string) => {
        asked.push([length, alphabet])
        return alphabet.slice(0, length)
      },
    }
    assert.equal(guestPasswordHash(spy, 10), `$2a$10$./ABCDEFGHIJKLMNOPQRS.${GUEST_PASSWORD_DIGEST}`)
    assert.deepEqual(asked, [
      [21, './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'],
      [1, '.Oeu'],
    ])
  })
  it('has a random salt and the fixed guest digest', () => {
    const a = guestPasswordHash(nodeCrypto, 10)
    const b = guestPasswordHash(nodeCrypto, 10)
    assert.notEqual(a.slice(7, 29), b.slice(7, 29))
    assert.equal(a.slice(29), GUEST_PASSWORD_DIGEST)
  })
})

describe('noPasswordHash (a guest linked to an OAuth2 identity, with no password)', () => {
  it('is a well-formed bcrypt hash at the field cost, like the ones PocketBase writes', () => {
    const shape = /^\$2a\$(\d\d)\$[./A-Za-z0-9]{21}[.Oeu][./A-Za-z0-9]{30}[.Oeu]$/
    for (const [cost, rounds] of [
      [0, '10'],
      [4, '04'],
      [10, '10'],
      [12, '12'],
    ] as const) {
      const hash = noPasswordHash(nodeCrypto, cost)
      assert.equal(shape.exec(hash)?.[1], rounds, `cost ${cost}: ${hash}`)
      assert.equal(hash.length, REAL_HASHES[0]!.length, 'the length of a real bcrypt hash')
    }
  })
  it('is no longer the guest marker, and never the same twice', () => {
    const a = noPasswordHash(nodeCrypto, 10)
    assert.equal(isGuestPasswordHash(a), false, 'an account, not a guest')
    assert.notEqual(a, noPasswordHash(nodeCrypto, 10), 'a random digest')
  })
})

describe('isGuestPasswordHash', () => {
  it('recognizes the $2b$ and $2y$ spellings', () => {
    for (const v of ['2b', '2y'])
      assert.equal(isGuestPasswordHash(`$${v}$10$${'a'.repeat(21)}u${GUEST_PASSWORD_DIGEST}`), true)
  })
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
    ['an unknown bcrypt version', `$2x$10$${'a'.repeat(21)}e${GUEST_PASSWORD_DIGEST}`],
    ['a one-digit cost', `$2a$9$${'a'.repeat(21)}e${GUEST_PASSWORD_DIGEST}`],
    ['a salt outside the alphabet', `$2a$10$${'a'.repeat(20)}-e${GUEST_PASSWORD_DIGEST}`],
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

describe('isGuestRecord', () => {
  const w = new World()
  it('needs both facts on the record as stored', () => {
    assert.equal(isGuestRecord(w.backend, w.insertGuest(), 'anonymous'), true)
    assert.equal(isGuestRecord(w.backend, w.insertGuest({ anonymous: false }), 'anonymous'), false)
    assert.equal(isGuestRecord(w.backend, w.insertUser({ anonymous: true }), 'anonymous'), false)
    assert.equal(isGuestRecord(w.backend, w.insertGuest({ isGuest: true, anonymous: false }), 'isGuest'), true)
  })
  it('is false for no record, and for one it cannot read', () => {
    assert.equal(isGuestRecord(w.backend, null, 'anonymous'), false)
    assert.equal(isGuestRecord(w.backend, undefined, 'anonymous'), false)
    const unreadable = {
      getBool: () => {
        throw new Error('gone')
      },
    } as unknown as AuthRecord
    assert.equal(isGuestRecord(w.backend, unreadable, 'anonymous'), false)
    const noHash = Object.assign(Object.create(w.backend), {
      passwordHash: () => {
        throw new Error('x')
      },
    }) as Backend
    assert.equal(isGuestRecord(noHash, w.insertGuest(), 'anonymous'), false)
  })
})
