import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkSameOrigin } from '../../src/core/csrf.ts'
import { World } from '../support/fake-world.ts'

const base = { origin: '', referer: '', host: 'app.test:8090', allowedOrigins: [] as string[] }

describe('checkSameOrigin (login CSRF)', () => {
  const cases: [string, Partial<typeof base>, true | string][] = [
    ['same-origin Origin', { origin: 'http://app.test:8090' }, true],
    ['same host over https (TLS ended at a proxy)', { origin: 'https://app.test:8090' }, true],
    ['another site', { origin: 'https://evil.test' }, 'requests from https://evil.test are not allowed'],
    ['same host, other port', { origin: 'http://app.test:9999' }, 'requests from http://app.test:9999 are not allowed'],
    [
      'subdomain is another origin',
      { origin: 'http://x.app.test:8090' },
      'requests from http://x.app.test:8090 are not allowed',
    ],
    [
      'a suffix of the host is another origin',
      { origin: 'http://evilapp.test:8090' },
      'requests from http://evilapp.test:8090 are not allowed',
    ],
    ['no Origin, same-site Referer', { referer: 'http://app.test:8090/login?x=1' }, true],
    ['no Origin, same-site Referer with a query right after the host', { referer: 'http://app.test:8090?x=1' }, true],
    [
      'no Origin, foreign Referer',
      { referer: 'https://evil.test/page' },
      'requests from https://evil.test are not allowed',
    ],
    ['neither header (not a browser form)', {}, true],
    ['opaque origin', { origin: 'null' }, 'the request has an opaque (null) origin'],
    [
      'opaque origin, same-site Referer (a sandboxed frame on this site)',
      { origin: 'null', referer: 'http://app.test:8090/' },
      'the request has an opaque (null) origin',
    ],
    [
      'opaque origin, foreign Referer',
      { origin: 'null', referer: 'https://evil.test/' },
      'the request has an opaque (null) origin',
    ],
    [
      'opaque origin even when allowed origins are listed',
      { origin: 'null', referer: 'https://partner.test/', allowedOrigins: ['https://partner.test'] },
      'the request has an opaque (null) origin',
    ],
    [
      'opaque origin in capitals',
      { origin: 'NULL', referer: 'http://app.test:8090/' },
      'the request has an opaque (null) origin',
    ],
    ['garbage origin', { origin: 'not a url' }, 'the request origin is not a valid URL'],
    ['another scheme', { origin: 'ftp://app.test:8090' }, 'the request origin is not a valid URL'],
    ['a URL inside another', { origin: 'xhttp://app.test:8090' }, 'the request origin is not a valid URL'],
    ['no host', { origin: 'http://' }, 'the request origin is not a valid URL'],
    ['userinfo trick', { origin: 'http://app.test:8090@evil.test' }, 'the request origin is not a valid URL'],
    ['scheme and host in capitals', { origin: 'HTTP://APP.TEST:8090' }, true],
    ['allowed origin', { origin: 'https://partner.test', allowedOrigins: ['https://partner.test'] }, true],
    [
      'allowed origin, default port spelled out',
      { origin: 'https://partner.test:443', allowedOrigins: ['https://partner.test'] },
      true,
    ],
    [
      'allowed origin is scheme-exact',
      { origin: 'http://partner.test', allowedOrigins: ['https://partner.test'] },
      'requests from http://partner.test are not allowed',
    ],
    [
      'Origin wins over a same-site Referer',
      { origin: 'https://evil.test', referer: 'http://app.test:8090/' },
      'requests from https://evil.test are not allowed',
    ],
    [
      'https on port 80 keeps its port',
      { host: 'app.test', origin: 'https://app.test:80' },
      'requests from https://app.test:80 are not allowed',
    ],
    [
      'http on port 443 keeps its port',
      { host: 'app.test', origin: 'http://app.test:443' },
      'requests from http://app.test:443 are not allowed',
    ],
    ['https on port 443 is the bare host', { host: 'app.test', origin: 'https://app.test:443' }, true],
    ['on port 80 the Host header has no port', { host: 'app.test', origin: 'http://app.test:80' }, true],
    [
      'a port ending in 80 is not port 80',
      { host: 'app.test', origin: 'http://app.test:8080' },
      'requests from http://app.test:8080 are not allowed',
    ],
    ['matches the Host header case-insensitively', { host: 'APP.test:8090', origin: 'http://app.TEST:8090' }, true],
  ]
  for (const [label, input, expected] of cases) {
    it(`${expected === true ? 'allows' : 'refuses'}: ${label}`, () => {
      assert.deepEqual(
        checkSameOrigin({ ...base, ...input }),
        expected === true ? { ok: true } : { ok: false, reason: expected },
      )
    })
  }
})

describe('the CSRF refusal as the session words it', () => {
  it('names the reason and what to do', () => {
    const w = new World()
    assert.throws(() => w.post(undefined, { headers: { Origin: 'https://evil.test' } }).auth.signInAnonymously(), {
      code: 'CROSS_SITE_REQUEST',
      status: 403,
      message:
        'This request came from another site and was refused (requests from https://evil.test are not allowed). Submit the form from this site.',
    })
  })
  it('compares with the Host of the request, and accepts the configured origins', () => {
    const w = new World({ options: { csrf: { allowedOrigins: ['https://Partner.test'] } } })
    assert.doesNotThrow(() =>
      w.visit({ method: 'POST', host: 'shop.test', headers: { Origin: 'http://shop.test' } }).auth.signInAnonymously(),
    )
    assert.doesNotThrow(() =>
      w
        .visit({ method: 'POST', ip: '198.51.100.1', headers: { Origin: 'https://partner.test' } })
        .auth.signInAnonymously(),
    )
    assert.throws(() =>
      w.visit({ method: 'POST', host: 'shop.test', headers: { Origin: 'http://app.test' } }).auth.signInAnonymously(),
    )
  })
  it('falls back on the Referer header', () => {
    const w = new World()
    assert.throws(
      () => w.visit({ method: 'POST', headers: { Referer: 'https://evil.test/x' } }).auth.signInAnonymously(),
      {
        code: 'CROSS_SITE_REQUEST',
      },
    )
  })
})
