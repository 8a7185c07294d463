import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AnonymousAuthError, ErrorCodes, isAnonymousAuthError, rateLimited } from '../../src/core/errors.ts'
import { fieldErrorsOf, goErrorMessage, isUniqueViolation } from '../../src/core/go-errors.ts'

describe('AnonymousAuthError', () => {
  it('carries code, status and details', () => {
    const error = new AnonymousAuthError(ErrorCodes.RATE_LIMITED, 'slow down', { retryAfterSeconds: 12 })
    assert.equal(error.code, 'RATE_LIMITED')
    assert.equal(error.status, 429)
    assert.equal(error.retryAfterSeconds, 12)
    assert.ok(error instanceof Error)
    assert.ok(isAnonymousAuthError(error))
  })
  it('maps every code to an HTTP status', () => {
    for (const code of Object.values(ErrorCodes)) {
      const status = new AnonymousAuthError(code, 'x').status
      assert.ok(status >= 400 && status < 600, `${code} -> ${status}`)
    }
  })
  it('is not confused with other errors', () => {
    assert.equal(isAnonymousAuthError(new Error('x')), false)
    assert.equal(isAnonymousAuthError(null), false)
  })
})

describe('PocketBase validation errors', () => {
  const error = new Error('GoError: email: Value must be unique.; password: Must be at least 8 character(s).')
  it('strips the GoError prefix', () => {
    assert.equal(goErrorMessage(error).startsWith('email:'), true)
  })
  it('splits per field', () => {
    assert.deepEqual(fieldErrorsOf(error), {
      email: 'Value must be unique',
      password: 'Must be at least 8 character(s)',
    })
  })
  it('spots a unique violation on a field', () => {
    assert.equal(isUniqueViolation(error, 'email'), true)
    assert.equal(isUniqueViolation(error, 'password'), false)
  })
})

describe('rateLimited', () => {
  it('says when to retry, in seconds below 90 and in minutes above', () => {
    assert.match(rateLimited('Slow down.', 42).message, /^Slow down\. Try again in 42 seconds\.$/)
    assert.match(rateLimited('Slow down.', 3601).message, /^Slow down\. Try again in 61 minutes\.$/)
    assert.equal(rateLimited('x', 7).retryAfterSeconds, 7)
    assert.equal(rateLimited('x', 7).status, 429)
  })
})
