// The emailed code's rules (one-time-code.ts), one edge at a time: the lifetime PocketBase gives a
// code and when it ends, the digits, which addresses a code may be mailed to, and which form input
// names a code. The operations that use them are in upgrade-code.test.ts.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isAnonymousAuthError } from '../../src/core/errors.ts'
import {
  checkAddress,
  checkCodeInput,
  codeDigits,
  codeLifetimeSeconds,
  hasExpired,
} from '../../src/core/one-time-code.ts'
import type { CollectionInfo } from '../../src/core/ports.ts'
import { T0 } from '../support/fake-world.ts'

const GUESTS = { emailPrefix: 'anonymous-', emailDomain: 'example.com' }

function collection(otp: { duration: number; length: number }): CollectionInfo {
  return { otp } as CollectionInfo
}

/** The VALIDATION_FAILED error `fn` throws: its message and field errors. */
function refusal(fn: () => unknown): { message: string; fieldErrors?: Record<string, string> } {
  try {
    fn()
  } catch (error) {
    if (isAnonymousAuthError(error)) {
      assert.equal(error.code, 'VALIDATION_FAILED', `a validation error: ${error.message}`)
      return error
    }
    throw error
  }
  assert.fail('expected a refusal')
}

describe('the lifetime of a code (otp.duration)', () => {
  it("is the collection's otp.duration, capped at PocketBase's maximum of a day", () => {
    assert.equal(codeLifetimeSeconds(collection({ duration: 300, length: 8 })), 300, 'otp.duration 300')
    assert.equal(codeLifetimeSeconds(collection({ duration: 1, length: 8 })), 1, 'the shortest lifetime, 1 s')
    assert.equal(codeLifetimeSeconds(collection({ duration: 86400, length: 8 })), 86400, 'exactly a day')
    assert.equal(codeLifetimeSeconds(collection({ duration: 1e9, length: 8 })), 86400, 'more than a day: a day')
  })
  it("is PocketBase's 180 s when otp.duration was never set (0) or is unusable", () => {
    for (const duration of [0, -5, Number.NaN]) {
      assert.equal(codeLifetimeSeconds(collection({ duration, length: 8 })), 180, `otp.duration ${duration}`)
    }
  })
  it('a code ends after its lifetime: at exactly the lifetime it still works, a millisecond later not', () => {
    const code = { id: 'abc', collectionId: 'pbc_users', recordId: 'r', sentTo: 'a@mail.test', createdMs: T0 }
    const c = collection({ duration: 300, length: 8 })
    assert.equal(hasExpired(code, c, T0 + 300_000), false, 'at 300 s the code still works (PocketBase: more than)')
    assert.equal(hasExpired(code, c, T0 + 300_001), true, 'after 300 s it has expired')
  })
})

describe('the digits of a code (otp.length)', () => {
  it("are the collection's otp.length, never fewer than 8", () => {
    assert.equal(codeDigits(collection({ duration: 180, length: 12 })), 12, 'otp.length 12')
    assert.equal(codeDigits(collection({ duration: 180, length: 0 })), 8, 'never set: 8')
  })
})

describe('checkAddress: where a code may be mailed', () => {
  it('returns the address trimmed', () => {
    assert.equal(checkAddress('  Person@Mail.test ', GUESTS), 'Person@Mail.test', 'trimmed, case kept')
  })
  it('refuses no address, or something that is not text, asking for one', () => {
    for (const input of ['', '   ', undefined, 42, ['a@mail.test']]) {
      const error = refusal(() => checkAddress(input, GUESTS))
      assert.deepEqual(
        error.fieldErrors,
        { email: 'Enter an email address.' },
        `${JSON.stringify(input)}: the email field says what is missing`,
      )
      assert.equal(error.message, 'email: Enter an email address.', `${JSON.stringify(input)}: the message`)
    }
  })
  it("accepts PocketBase's longest address, 255 characters, and refuses one more", () => {
    const longest = `${'x'.repeat(255 - '@mail.test'.length)}@mail.test`
    assert.equal(checkAddress(longest, GUESTS), longest, '255 characters are accepted')
    assert.deepEqual(
      refusal(() => checkAddress(`x${longest}`, GUESTS)).fieldErrors,
      { email: 'Use at most 255 characters.' },
      '256 are refused with the limit',
    )
  })
  it('refuses what is not one plain address: no @, two @, a dot missing, spaces, lists, angle brackets', () => {
    const bad = [
      'not-an-email',
      'a@b@mail.test',
      'a@mail.test@x',
      '@mail.test',
      'a@mailtest',
      'a b@mail.test',
      'a@mail.test, b@mail.test',
      'Name <a@mail.test>',
      'a;b@mail.test',
      '"a"@mail.test',
    ]
    for (const email of bad) {
      assert.deepEqual(
        refusal(() => checkAddress(email, GUESTS)).fieldErrors,
        { email: 'Enter a valid email address.' },
        `${JSON.stringify(email)} is refused as not valid`,
      )
    }
  })
  it("refuses the guests' own made-up addresses, in any case, and only those", () => {
    for (const email of ['anonymous-abc@example.com', 'Anonymous-ABC@Example.COM']) {
      assert.deepEqual(
        refusal(() => checkAddress(email, GUESTS)).fieldErrors,
        { email: 'Enter your own email address.' },
        `${email}: a guest's address`,
      )
    }
    // Either half alone is somebody's real address.
    assert.equal(checkAddress('anonymous-abc@mail.test', GUESTS), 'anonymous-abc@mail.test', 'the prefix elsewhere')
    assert.equal(checkAddress('person@example.com', GUESTS), 'person@example.com', 'the domain without the prefix')
  })
})

describe('checkCodeInput: which code the form names', () => {
  it('trims the code id and drops the spaces and dashes people copy along with the code', () => {
    assert.deepEqual(
      checkCodeInput({ otpId: ' abc123 ', code: ' 1234-5678 ' }),
      { otpId: 'abc123', code: '12345678' },
      'trimmed id, digits only',
    )
  })
  it('refuses a code id that cannot be a record id, saying to ask for a new code', () => {
    for (const otpId of [undefined, 42, '', 'abc!', '../abc', 'ABC', 'a'.repeat(51)]) {
      const error = refusal(() => checkCodeInput({ otpId, code: '12345678' }))
      const message = 'This form has no valid code request. Ask for a new code.'
      assert.deepEqual(error.fieldErrors, { otpId: message }, `${JSON.stringify(otpId)}: on the otpId field`)
      assert.equal(error.message, `otpId: ${message}`, `${JSON.stringify(otpId)}: the message names the field`)
    }
    assert.equal(checkCodeInput({ otpId: 'a'.repeat(50), code: '1' }).otpId.length, 50, 'an id of 50 is accepted')
  })
  it('refuses a code that is not 1 to 32 digits', () => {
    for (const code of [undefined, 12345678, '', 'ab12', '12ab', '1'.repeat(33)]) {
      const error = refusal(() => checkCodeInput({ otpId: 'abc', code }))
      assert.deepEqual(
        error.fieldErrors,
        { code: 'Enter the code from the email (digits only).' },
        `${JSON.stringify(code)}: on the code field`,
      )
    }
    assert.equal(checkCodeInput({ otpId: 'abc', code: '1'.repeat(32) }).code.length, 32, '32 digits are accepted')
  })
})
