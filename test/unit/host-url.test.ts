import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseQuery, parseUrl, stringify } from '../../src/host/global-api.ts'

describe('parseUrl', () => {
  it('splits an absolute URL', () => {
    const url = parseUrl('https://Example.com:8443/a/b?x=1#top')
    assert.equal(url.protocol, 'https:')
    assert.equal(url.host, 'Example.com:8443')
    assert.equal(url.hostname, 'Example.com')
    assert.equal(url.port, '8443')
    assert.equal(url.pathname, '/a/b')
    assert.deepEqual(url.query, { x: 1 })
    assert.equal(url.hash, '#top')
    assert.equal(url.toString(), 'https://Example.com:8443/a/b?x=1#top')
  })

  it('keeps a request URI relative, as PocketPages sees it', () => {
    const url = parseUrl('/login?next=%2Fhome')
    assert.equal(url.protocol, '')
    assert.equal(url.host, '')
    assert.equal(url.pathname, '/login')
    assert.deepEqual(url.query, { next: '/home' })
    assert.equal(url.toString(), '/login?next=%2Fhome')
  })

  it('handles IPv6 hosts and a bare host', () => {
    const url = parseUrl('http://[::1]:8090')
    assert.equal(url.hostname, '[::1]')
    assert.equal(url.port, '8090')
    assert.equal(url.pathname, '/')
    assert.equal(parseUrl('http://[::1]').hostname, '[::1]')
  })

  it('rebuilds from an edited query, JSON-encoding non-strings', () => {
    const url = parseUrl('/p?a=1')
    url.query.b = 'x y'
    url.query.o = { k: true }
    assert.equal(url.toString(), '/p?a=1&b=x%20y&o=%7B%22k%22%3Atrue%7D')
  })
})

describe('parseQuery', () => {
  it('JSON-parses values where it can, like PocketPages', () => {
    assert.deepEqual(parseQuery('n=1&t=true&o=%7B%22a%22%3A1%7D&s=abc&z=007&e='), {
      n: 1,
      t: true,
      o: { a: 1 },
      s: 'abc',
      z: '007',
      e: '',
    })
  })

  it('decodes +, keeps the first duplicate, skips broken pairs and prototype keys, never throws', () => {
    assert.deepEqual(parseQuery('a=x+y&a=2&bad=%E0%A4%A&&flag&__proto__=1&toString=2'), { a: 'x y', flag: '' })
  })
})

describe('stringify', () => {
  it('survives circular structures and undefined', () => {
    const a: Record<string, unknown> = { n: 1 }
    a.self = a
    assert.equal(stringify(a), '{"n":1,"self":"[Circular]"}')
    assert.equal(stringify(undefined), 'undefined')
  })

  it('does not mistake repeated (non-circular) references for cycles', () => {
    const shared = { k: 1 }
    assert.equal(stringify({ a: shared, b: shared }), '{"a":{"k":1},"b":{"k":1}}')
  })
})
