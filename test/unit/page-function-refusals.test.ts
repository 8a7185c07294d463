// What signIn() and failedAttempts() tell the app when they refuse: the reason a token was refused,
// and which keys share a throttle (case-folded, but distinct keys never merged).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isAnonymousAuthError } from '../../src/core/errors.ts'
import { outcomeOf, World } from '../support/fake-world.ts'

function messageOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    if (isAnonymousAuthError(error)) {
      assert.equal(error.code, 'INVALID_TOKEN', `refused as INVALID_TOKEN: ${error.message}`)
      return error.message
    }
    throw error
  }
  assert.fail('expected a refusal')
}

describe('signIn(): the reason in the refusal', () => {
  it('no token at all: the reason a cookie without one gets', () => {
    const w = new World()
    for (const input of [{}, { token: 42 }, null]) {
      const message = messageOf(() => w.post().auth.signIn(input))
      assert.match(message, /this one was refused \(malformed cookie\)\.$/, `${JSON.stringify(input)}: ${message}`)
    }
  })
  it('an impersonation token: "not refreshable"', () => {
    const w = new World()
    const user = w.insertUser()
    const token = w.backend.token(user, 'auth', undefined, { refreshable: false })
    const message = messageOf(() => w.post().auth.signIn({ token }))
    assert.match(
      message,
      /this one was refused \(not refreshable \(an impersonation token\)\)\.$/,
      `says why: ${message}`,
    )
  })
})

describe('failedAttempts(): which keys share a count', () => {
  const limits = { perKey: 2, perNetwork: 100, windowSeconds: 600 }
  const attempt = (w: World, key: string) =>
    outcomeOf(w.post(), (auth) => auth.failedAttempts('password-sign-in', limits).begin(key)).error
  it('case-folds without merging distinct keys: straße and STRASSE are two accounts', () => {
    const w = new World()
    assert.deepEqual([attempt(w, 'straße'), attempt(w, 'STRAßE')], [null, null], 'two failures on one key')
    assert.equal(attempt(w, 'Straße'), 'RATE_LIMITED', 'the same key in another case is limited')
    assert.equal(attempt(w, 'STRASSE'), null, 'another key is not')
  })
})
