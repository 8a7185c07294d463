// The cache rule for responses that carry a session (cache-rule.ts), and the session applying it
// again once the page has run (AuthSession.enforceCacheRule, called by the adapter's onResponse):
// a page that shows who is signed in is never stored by a shared cache, one that sets the cookie
// by no cache at all, and what the page asked for itself is only ever strengthened.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type CacheHeaders, requirePrivateCaching } from '../../src/core/cache-rule.ts'
import { FakeExchange } from '../support/fake-exchange.ts'
import { World } from '../support/fake-world.ts'

/** A response whose page already wrote these headers (in order). */
function response(headers: [string, string][] = []): FakeExchange {
  const exchange = new FakeExchange()
  for (const [name, value] of headers) exchange.addHeader(name, value)
  return exchange
}

describe('requirePrivateCaching: a response that shows the session', () => {
  it('a page that asked for shared caching becomes private, no-cache, and varies by Cookie', () => {
    const exchange = response([['Cache-Control', 'public, max-age=60']])
    requirePrivateCaching(exchange, false)
    assert.deepEqual(exchange.responseHeader('Cache-Control'), ['private, no-cache'], 'no shared cache')
    assert.deepEqual(exchange.responseHeader('Vary'), ['Cookie'], 'varies by Cookie')
  })
  it("keeps the page's own private or no-store caching, even when written as several header lines", () => {
    for (const cacheControl of [['private, max-age=60'], ['max-age=0', 'private'], ['NO-STORE']]) {
      const exchange = response(cacheControl.map((value) => ['Cache-Control', value]))
      requirePrivateCaching(exchange, false)
      assert.deepEqual(exchange.responseHeader('Cache-Control'), cacheControl, `${cacheControl.join(' | ')} is kept`)
    }
  })
  it('a word that only contains "private" is not private', () => {
    const exchange = response([['Cache-Control', 'x-notprivate']])
    requirePrivateCaching(exchange, false)
    assert.deepEqual(exchange.responseHeader('Cache-Control'), ['private, no-cache'], 'replaced')
  })
})

describe('requirePrivateCaching: a response that sets or clears the cookie', () => {
  it('private caching is not enough: no-store', () => {
    const exchange = response([['Cache-Control', 'private, max-age=60']])
    requirePrivateCaching(exchange, true)
    assert.deepEqual(exchange.responseHeader('Cache-Control'), ['private, no-store'], 'no cache may store it')
  })
  it("keeps the page's own no-store, even when it is on a second header line", () => {
    for (const cacheControl of [['no-store, no-cache, must-revalidate'], ['max-age=0', 'no-store']]) {
      const exchange = response(cacheControl.map((value) => ['Cache-Control', value]))
      requirePrivateCaching(exchange, true)
      assert.deepEqual(exchange.responseHeader('Cache-Control'), cacheControl, `${cacheControl.join(' | ')} is kept`)
    }
  })
})

describe('requirePrivateCaching: Vary', () => {
  it("keeps a page's Vary that already names Cookie (any case, any place in the list, with spaces) or *", () => {
    for (const vary of ['Accept-Encoding, Cookie', 'cookie', 'Cookie , Accept', 'Accept,Cookie ', '*', 'Accept, *']) {
      const exchange = response([['Vary', vary]])
      requirePrivateCaching(exchange, false)
      assert.deepEqual(exchange.responseHeader('Vary'), [vary], `Vary: ${vary} is kept as it is`)
    }
  })
  it('keeps Vary when any of several header lines names Cookie', () => {
    const exchange = response([
      ['Vary', 'Accept-Encoding'],
      ['Vary', 'Cookie'],
    ])
    requirePrivateCaching(exchange, false)
    assert.deepEqual(exchange.responseHeader('Vary'), ['Accept-Encoding', 'Cookie'], 'no second Cookie')
  })
  it("adds Cookie to a page's own Vary that does not name it, keeping the page's", () => {
    for (const vary of ['Accept-Encoding', 'Cookies', 'X-Cookie']) {
      const exchange = response([['Vary', vary]])
      requirePrivateCaching(exchange, false)
      assert.deepEqual(exchange.responseHeader('Vary'), [vary, 'Cookie'], `Vary: ${vary} gets Cookie added`)
    }
  })
})

