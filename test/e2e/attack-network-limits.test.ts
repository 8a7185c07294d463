// Attack suite, issue 8 class 4: the guest sign-in rate limit counted per exact IP address. One
// IPv6 customer line usually gets a whole /64 (2^64 addresses, and privacy extensions rotate them
// all day), so one client could mint unlimited guests; and `::ffff:a.b.c.d`, the same IPv4 client
// seen through a dual-stack socket or proxy, had a second quota. Now the limit counts per network:
// IPv4 /32 and IPv6 /64 by default, IPv4-mapped IPv6 as IPv4, both prefixes configurable.
// Client addresses come from X-Forwarded-For through PocketBase's trusted-proxy settings.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { attempt, countGuests, type Outcome, report, tally, trustProxy } from '../support/abuse.ts'
import { fromAddress, pagesConfig } from '../support/attack.ts'
import { markText } from '../support/guest.ts'
import { postForm } from '../support/http.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

const LIMITED = /^Too many guest sign-ins from your network\. Try again in \d+ (seconds|minutes)\.$/

function signInFrom(pb: PocketBaseServer, address: string): Promise<Outcome> {
  return attempt(() => postForm(`${pb.url}/login`, { mode: 'anonymous' }, { headers: fromAddress(address) }))
}

function statusOf(o: Outcome): number | string {
  return o.kind === 'response' ? o.status : o.error
}

/** Every 429 names the network limit, has a Retry-After and sets no session. */
function assertRefusals(outcomes: Outcome[]): void {
  for (const o of outcomes) {
    if (o.kind !== 'response' || o.status !== 429) continue
    assert.match(String(markText(o.body)), LIMITED)
    assert.match(String(o.headers.get('retry-after')), /^\d+$/)
    assert.ok(
      !o.headers.getSetCookie().some((c) => c.startsWith('pb_auth=') && !/max-age=0/i.test(c)),
      `a refused sign-in sets no session cookie: ${o.headers.getSetCookie().join(' | ')}`,
    )
  }
}

/** `count` sign-ins from `address(i)` at once; returns the tally. */
async function burst(pb: PocketBaseServer, what: string, count: number, address: (i: number) => string) {
  const before = countGuests(pb)
  const outcomes = await Promise.all(Array.from({ length: count }, (_, i) => signInFrom(pb, address(i))))
  const t = tally(outcomes)
  report(pb, what, t, countGuests(pb) - before)
  assert.deepEqual(t.errors, {}, 'connection errors')
  assert.equal(t.s5xx, 0)
  assertRefusals(outcomes)
  return t
}

/** A random 64-bit interface id, as privacy extensions make them. */
function interfaceId(): string {
  return Array.from({ length: 4 }, () => Math.floor(Math.random() * 0x10000).toString(16)).join(':')
}

