import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkSameOrigin } from '../../src/core/csrf.ts'

const base = { origin: '', referer: '', host: 'app.test:8090', allowedOrigins: [] as string[] }

describe('checkSameOrigin (login CSRF)', () => {
  const cases: [string, Partial<typeof base>, boolean][] = [
    ['same-origin Origin', { origin: 'http://app.test:8090' }, true],
    ['same host over https (TLS ended at a proxy)', { origin: 'https://app.test:8090' }, true],
    ['another site', { origin: 'https://evil.test' }, false],
    ['same host, other port', { origin: 'http://app.test:9999' }, false],
    ['subdomain is another origin', { origin: 'http://x.app.test:8090' }, false],
    ['no Origin, same-site Referer', { referer: 'http://app.test:8090/login?x=1' }, true],
    ['no Origin, foreign Referer', { referer: 'https://evil.test/page' }, false],
    ['neither header (not a browser form)', {}, true],
    ['opaque origin', { origin: 'null' }, false],
    ['garbage origin', { origin: 'not a url' }, false],
    ['userinfo trick', { origin: 'http://app.test:8090@evil.test' }, false],
    ['allowed origin', { origin: 'https://partner.test', allowedOrigins: ['https://partner.test'] }, true],
    [
      'allowed origin, default port spelled out',
      { origin: 'https://partner.test:443', allowedOrigins: ['https://partner.test'] },
      true,
    ],
    ['Origin wins over a same-site Referer', { origin: 'https://evil.test', referer: 'http://app.test:8090/' }, false],
  ]
  for (const [label, input, ok] of cases) {
    it(`${ok ? 'allows' : 'refuses'}: ${label}`, () => {
      assert.equal(checkSameOrigin({ ...base, ...input }).ok, ok)
    })
  }
  it('matches the Host header case-insensitively', () => {
    assert.equal(checkSameOrigin({ ...base, host: 'APP.test:8090', origin: 'http://app.TEST:8090' }).ok, true)
  })
  it('on port 80 the Host header has no port', () => {
    assert.equal(checkSameOrigin({ ...base, host: 'app.test', origin: 'http://app.test:80' }).ok, true)
  })
})
