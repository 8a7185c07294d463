// Attack suite, issue 15 (the third outside attack), classes 3-6, as an attacker sends them (raw HTTP):
//  3. `Origin: null` with a same-site Referer (what a sandboxed frame on the site sends) passed the
//     login-CSRF check. Now null is refused whatever else the request carries.
//  4. IPv6 forms that carry an IPv4 address (6to4, NAT64, IPv4-compatible, IPv4-translated, Teredo)
//     had a guest quota of their own, and a /48 held 65,536 /64 quotas. Now they count as their IPv4
//     network, and rateLimit.perIpv6Site bounds a /48.
//  5. The demo left PocketBase's sign-up API open (accounts past every limit, and email existence
//     through `validation_not_unique`). The demo's migration closes it.
//  6. A signed-in user's page got `{}` from body() for a refused body (the session read's enrichment
//     parsed it first and swallowed the error), and the demo's forms answered 500. Now the page meets
//     the error it meets signed out, and the forms answer 400/413.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { countGuests, countRows, trustProxy } from '../support/abuse.ts'
import { fromAddress, pagesConfig } from '../support/attack.ts'
import { field, type GuestSession, markText, signInAsGuest } from '../support/guest.ts'
import { createFullUser, type FullUser, rawUser } from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { type RawResponse, rawRequest, rawUpload, uploadHead } from '../support/raw-http.ts'

const URLENCODED = 'application/x-www-form-urlencoded'
const NULL_ORIGIN =
  /^This request came from another site and was refused \(the request has an opaque \(null\) origin\)\./

/** A form post with the headers a sandboxed same-site frame sends: `Origin: null`, a same-site Referer. */
function postFromSandbox(pb: PocketBaseServer, path: string, form: Record<string, string>, cookie?: string) {
  const headers: [string, string][] = [
    ['Content-Type', URLENCODED],
    ['Origin', 'null'],
    ['Referer', `${pb.url}/login`],
  ]
  if (cookie) headers.push(['Cookie', cookie])
  return rawRequest(pb.url, { method: 'POST', path, headers, body: new URLSearchParams(form).toString() })
}

/** A session cookie the response set (not a deletion), if any. */
const newSession = (res: RawResponse) => res.setCookies().find((c) => c.name === 'pb_auth' && c.value !== '')

describe('issue 15.3: Origin: null is refused, whatever else the request carries', () => {
  let pb: PocketBaseServer
  let member: FullUser

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
    member = await createFullUser(pb)
  })
  after(() => pb?.stop())

  it('guest sign-in: 403, no guest, no cookie', async () => {
    const guests = countGuests(pb)
    const res = await postFromSandbox(pb, '/login', { mode: 'anonymous' })
    assert.equal(res.status, 403, res.body.slice(0, 300))
    assert.match(markText(res.body) ?? '', NULL_ORIGIN, 'names the opaque origin')
    assert.equal(newSession(res), undefined, 'no session cookie')
    assert.equal(countGuests(pb), guests, 'no guest created')
  })

  it('password sign-in of a guest (the merge): 403, the guest keeps its session and stays a guest', async () => {
    const guest = await signInAsGuest(pb)
    const res = await postFromSandbox(
      pb,
      '/login',
      { mode: 'password', email: member.email, password: member.password },
      guest.cookie,
    )
    assert.equal(res.status, 403, res.body.slice(0, 300))
    assert.equal(newSession(res), undefined, 'no session cookie for the account')
    assert.equal(rawUser(pb.dataDir, guest.record.id)?.anonymous, 1, 'the guest was not merged')
  })

  it('upgrade: 403, the guest stays an anonymous guest', async () => {
    const guest = await signInAsGuest(pb)
    const password = 'a-long-enough-password'
    const res = await postFromSandbox(
      pb,
      '/upgrade',
      { email: `sandbox-${Date.now()}@example.org`, password, passwordConfirm: password },
      guest.cookie,
    )
    assert.equal(res.status, 403, res.body.slice(0, 300))
    assert.match(markText(res.body) ?? '', NULL_ORIGIN, 'names the opaque origin')
    assert.equal(rawUser(pb.dataDir, guest.record.id)?.anonymous, 1, 'still a guest')
  })

  it('sign-out: 403, the cookie is not cleared and the guest still exists', async () => {
    const guest = await signInAsGuest(pb)
    const res = await postFromSandbox(pb, '/logout', {}, guest.cookie)
    assert.equal(res.status, 403, res.body.slice(0, 300))
    assert.ok(!res.setCookies().some((c) => c.name === 'pb_auth'), 'the session cookie is left alone')
    assert.ok(rawUser(pb.dataDir, guest.record.id), 'the guest was not ended')
  })
})

