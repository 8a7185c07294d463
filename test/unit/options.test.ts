import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DEFAULT_OPTIONS, resolveOptions } from '../../src/core/options.ts'

function invalid(input: unknown, pattern: RegExp) {
  assert.throws(
    () => resolveOptions(input),
    (error: Error & { code?: string }) => error.code === 'INVALID_OPTIONS' && pattern.test(error.message),
  )
}

describe('resolveOptions', () => {
  it('resolves no options to the documented defaults', () => {
    assert.deepEqual(resolveOptions(undefined), DEFAULT_OPTIONS)
    assert.deepEqual(resolveOptions({}), DEFAULT_OPTIONS)
  })
  it('accepts the keys PocketPages adds to a plugin entry', () => {
    assert.deepEqual(resolveOptions({ name: 'pocketpages-plugin-anonymous', debug: false }), DEFAULT_OPTIONS)
  })
  it('defaults collections to the chosen collection', () => {
    assert.deepEqual(resolveOptions({ collection: 'members' }).collections, ['members'])
  })
  it('merges nested options over the defaults', () => {
    const options = resolveOptions({ cookie: { sameSite: 'Strict' }, rateLimit: { perNetwork: 5 } })
    assert.equal(options.cookie.sameSite, 'Strict')
    assert.equal(options.cookie.httpOnly, true)
    assert.equal(options.rateLimit.perNetwork, 5)
    assert.equal(options.rateLimit.windowSeconds, 3600)
  })
  it('lower-cases the email domain and allowed origins', () => {
    const options = resolveOptions({
      emailDomain: 'Guests.Example.ORG',
      csrf: { allowedOrigins: ['https://App.Test'] },
    })
    assert.equal(options.emailDomain, 'guests.example.org')
    assert.deepEqual(options.csrf.allowedOrigins, ['https://app.test'])
  })
  it('names a misspelt key and the known ones', () =>
    invalid({ colection: 'users' }, /unknown key 'colection'.*collection/))
  it('names a misspelt nested key', () => invalid({ cookie: { samesite: 'Lax' } }, /unknown key 'samesite' in cookie/))
  it('refuses collections without the default collection', () =>
    invalid({ collection: 'a', collections: ['b'] }, /must include/))
  it('refuses a bad collection name', () => invalid({ collection: 'users; DROP' }, /collection must be/))
  it('refuses a bad sameSite', () => invalid({ cookie: { sameSite: 'lax' } }, /cookie.sameSite must be one of/))
  it('refuses a negative rate limit', () => invalid({ rateLimit: { perNetwork: -1 } }, /rateLimit.perNetwork/))
  it('refuses a fractional batch size', () => invalid({ cleanup: { batchSize: 2.5 } }, /whole number/))
  it('refuses a refresh fraction above 1', () => invalid({ keepAlive: { refreshAfterFraction: 2 } }, /between 0 and 1/))
  it('refuses an origin with a path', () =>
    invalid({ csrf: { allowedOrigins: ['https://a.test/x'] } }, /allowedOrigins/))
  it('refuses a non-function onMerge', () => invalid({ onMerge: 'move' }, /onMerge must be a function/))
  it('refuses an email domain with no dot', () => invalid({ emailDomain: 'localhost' }, /emailDomain/))
  it('accepts an onMerge function', () => {
    const onMerge = () => {}
    assert.equal(resolveOptions({ onMerge }).onMerge, onMerge)
  })
})
