import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseCookieHeader, serializeCookie } from '../../src/host/cookies.ts'

const plain = (o: Record<string, unknown>) => ({ ...o })

describe('parseCookieHeader', () => {
  it('parses pairs and JSON-parses values where it can', () => {
    const header = 'pb_auth=%7B%22token%22%3A%22t%22%7D; name=Ada; n=42; flag=true; "q"="x"'
    assert.deepEqual(plain(parseCookieHeader(header)), {
      pb_auth: { token: 't' },
      name: 'Ada',
      n: 42,
      flag: true,
      '"q"': 'x',
    })
  })

  it('never throws on hostile input', () => {
    const hostile = [
      '',
      ';;;',
      '=',
      '=x',
      'a',
      'bad=%E0%A4%A',
      'x=%',
      'toString=1',
      '__proto__=1',
      'a=b=c',
      ' spaced = v ',
    ]
    for (const header of hostile) assert.doesNotThrow(() => parseCookieHeader(header), header)
    assert.deepEqual(plain(parseCookieHeader('bad=%E0%A4%A; x=%')), { bad: '%E0%A4%A', x: '%' })
    assert.deepEqual(plain(parseCookieHeader('a=b=c; spaced = v ')), { a: 'b=c', spaced: 'v' })
    assert.deepEqual(plain(parseCookieHeader(undefined)), {})
    assert.deepEqual(plain(parseCookieHeader(null)), {})
  })

  it('keeps the first of duplicate names', () => {
    assert.deepEqual(plain(parseCookieHeader('a=1; a=2')), { a: 1 })
  })

  it('returns a prototype-less map', () => {
    const parsed = parseCookieHeader('toString=1; __proto__=2')
    assert.equal(Object.getPrototypeOf(parsed), null)
    assert.equal(parsed.toString, 1)
    assert.equal(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value, 2)
  })
})

describe('serializeCookie', () => {
  it('URL-encodes the value', () => {
    assert.equal(serializeCookie('a', 'x y;z={"k":1}'), 'a=x%20y%3Bz%3D%7B%22k%22%3A1%7D')
  })

  it('writes every attribute', () => {
    const expires = new Date(Date.UTC(2030, 0, 2, 3, 4, 5))
    assert.equal(
      serializeCookie('s', 'v', {
        path: '/',
        domain: 'example.com',
        maxAge: 60.9,
        expires,
        httpOnly: true,
        secure: true,
        sameSite: 'lax',
      }),
      's=v; Max-Age=60; Domain=example.com; Path=/; Expires=Wed, 02 Jan 2030 03:04:05 GMT; HttpOnly; Secure; SameSite=Lax',
    )
  })

  it('maps sameSite values', () => {
    assert.match(serializeCookie('s', 'v', { sameSite: true }), /SameSite=Strict$/)
    assert.match(serializeCookie('s', 'v', { sameSite: 'strict' }), /SameSite=Strict$/)
    assert.match(serializeCookie('s', 'v', { sameSite: 'Lax' as 'lax' }), /SameSite=Lax$/)
    assert.match(serializeCookie('s', 'v', { sameSite: 'none' }), /SameSite=None$/)
    assert.equal(serializeCookie('s', 'v', { sameSite: false }), 's=v')
  })

  it('throws on programmer errors without echoing the value', () => {
    assert.throws(
      () => serializeCookie('bad name', 'secret'),
      (e: Error) => e instanceof TypeError && !e.message.includes('secret'),
    )
    assert.throws(
      () => serializeCookie('s', 'secret', { maxAge: Infinity }),
      (e: Error) => !e.message.includes('secret'),
    )
    assert.throws(() => serializeCookie('s', 'v', { path: '/a;b' }), /invalid path/)
    assert.throws(() => serializeCookie('s', 'v', { domain: 'a;b' }), /invalid domain/)
    assert.throws(() => serializeCookie('s', 'v', { expires: new Date(NaN) }), /expires/)
    assert.throws(() => serializeCookie('s', 'v', { sameSite: 'sometimes' as 'lax' }), /sameSite/)
  })
})