describe('issue 15.4: IPv6 addresses that carry an IPv4 address count as that IPv4 network', () => {
  let pb: PocketBaseServer
  const signInFrom = (address: string) =>
    rawRequest(pb.url, {
      method: 'POST',
      path: '/login',
      headers: [['Content-Type', URLENCODED], ...Object.entries(fromAddress(address))],
      body: 'mode=anonymous',
    })

  before(async () => {
    pb = await startPocketBase({
      hooksOverlay: { 'pages/+config.js': pagesConfig({ rateLimit: { perNetwork: 2, perIpv6Site: 5 } }) },
    })
    await trustProxy(pb)
  })
  after(() => pb?.stop())

  it('198.51.100.7 at its limit: each IPv6 spelling of it is refused too', async () => {
    assert.deepEqual(
      [(await signInFrom('198.51.100.7')).status, (await signInFrom('198.51.100.7')).status],
      [302, 302],
      'two guests',
    )
    assert.equal((await signInFrom('198.51.100.7')).status, 429, 'the IPv4 address is at its limit')
    const guests = countGuests(pb)
    const spellings = [
      '2002:c633:6407::1', // 6to4: the whole 2002:c633:6407::/48 belongs to 198.51.100.7
      '2002:c633:6407:1::1',
      '2002:c633:6407:ffff:1:2:3:4',
      '64:ff9b::c633:6407', // NAT64 well-known prefix
      '64:ff9b::198.51.100.7',
      '::198.51.100.7', // IPv4-compatible
      '::c633:6407',
      '::ffff:0:c633:6407', // IPv4-translated
      '::ffff:198.51.100.7', // IPv4-mapped
      '2001:0:4136:e378:8000:63bf:39cc:9bf8', // Teredo: 198.51.100.7 inverted in the last 32 bits
    ]
    for (const address of spellings) {
      const res = await signInFrom(address)
      assert.equal(res.status, 429, `${address}: ${res.body.slice(0, 200)}`)
      assert.equal(newSession(res), undefined, `${address}: no session`)
    }
    assert.equal(countGuests(pb), guests, 'no guest from any spelling')
  })

  it('the holder of a /48: perIpv6Site guests over all its /64s, then 429', async () => {
    const before = countGuests(pb)
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) statuses.push((await signInFrom(`2001:db8:77:${i.toString(16)}::1`)).status)
    assert.deepEqual(
      statuses,
      [302, 302, 302, 302, 302, 429, 429, 429, 429, 429, 429, 429],
      'five, then the /48 is full',
    )
    assert.equal(countGuests(pb) - before, 5, 'exactly perIpv6Site guests')
    assert.equal((await signInFrom('2001:db8:78::1')).status, 302, 'the next /48 has its own quota')
  })
})

