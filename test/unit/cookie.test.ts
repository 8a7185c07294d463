import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isValidCookieName, readCookieValues, serializeCookie } from '../../src/core/cookie.ts'

describe('readCookieValues', () => {
  it('returns the value of the named cookie', () => {
    assert.deepEqual(readCookieValues(['a=1; pb_auth=xyz; b=2'], 'pb_auth'), ['xyz'])
  })
  it('returns every value when the name repeats (the caller refuses ambiguity)', () => {
    assert.deepEqual(readCookieValues(['pb_auth=one; pb_auth=two'], 'pb_auth'), ['one', 'two'])
  })
  it('strips surrounding double quotes', () => {
    assert.deepEqual(readCookieValues(['pb_auth="abc"'], 'pb_auth'), ['abc'])
  })
  it('keeps "=" inside values', () => {
    assert.deepEqual(readCookieValues(['pb_auth=a=b=c'], 'pb_auth'), ['a=b=c'])
  })
  it('reads every Cookie header line: a duplicate across lines counts', () => {
    assert.deepEqual(readCookieValues(['a=1; pb_auth=one', 'pb_auth=two'], 'pb_auth'), ['one', 'two'])
  })
  it('finds nothing without any Cookie line', () => {
    assert.deepEqual(readCookieValues([], 'pb_auth'), [])
  })
  const hostile: [string, string][] = [
    ['empty header', ''],
    ['no equals sign', 'pb_auth'],
    ['only separators', ';;;;'],
    ['stray percent', 'x=%; y=%zz'],
    ['prototype names', 'toString=1; __proto__=2; constructor=3'],
    ['name with spaces around', '  other = 1 '],
    ['the name and more, without equals sign', 'pb_authx'],
  ]
  for (const [label, header] of hostile) {
    it(`never throws and finds nothing: ${label}`, () => {
      assert.deepEqual(readCookieValues([header], 'pb_auth'), [])
    })
  }
  it('keeps a lone double quote, and an empty quoted value', () => {
    assert.deepEqual(readCookieValues(['pb_auth="; a="x'], 'pb_auth'), ['"'])
    assert.deepEqual(readCookieValues(['pb_auth=""'], 'pb_auth'), [''])
    assert.deepEqual(readCookieValues(['pb_auth="abc'], 'pb_auth'), ['"abc'])
    assert.deepEqual(readCookieValues(['pb_auth=abc"'], 'pb_auth'), ['abc"'])
  })
  it('reads an empty value, and names with spaces around them', () => {
    assert.deepEqual(readCookieValues(['pb_auth=; x=1', ' pb_auth = v '], 'pb_auth'), ['', 'v'])
  })
  it('does not match a cookie whose name merely contains the name', () => {
    assert.deepEqual(readCookieValues(['xpb_auth=1; pb_authx=2'], 'pb_auth'), [])
  })
})

describe('serializeCookie', () => {
  const now = Date.UTC(2026, 10, 30, 12, 0, 0)
  it('writes the value unchanged and every flag', () => {
    const header = serializeCookie(
      'pb_auth',
      'v%7B',
      { path: '/', maxAgeSeconds: 60, httpOnly: true, secure: true, sameSite: 'Lax' },
      now,
    )
    assert.equal(
      header,
      'pb_auth=v%7B; Max-Age=60; Path=/; Expires=Mon, 30 Nov 2026 12:01:00 GMT; HttpOnly; Secure; SameSite=Lax',
    )
  })
  it('omits flags that are off', () => {
    assert.equal(serializeCookie('a', 'b', { httpOnly: false, secure: false }, now), 'a=b')
  })
  it('expires a cleared cookie in the past', () => {
    const header = serializeCookie('a', '', { path: '/', maxAgeSeconds: 0 }, now)
    assert.match(header, /Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT/)
  })
  it('writes Domain and every SameSite value', () => {
    for (const sameSite of ['Lax', 'Strict', 'None'] as const) {
      assert.equal(
        serializeCookie('a', 'b', { domain: 'app.test', sameSite }, now),
        `a=b; Domain=app.test; SameSite=${sameSite}`,
      )
    }
  })
  it('expires a negative Max-Age at the epoch too', () => {
    assert.match(serializeCookie('a', '', { maxAgeSeconds: -5 }, now), /Expires=Thu, 01 Jan 1970 00:00:00 GMT/)
  })
  it('writes no Expires without a Max-Age', () => {
    assert.equal(serializeCookie('a', 'b', { path: '/' }, now), 'a=b; Path=/')
  })
  it('refuses an invalid name', () => {
    assert.throws(() => serializeCookie('a b', 'v', {}, now), TypeError)
  })
})

describe('isValidCookieName', () => {
  it('accepts RFC 6265 tokens and refuses separators', () => {
    assert.equal(isValidCookieName('__Host-pb_auth'), true)
    for (const name of ['', 'a b', 'a;b', 'a=b', 'a,b', 'é']) assert.equal(isValidCookieName(name), false, name)
  })
})
