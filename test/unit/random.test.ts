import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  EMAIL_RANDOM_LENGTH,
  type RandomStringFn,
  randomGuestEmail,
  unusablePasswordHash,
} from '../../src/core/random.ts'

/** Stand-in for $security.randomStringWithAlphabet, backed by Node's CSPRNG. */
const random: RandomStringFn = (length, alphabet) =>
  Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('')

describe('randomGuestEmail', () => {
  it('has the documented shape', () => {
    assert.match(randomGuestEmail(random, 'anonymous-', 'example.com'), /^anonymous-[a-z0-9]{20}@example\.com$/)
  })
  it('carries at least 96 bits of randomness', () => {
    assert.ok(EMAIL_RANDOM_LENGTH * Math.log2(36) >= 96)
  })
  it('asks the generator for lower-case letters and digits only', () => {
    let seen = ''
    randomGuestEmail(
      (length, alphabet) => {
        seen = alphabet
        return 'x'.repeat(length)
      },
      'p-',
      'd.test',
    )
    assert.equal(seen, 'abcdefghijklmnopqrstuvwxyz0123456789')
  })
  it('does not repeat across many draws', () => {
    const emails = new Set(Array.from({ length: 5000 }, () => randomGuestEmail(random, 'a-', 'example.com')))
    assert.equal(emails.size, 5000)
  })
})

describe('unusablePasswordHash', () => {
  it('is a well-formed bcrypt hash (60 characters, cost 10)', () => {
    assert.match(unusablePasswordHash(random), /^\$2a\$10\$[./A-Za-z0-9]{53}$/)
  })
  it('is different every time', () => {
    assert.notEqual(unusablePasswordHash(random), unusablePasswordHash(random))
  })
})
