// Abuse: guest sign-in rate limits under concurrent bursts (issue 4). The demo's /login form
// against a real PocketBase; client IPs come from X-Forwarded-For via PocketBase's trusted-proxy
// setting (only a header: all traffic stays on 127.0.0.1).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  attempt,
  countedSignIns,
  countGuests,
  fromIp,
  type Outcome,
  pool,
  report,
  tally,
  trustProxy,
} from '../support/abuse.ts'
import { markText } from '../support/guest.ts'
import { getSetCookie, postForm } from '../support/http.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

const RATE_LIMIT_MESSAGE = /^Too many guest sign-ins from your network\. Try again in \d+ (seconds|minutes)\.$/
const GLOBAL_LIMIT_MESSAGE = /^Too many guest sign-ins on this site right now\. Try again in \d+ (seconds|minutes)\.$/

function signIn(pb: PocketBaseServer, ip: number): Promise<Outcome> {
  return attempt(() => postForm(`${pb.url}/login`, { mode: 'anonymous' }, { headers: fromIp(ip) }))
}

/**
 * Every 429 carries a Retry-After within the window (plus the one slot, 1/60 of it, by which the
 * counting errs on the strict side), the message in <mark>, and no session cookie.
 */
function assertLimitedAnswers(outcomes: Outcome[], message: RegExp, windowSeconds = 3600 + 60): void {
  for (const o of outcomes) {
    if (o.kind !== 'response' || o.status !== 429) continue
    const retryAfter = o.headers.get('retry-after')
    assert.match(String(retryAfter), /^\d+$/, 'a 429 without a numeric Retry-After')
    assert.ok(
      Number(retryAfter) >= 1 && Number(retryAfter) <= windowSeconds,
      `Retry-After ${retryAfter} outside 1..${windowSeconds}`,
    )
    assert.match(String(markText(o.body)), message)
    const setCookies = o.headers.getSetCookie().filter((c) => c.startsWith('pb_auth=') && !/max-age=0/i.test(c))
    assert.deepEqual(setCookies, [], 'a 429 must not set a session')
  }
}

describe('rate limit per IP (default: 30 per hour)', () => {
  let pb: PocketBaseServer

  before(async () => {
    // No ANONYMOUS_RATE_LIMIT_* in the environment: the demo's +config.js defaults apply.
    const env: Record<string, string> = { ANONYMOUS_RATE_LIMIT_PER_IP: '', ANONYMOUS_RATE_LIMIT_GLOBAL: '' }
    pb = await startPocketBase({ env })
    await trustProxy(pb)
  })
  after(() => pb?.stop())

  it('lets exactly 30 of 200 concurrent sign-ins from one IP through; the rest get 429', async () => {
    const outcomes = await Promise.all(Array.from({ length: 200 }, () => signIn(pb, 1)))
    const t = tally(outcomes)
    const created = countGuests(pb)
    report(pb, 'per-IP burst (200 concurrent, one IP, limit 30)', t, created)
    assert.deepEqual(t.errors, {}, 'connection errors')
    assert.equal(t.s5xx, 0)
    assert.equal(t.s302, 30)
    assert.equal(t.s429, 170)
    assert.equal(created, 30)
    assert.equal(countedSignIns(pb), 30, 'one sign-in log row per guest created')
    assertLimitedAnswers(outcomes, RATE_LIMIT_MESSAGE)
    // Each redirect set its own session, for its own guest.
    const ids = new Set<string>()
    for (const o of outcomes) {
      if (o.kind !== 'response' || o.status !== 302) continue
      const cookie = o.headers.getSetCookie().find((c) => c.startsWith('pb_auth='))
      assert.ok(cookie, 'a 302 without pb_auth')
      const value = cookie.slice('pb_auth='.length).split(';')[0]!
      ids.add((JSON.parse(decodeURIComponent(value)) as { record: { id: string } }).record.id)
    }
    assert.equal(ids.size, 30, 'the 30 sessions must belong to 30 different guests')
  })

  it('creates nothing for a rate-limited sign-in', async () => {
    const guestsBefore = countGuests(pb)
    const logBefore = countedSignIns(pb)
    const o = await signIn(pb, 1)
    assert.equal(o.kind, 'response')
    assert.equal(o.kind === 'response' && o.status, 429)
    assertLimitedAnswers([o], RATE_LIMIT_MESSAGE)
    assert.equal(countGuests(pb), guestsBefore)
    assert.equal(countedSignIns(pb), logBefore)
    report(pb, 'per-IP: one more sign-in from the limited IP', tally([o]), countGuests(pb) - guestsBefore)
  })

  it('still lets another IP sign in', async () => {
    const before = countGuests(pb)
    const res = await postForm(`${pb.url}/login`, { mode: 'anonymous' }, { headers: fromIp(2) })
    assert.equal(res.status, 302, await res.text())
    assert.ok(getSetCookie(res, 'pb_auth'), 'another IP still gets a session cookie')
    assert.equal(countGuests(pb), before + 1)
    // ...and the first IP is still limited: the limit is per IP, not a shared counter that reset.
    const again = await signIn(pb, 1)
    assert.equal(again.kind === 'response' && again.status, 429)
  })

  it('limits by the client IP, not by the proxy (127.0.0.1)', async () => {
    // 30 more from a third IP all pass: the 30 from 203.0.113.1 were not counted against it.
    const outcomes = await Promise.all(Array.from({ length: 31 }, () => signIn(pb, 3)))
    const t = tally(outcomes)
    report(pb, 'per-IP burst (31 concurrent, fresh IP)', t, t.s302)
    assert.equal(t.s302, 30)
    assert.equal(t.s429, 1)
  })
})

describe('global rate limit (ANONYMOUS_RATE_LIMIT_GLOBAL=5)', () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_GLOBAL: '5', ANONYMOUS_RATE_LIMIT_PER_IP: '' } })
    await trustProxy(pb)
  })
  after(() => pb?.stop())

  it('lets exactly 5 sign-ins through in total, whatever the IPs', async () => {
    const outcomes = await Promise.all(Array.from({ length: 60 }, (_, i) => signIn(pb, 1 + (i % 60))))
    const t = tally(outcomes)
    const created = countGuests(pb)
    report(pb, 'global burst (60 concurrent, 60 IPs, limit 5)', t, created)
    assert.deepEqual(t.errors, {})
    assert.equal(t.s5xx, 0)
    assert.equal(t.s302, 5)
    assert.equal(t.s429, 55)
    assert.equal(created, 5)
    assert.equal(countedSignIns(pb), 5)
    assertLimitedAnswers(outcomes, GLOBAL_LIMIT_MESSAGE)
  })

  it('refuses a new IP too, and creates nothing', async () => {
    const outcomes = await pool(10, 5, (i) => signIn(pb, 100 + i))
    const t = tally(outcomes)
    report(pb, 'global: 10 more from 10 new IPs', t, countGuests(pb) - 5)
    assert.equal(t.s429, 10)
    assert.equal(countGuests(pb), 5)
    assert.equal(countedSignIns(pb), 5)
  })
})
