import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { readCookieValues, serializeCookie } from '../../src/core/cookie.ts'

describe('readCookieValues', () => {
  it('returns the value of the named cookie', () => {
    assert.deepEqual(readCookieValues('a=1; pb_auth=xyz; b=2', 'pb_auth'), ['xyz'])
  })
  it('returns every value when the name repeats (the caller refuses ambiguity)', () => {
    assert.deepEqual(readCookieValues('pb_auth=one; pb_auth=two', 'pb_auth'), ['one', 'two'])
  })
  it('strips surrounding double quotes', () => {
    assert.deepEqual(readCookieValues('pb_auth="abc"', 'pb_auth'), ['abc'])
  })
  it('keeps "=" inside values', () => {
    assert.deepEqual(readCookieValues('pb_auth=a=b=c', 'pb_auth'), ['a=b=c'])
  })
  const hostile: [string, string | null | undefined][] = [
    ['empty header', ''],
    ['missing header', undefined],
    ['null header', null],
    ['no equals sign', 'pb_auth'],
    ['only separators', ';;;;'],
    ['stray percent', 'x=%; y=%zz'],
    ['prototype names', 'toString=1; __proto__=2; constructor=3'],
    ['name with spaces around', '  other = 1 '],
  ]
  for (const [label, header] of hostile) {
    it(`never throws and finds nothing: ${label}`, () => {
      assert.deepEqual(readCookieValues(header, 'pb_auth'), [])
    })
  }
  it('does not match a cookie whose name merely contains the name', () => {
    assert.deepEqual(readCookieValues('xpb_auth=1; pb_authx=2', 'pb_auth'), [])
  })
})

describe('serializeCookie', () => {
  it('writes the flags in order', () => {
    const header = serializeCookie('pb_auth', 'v', {
      path: '/',
      maxAgeSeconds: 60,
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
    })
    assert.match(header, /^pb_auth=v; Path=\/; Max-Age=60; Expires=[^;]+ GMT; HttpOnly; Secure; SameSite=Lax$/)
  })
  it('omits flags that are off', () => {
    assert.equal(serializeCookie('a', 'b', { httpOnly: false, secure: false }), 'a=b')
  })
  it('expires a cleared cookie in the past', () => {
    const header = serializeCookie('a', '', { path: '/', maxAgeSeconds: 0 })
    assert.match(header, /Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT/)
  })
  it('refuses an invalid name', () => {
    assert.throws(() => serializeCookie('a b', 'v', {}), /Invalid cookie name/)
  })
  it('refuses an unencoded value without echoing it', () => {
    assert.throws(
      () => serializeCookie('pb_auth', 'secret token;', {}),
      (error: Error) => error instanceof TypeError && !error.message.includes('secret'),
    )
  })
  it('refuses a fractional Max-Age', () => {
    assert.throws(() => serializeCookie('a', 'b', { maxAgeSeconds: 1.5 }), /whole number/)
  })
})
