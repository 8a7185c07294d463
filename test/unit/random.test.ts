import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { EMAIL_RANDOM_LENGTH, randomGuestEmail } from '../../src/core/random.ts'
import { nodeCrypto } from '../support/node-crypto.ts'

describe('randomGuestEmail', () => {
  it('has the documented shape', () => {
    assert.match(randomGuestEmail(nodeCrypto, 'anonymous-', 'example.com'), /^anonymous-[a-z0-9]{20}@example\.com$/)
  })
  it('carries at least 96 bits of randomness', () => {
    assert.ok(EMAIL_RANDOM_LENGTH * Math.log2(36) >= 96, '20 characters of [a-z0-9] carry at least 96 bits')
  })
  it('asks the generator for lower-case letters and digits only', () => {
    let seen = ''
    const spy = {
      ...nodeCrypto,
      randomString: (length: number, alphabet: string) => {
        seen = alphabet
        return 'x'.repeat(length)
      },
    }
    randomGuestEmail(spy, 'p-', 'd.test')
    assert.equal(seen, 'abcdefghijklmnopqrstuvwxyz0123456789')
  })
  it('does not repeat across many draws', () => {
    const emails = new Set(Array.from({ length: 5000 }, () => randomGuestEmail(nodeCrypto, 'a-', 'example.com')))
    assert.equal(emails.size, 5000)
  })
})