describe('AuthSession.enforceCacheRule: once the page has run', () => {
  it('a page that read the session and then asked for shared caching ends private and varying by Cookie', () => {
    const w = new World()
    const guest = w.signInGuest()
    const visit = w.visit({ cookies: [guest.cookie] })
    assert.equal(visit.auth.currentRecord?.id, guest.record.id, 'the page read the session')
    visit.exchange.setHeader('Cache-Control', 'public, max-age=60')
    visit.auth.session.enforceCacheRule()
    assert.deepEqual(visit.exchange.responseHeader('Cache-Control'), ['private, no-cache'], 'not public')
    assert.ok(visit.auth.touchedSession, 'varies by Cookie')
  })
  it('a page that set its own Vary keeps it and gets Cookie added', () => {
    const w = new World()
    const guest = w.signInGuest()
    const visit = w.visit({ cookies: [guest.cookie] })
    visit.exchange.setHeader('Vary', 'Accept-Language')
    visit.auth.session.enforceCacheRule()
    assert.deepEqual(visit.exchange.responseHeader('Vary'), ['Accept-Language', 'Cookie'], 'both')
  })
  it('a page that signed in and then asked for caching ends no-store', () => {
    const w = new World()
    const visit = w.post()
    visit.auth.signInAnonymously()
    visit.exchange.setHeader('Cache-Control', 'private, max-age=600')
    visit.auth.session.enforceCacheRule()
    assert.deepEqual(
      visit.exchange.responseHeader('Cache-Control'),
      ['private, no-store'],
      'the Set-Cookie is not stored',
    )
  })
  it('a page that never touched the session keeps the caching it asked for', () => {
    const w = new World()
    const visit = w.visit()
    visit.exchange.setHeader('Cache-Control', 'public, max-age=60')
    visit.auth.session.enforceCacheRule()
    assert.deepEqual(visit.exchange.responseHeader('Cache-Control'), ['public, max-age=60'], 'still public')
    assert.deepEqual(visit.exchange.responseHeader('Vary'), [], 'no Vary added')
  })
})

describe('requirePrivateCaching: the usual case costs one read per header', () => {
  /** Headers that count the full reads (every value of a header): the rule runs on every page. */
  function counted(headers: [string, string][]) {
    const exchange = response(headers)
    const fullReads: string[] = []
    const counting: CacheHeaders = {
      firstResponseHeader: (name) => exchange.firstResponseHeader(name),
      responseHeaderValues: (name) => {
        fullReads.push(name)
        return exchange.responseHeaderValues(name)
      },
      setHeader: (name, value) => exchange.setHeader(name, value),
      addHeader: (name, value) => exchange.addHeader(name, value),
    }
    return { exchange, counting, fullReads }
  }
  const usual: [string, [string, string][], boolean][] = [
    ['nothing set yet', [], false],
    ['nothing set yet, a cookie written', [], true],
    [
      'what the rule writes',
      [
        ['Cache-Control', 'private, no-cache'],
        ['Vary', 'Cookie'],
      ],
      false,
    ],
    [
      'what the rule writes for a cookie',
      [
        ['Cache-Control', 'private, no-store'],
        ['Vary', 'Cookie'],
      ],
      true,
    ],
    [
      'no-store where no-cache would do',
      [
        ['Cache-Control', 'private, no-store'],
        ['Vary', 'Cookie'],
      ],
      false,
    ],
  ]
  for (const [name, headers, writesCookie] of usual) {
    it(`${name}: no full read`, () => {
      const { exchange, counting, fullReads } = counted(headers)
      requirePrivateCaching(counting, writesCookie)
      assert.deepEqual(fullReads, [], 'only the first line of each header was read')
      assert.deepEqual(
        [exchange.responseHeader('Cache-Control'), exchange.responseHeader('Vary')],
        [[writesCookie ? 'private, no-store' : headers.length ? headers[0]![1] : 'private, no-cache'], ['Cookie']],
        "and the headers are the rule's",
      )
    })
  }
  it("a page's own header is read in full", () => {
    const { counting, fullReads } = counted([
      ['Cache-Control', 'max-age=0'],
      ['Vary', 'Accept'],
    ])
    requirePrivateCaching(counting, false)
    assert.deepEqual(fullReads, ['Cache-Control', 'Vary'], 'each looked at whole')
  })
})
