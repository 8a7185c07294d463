import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  AnonymousAuthError,
  describeError,
  ErrorCodes,
  isAnonymousAuthError,
  rateLimited,
  sessionEnded,
} from '../../src/core/errors.ts'
import { fieldErrorsOf, goErrorMessage, isUniqueViolation } from '../../src/core/go-errors.ts'

describe('AnonymousAuthError', () => {
  it('carries code, status, name and the details given', () => {
    const error = new AnonymousAuthError(ErrorCodes.VALIDATION_FAILED, 'fix it', {
      fieldErrors: { email: 'x' },
      collection: 'users',
      retryAfterSeconds: 3,
    })
    assert.deepEqual(
      [
        error.name,
        error.code,
        error.status,
        error.message,
        error.fieldErrors,
        error.collection,
        error.retryAfterSeconds,
      ],
      ['AnonymousAuthError', 'VALIDATION_FAILED', 400, 'fix it', { email: 'x' }, 'users', 3],
    )
  })
  it('has no detail keys that were not given', () => {
    assert.deepEqual(Object.keys(new AnonymousAuthError(ErrorCodes.NOT_SIGNED_IN, 'x')).sort(), [
      'code',
      'name',
      'status',
    ])
  })
  it('each code is its own name', () => {
    for (const [key, code] of Object.entries(ErrorCodes)) assert.equal(key, code)
  })
})

describe('isAnonymousAuthError', () => {
  it('recognises the plugin error by name and code, across bundles', () => {
    assert.equal(isAnonymousAuthError(new AnonymousAuthError(ErrorCodes.NOT_SIGNED_IN, 'x')), true)
    assert.equal(isAnonymousAuthError({ name: 'AnonymousAuthError', code: 'NOT_SIGNED_IN' }), true)
  })
  const others: [string, unknown][] = [
    ['an Error', new Error('x')],
    ['null', null],
    ['a string', 'AnonymousAuthError'],
    ['the name without a code', { name: 'AnonymousAuthError' }],
    ['the name with a numeric code', { name: 'AnonymousAuthError', code: 429 }],
    ['a code under another name', { name: 'Error', code: 'NOT_SIGNED_IN' }],
    ['a function of that name', Object.assign(function AnonymousAuthError() {}, { code: 'NOT_SIGNED_IN' })],
  ]
  for (const [name, value] of others) {
    it(`not ${name}`, () => assert.equal(isAnonymousAuthError(value), false))
  }
})

describe('rateLimited', () => {
  const cases: [number, string][] = [
    [1, '1 seconds'],
    [89, '89 seconds'],
    [90, '2 minutes'],
    [91, '2 minutes'],
    [3601, '61 minutes'],
  ]
  for (const [seconds, wait] of cases) {
    it(`${seconds} s: "Try again in ${wait}."`, () => {
      const error = rateLimited('Slow down.', seconds)
      assert.deepEqual(
        [error.code, error.status, error.retryAfterSeconds, error.message],
        ['RATE_LIMITED', 429, seconds, `Slow down. Try again in ${wait}.`],
      )
    })
  }
})

describe('describeError (one line for logs and developer pages)', () => {
  const cases: [string, unknown, string][] = [
    [
      'a plugin error: its code and message',
      new AnonymousAuthError(ErrorCodes.NOT_SIGNED_IN, 'Sign in.'),
      'NOT_SIGNED_IN: Sign in.',
    ],
    ['another error: its message', new TypeError('bad type'), 'bad type'],
    ['anything else: as text', 42, '42'],
    ['a plain object carrying a code', { name: 'AnonymousAuthError', code: 'X', message: 'm' }, 'X: m'],
  ]
  for (const [name, error, line] of cases) it(name, () => assert.equal(describeError(error), line))
})

describe('sessionEnded', () => {
  it('is SESSION_ENDED (409) and tells the user to reload', () => {
    const error = sessionEnded()
    assert.deepEqual(
      [error.code, error.status, error.message],
      [
        'SESSION_ENDED',
        409,
        'This guest session was changed by another request (saved, merged or signed out). Reload the page.',
      ],
    )
  })
})

describe('PocketBase validation errors', () => {
  const error = new Error('GoError: email: Value must be unique.; password: Must be at least 8 character(s).')
  it('the message without the GoError prefix and the final period', () => {
    assert.equal(goErrorMessage(new Error('GoError:   disk full...  ')), 'disk full')
    assert.equal(goErrorMessage('plain text.'), 'plain text')
    assert.equal(goErrorMessage(new Error('a GoError: b.')), 'a GoError: b')
    assert.equal(goErrorMessage(new Error('GoError: v1.2 failed.')), 'v1.2 failed')
  })
  it('splits per field', () => {
    assert.deepEqual(fieldErrorsOf(error), {
      email: 'Value must be unique',
      password: 'Must be at least 8 character(s)',
    })
    assert.deepEqual(fieldErrorsOf(new Error('email: Value must be unique; name: Cannot be blank.')), {
      email: 'Value must be unique',
      name: 'Cannot be blank',
    })
  })
  it('reads a field without a space after the colon, and a message with leading spaces', () => {
    assert.deepEqual(fieldErrorsOf(new Error('email:Value must be unique.')), { email: 'Value must be unique' })
    assert.deepEqual(fieldErrorsOf('  email: Invalid.'), { email: 'Invalid' })
  })
  it('is empty for an error that is not a validation error', () => {
    assert.deepEqual(fieldErrorsOf(new Error('disk full')), {})
    assert.deepEqual(fieldErrorsOf(new Error('not a: field: x')), {})
  })
  it('spots a unique violation on a field', () => {
    assert.equal(isUniqueViolation(error, 'email'), true)
    assert.equal(isUniqueViolation(error, 'password'), false)
    assert.equal(isUniqueViolation(new Error('email: VALUE MUST BE UNIQUE.'), 'email'), true)
    assert.equal(isUniqueViolation(new Error('disk full'), 'email'), false)
    assert.equal(isUniqueViolation(new Error('name: Value must be unique.'), 'email'), false, 'another field')
  })
  it('splits however much space follows a semicolon', () => {
    assert.deepEqual(fieldErrorsOf(new Error('email: Invalid;name: Blank;  \tage: Too low.')), {
      email: 'Invalid',
      name: 'Blank',
      age: 'Too low',
    })
  })
})