describe('issue 8.4: guest sign-in limits count per network, not per address', () => {
  describe('defaults: IPv4 /32, IPv6 /64, 30 per hour', () => {
    let pb: PocketBaseServer

    before(async () => {
      pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '', ANONYMOUS_RATE_LIMIT_GLOBAL: '' } })
      await trustProxy(pb)
    })
    after(() => pb?.stop())

    it('45 different addresses of one IPv6 /64, at once: exactly 30 guests, 15 answers 429', async () => {
      const t = await burst(pb, '45 addresses in 2001:db8:4:1::/64', 45, (i) =>
        i % 2 === 0 ? `2001:db8:4:1::${(i + 1).toString(16)}` : `2001:db8:4:1:${interfaceId()}`,
      )
      assert.equal(t.s302, 30)
      assert.equal(t.s429, 15)
    })

    it('another /64 (even the next one) has its own quota; the first stays limited', async () => {
      const t = await burst(pb, '30 addresses in 2001:db8:4:2::/64', 30, () => `2001:db8:4:2:${interfaceId()}`)
      assert.equal(t.s302, 30)
      assert.equal(statusOf(await signInFrom(pb, `2001:db8:4:1:${interfaceId()}`)), 429)
      assert.equal(statusOf(await signInFrom(pb, '2001:db8:4:3::1')), 302)
    })

    it('::ffff:a.b.c.d (either spelling) counts as the IPv4 address a.b.c.d', async () => {
      // 203.0.113.20 = cb00:7114.
      const spellings = ['203.0.113.20', '::ffff:203.0.113.20', '::ffff:cb00:7114', '0:0:0:0:0:ffff:203.0.113.20']
      const t = await burst(pb, '31 sign-ins of 203.0.113.20 in 4 spellings', 31, (i) => spellings[i % 4]!)
      assert.equal(t.s302, 30, 'the IPv4-mapped spellings got a quota of their own')
      assert.equal(t.s429, 1)
      for (const spelling of spellings) assert.equal(statusOf(await signInFrom(pb, spelling)), 429, spelling)
    })

    it('IPv4 counts per address by default: the neighbour 203.0.113.21 is not limited', async () => {
      assert.equal(statusOf(await signInFrom(pb, '203.0.113.21')), 302)
      assert.equal(statusOf(await signInFrom(pb, '::ffff:203.0.113.22')), 302)
    })
  })

  describe('rateLimit: { perNetwork: 3, ipv6Prefix: 48, ipv4Prefix: 24 } groups wider', () => {
    let pb: PocketBaseServer

    before(async () => {
      pb = await startPocketBase({
        hooksOverlay: {
          'pages/+config.js': pagesConfig({ rateLimit: { perNetwork: 3, ipv6Prefix: 48, ipv4Prefix: 24 } }),
        },
      })
      await trustProxy(pb)
    })
    after(() => pb?.stop())

    it('two /64s of one /48 share 3; another /48 is independent', async () => {
      const t = await burst(pb, '4 addresses in 2001:db8:5::/48 (two /64s)', 4, (i) => `2001:db8:5:${i % 2}::${i + 1}`)
      assert.equal(t.s302, 3)
      assert.equal(t.s429, 1)
      assert.equal(statusOf(await signInFrom(pb, '2001:db8:5:ffff::1')), 429)
      assert.equal(statusOf(await signInFrom(pb, '2001:db8:6::1')), 302)
    })

    it('addresses of one IPv4 /24 (mapped ones too) share 3; another /24 is independent', async () => {
      const t = await burst(pb, '4 addresses in 198.51.100.0/24', 4, (i) =>
        i === 3 ? '::ffff:198.51.100.254' : `198.51.100.${i + 1}`,
      )
      assert.equal(t.s302, 3)
      assert.equal(t.s429, 1)
      assert.equal(statusOf(await signInFrom(pb, '198.51.100.77')), 429)
      assert.equal(statusOf(await signInFrom(pb, '198.51.101.1')), 302)
    })
  })

  describe('rateLimit: { perNetwork: 3, ipv6Prefix: 128 } counts each IPv6 address', () => {
    let pb: PocketBaseServer

    before(async () => {
      pb = await startPocketBase({
        hooksOverlay: { 'pages/+config.js': pagesConfig({ rateLimit: { perNetwork: 3, ipv6Prefix: 128 } }) },
      })
      await trustProxy(pb)
    })
    after(() => pb?.stop())

    it('5 addresses of one /64 get 3 each; the 4th from one address is refused', async () => {
      const t = await burst(
        pb,
        '15 sign-ins from 5 addresses of 2001:db8:7:1::/64',
        15,
        (i) => `2001:db8:7:1::${(i % 5) + 1}`,
      )
      assert.equal(t.s302, 15)
      assert.equal(statusOf(await signInFrom(pb, '2001:db8:7:1::1')), 429)
      assert.equal(statusOf(await signInFrom(pb, '2001:db8:7:1::6')), 302)
    })
  })
})