describe('issue 15.4: under the defaults a /48 gets at most 300 guests per hour', () => {
  let pb: PocketBaseServer
  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '', ANONYMOUS_RATE_LIMIT_GLOBAL: '' } })
    await trustProxy(pb)
  })
  after(() => pb?.stop())

  it('11 /64s x 30 sign-ins: exactly 300 guests', async () => {
    const before = countGuests(pb)
    const statuses: Record<number, number> = {}
    for (let net = 0; net < 11; net++) {
      const burst = Array.from({ length: 30 }, (_, i) =>
        rawRequest(pb.url, {
          method: 'POST',
          path: '/login',
          headers: [['Content-Type', URLENCODED], ...Object.entries(fromAddress(`2001:db8:99:${net}::${i + 1}`))],
          body: 'mode=anonymous',
        }),
      )
      for (const res of await Promise.all(burst)) statuses[res.status] = (statuses[res.status] ?? 0) + 1
    }
    assert.deepEqual(statuses, { 302: 300, 429: 30 }, 'the site tier stops the 301st')
    assert.equal(countGuests(pb) - before, 300, 'exactly 300 guests')
  })
})

describe('issue 15.5: the demo closes PocketBase sign-up API (OAuth2 sign-up stays open)', () => {
  let pb: PocketBaseServer
  let member: FullUser
  before(async () => {
    pb = await startPocketBase()
    member = await createFullUser(pb)
  })
  after(() => pb?.stop())

  it('an existing and a new email get the same refusal, and no account is made', async () => {
    const signUp = (email: string) =>
      rawRequest(pb.url, {
        method: 'POST',
        path: '/api/collections/users/records',
        headers: [['Content-Type', 'application/json']],
        body: JSON.stringify({ email, password: 'a-long-password', passwordConfirm: 'a-long-password' }),
      })
    const users = countRows(pb, 'users')
    const taken = await signUp(member.email)
    const fresh = await signUp(`fresh-${Date.now()}@example.org`)
    assert.equal(taken.status, 400, `refused before validation: ${taken.body}`)
    assert.equal(fresh.status, taken.status, 'the same status for both')
    assert.equal(fresh.body, taken.body, 'the same answer for both')
    assert.doesNotMatch(taken.body, /validation_not_unique/, 'nothing says the email is taken')
    assert.equal(countRows(pb, 'users'), users, 'no account created')
  })
})

describe('issue 15.6: a refused body is the same error signed in or out, and the forms answer 4xx', () => {
  let pb: PocketBaseServer
  let guest: GuestSession
  const big = () => Buffer.from(`text=${'a'.repeat(20 * 1024 * 1024)}`)
  const send = (path: string, body: Buffer, cookie?: string) =>
    rawUpload(
      pb.port,
      uploadHead(path, {
        'Content-Type': URLENCODED,
        'Content-Length': body.length,
        ...(cookie ? { Cookie: cookie } : {}),
      }),
      body,
    )

  before(async () => {
    pb = await startPocketBase({
      env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' },
      hooksOverlay: {
        'pages/echo-body.ejs': `<script server>let seen; try { seen = 'form: ' + JSON.stringify(body()).slice(0, 40) } catch (e) { seen = 'threw: ' + e.message }</script><dd id="seen"><%= seen %></dd>`,
      },
    })
    guest = await signInAsGuest(pb)
  })
  after(() => pb?.stop())

  it('20 MB: the page reads the same error signed in as signed out (not {})', async () => {
    const out = field((await send('/echo-body', big())).body, 'seen')
    const inside = field((await send('/echo-body', big(), guest.cookie)).body, 'seen')
    assert.match(out ?? '', /^threw: /, `signed out: ${out}`)
    assert.equal(inside, out, 'signed in: the same error')
  })

  it("20 MB to the guest's own forms: 413 page, never 500, nothing written", async () => {
    for (const path of ['/notes', '/upgrade', '/login']) {
      const res = await send(path, big(), guest.cookie)
      assert.equal(res.status, 413, `${path}: ${res.body.slice(0, 200)}`)
      assert.match(res.body, /The form could not be read/, `${path}: the demo's page`)
    }
    assert.equal(rawUser(pb.dataDir, guest.record.id)?.anonymous, 1, 'still a guest')
  })
})
