// ensureGuest() end to end (issue 17, items 3-5): the demo's "Continue as Guest" fired ten times at
// once from one browser (the cookies and form fields its GET of /login gave it, raw HTTP) ends in
// one guest, every response signed in to it; the form's nonce with another browser's secret, or
// none, never reaches that guest; GETs from prefetches and crawlers create no guest; the home page
// says when a guest expires, and says once that a guest the cleanup deleted has expired.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { formatPocketBaseDate } from '../../src/core/dates.ts'
import { countGuests } from '../support/abuse.ts'
import { runCleanupRoute } from '../support/attack.ts'
import { decodeAuthCookie, getPage, signInAsGuest } from '../support/guest.ts'
import { CHROME, getSetCookie, isDeletion } from '../support/http.ts'
import { DAY_MS, findRecord, setColumns } from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { rawRequest } from '../support/raw-http.ts'
import { sqlite } from '../support/sqlite.ts'

/** A page that calls ensureGuest() on every view (the eager pattern), for the machine checks. */
const EAGER_PAGE = `<script server>
  const made = ensureGuest()
</script><p id="who"><%= made ? made.record.id : 'none' %></p>
`

/** What a browser keeps from GET /login: the form-key cookie and the nonce in the guest form. */
async function loginForm(pb: PocketBaseServer): Promise<{ cookie: string; nonce: string }> {
  const res = await getPage(pb, '/login', undefined, { 'user-agent': CHROME })
  const html = await res.text()
  assert.equal(res.status, 200, 'GET /login')
  const nonce = /name="guestNonce" value="([A-Za-z0-9]+)"/.exec(html)?.[1]
  assert.ok(nonce, 'the guest form carries no nonce')
  const key = getSetCookie(res, 'pb_auth_form')
  assert.ok(key && !isDeletion(key), 'GET /login set no form-key cookie')
  assert.equal(key.httpOnly, true, 'the form key must be HttpOnly')
  assert.match(res.headers.get('cache-control') ?? '', /no-store/, 'a page with a fresh nonce must not be stored')
  return { cookie: `pb_auth_form=${key.value}`, nonce }
}

function postGuestForm(pb: PocketBaseServer, form: { cookie?: string; nonce: string }) {
  const body = new URLSearchParams({ mode: 'anonymous', guestNonce: form.nonce }).toString()
  return rawRequest(pb.url, {
    method: 'POST',
    path: '/login',
    headers: [
      ['Origin', pb.url],
      ['User-Agent', CHROME],
      ['Content-Type', 'application/x-www-form-urlencoded'],
      ...(form.cookie ? ([['Cookie', form.cookie]] as [string, string][]) : []),
    ],
    body,
  })
}

function sessionIdOf(res: Awaited<ReturnType<typeof postGuestForm>>): string {
  assert.equal(res.status, 302, `POST /login answered ${res.status}: ${res.body.slice(0, 300)}`)
  const cookie = res
    .setCookies()
    .filter((c) => c.name === 'pb_auth')
    .at(-1)
  assert.ok(cookie && !isDeletion(cookie), 'the response signed nobody in')
  return decodeAuthCookie(cookie.value).record.id
}

describe('one guest per browser, no guests for machines, expiry people can see', () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({ hooksOverlay: { 'pages/eager.ejs': EAGER_PAGE } })
  })
  after(() => pb?.stop())

  it('ten identical first submissions at once end in one guest, each response signed in to it', async () => {
    const form = await loginForm(pb)
    const before = countGuests(pb)
    const responses = await Promise.all(Array.from({ length: 10 }, () => postGuestForm(pb, form)))
    const ids = new Set(responses.map(sessionIdOf))
    assert.equal(ids.size, 1, `ten submissions were signed in to ${ids.size} guests`)
    assert.equal(countGuests(pb) - before, 1, 'more than one guest was created')
  })

  it('control: the same ten without the form key cookie make ten guests (the requests do race)', async () => {
    const form = await loginForm(pb)
    const before = countGuests(pb)
    const responses = await Promise.all(Array.from({ length: 10 }, () => postGuestForm(pb, { nonce: form.nonce })))
    assert.equal(new Set(responses.map(sessionIdOf)).size, 10, 'ten sessions')
    assert.equal(countGuests(pb) - before, 10, 'without the pair every submission is a new guest')
  })

  it("the nonce with another browser's secret, or without any, gets a guest of its own", async () => {
    const victim = await loginForm(pb)
    const victimId = sessionIdOf(await postGuestForm(pb, victim))
    const other = await loginForm(pb)
    const replayed = sessionIdOf(await postGuestForm(pb, { cookie: other.cookie, nonce: victim.nonce }))
    const bare = sessionIdOf(await postGuestForm(pb, { nonce: victim.nonce }))
    assert.notEqual(replayed, victimId, "a nonce read from the victim's page reached the victim's guest")
    assert.notEqual(bare, victimId, 'a nonce alone reached the guest')
  })

  it('the pair is stored as an HMAC only: neither the secret nor the nonce is in the database', async () => {
    const form = await loginForm(pb)
    const id = sessionIdOf(await postGuestForm(pb, form))
    const secret = form.cookie.split('=')[1]!
    const dump = JSON.stringify(sqlite(pb.dataDir, `SELECT * FROM users WHERE id = '${id}'`))
    assert.ok(!dump.includes(secret) && !dump.includes(form.nonce), 'the pair must not be stored')
  })

  const machines: [string, Record<string, string>][] = [
    ['Sec-Purpose: prefetch', { 'sec-purpose': 'prefetch', 'user-agent': CHROME }],
    ['Sec-Purpose: prefetch;prerender', { 'sec-purpose': 'prefetch;prerender', 'user-agent': CHROME }],
    ['Purpose: prefetch', { purpose: 'prefetch', 'user-agent': CHROME }],
    ['X-Moz: prefetch', { 'x-moz': 'prefetch', 'user-agent': CHROME }],
    ['Googlebot', { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' }],
    ['bingbot', { 'user-agent': 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)' }],
  ]
  for (const [name, headers] of machines) {
    it(`a GET that calls ensureGuest() from ${name}: no guest, no cookie`, async () => {
      const before = countGuests(pb)
      const res = await getPage(pb, '/eager', undefined, headers)
      const html = await res.text()
      assert.equal(res.status, 200, `GET /eager: ${html.slice(0, 200)}`)
      assert.match(html, /<p id="who">none<\/p>/, `${name} was given a guest`)
      assert.equal(getSetCookie(res, 'pb_auth'), undefined, 'a session cookie was set')
      assert.equal(countGuests(pb), before, 'a guest was created')
    })
  }

  it('the same GET from a browser creates a guest and signs it in', async () => {
    const res = await getPage(pb, '/eager', undefined, { 'user-agent': CHROME })
    const html = await res.text()
    const id = /<p id="who">([a-z0-9]{15})<\/p>/.exec(html)?.[1]
    assert.ok(id, `no guest for a browser: ${html.slice(0, 200)}`)
    const cookie = getSetCookie(res, 'pb_auth')
    assert.equal(cookie && decodeAuthCookie(cookie.value).record.id, id, 'the cookie is that guest’s')
  })

  it('the home page names the day the cleanup deletes this guest', async () => {
    const guest = await signInAsGuest(pb)
    const html = await (await getPage(pb, '/', guest.cookie)).text()
    const shown = /<time id="guest-expires" datetime="([^"]+)"/.exec(html)?.[1]
    assert.ok(shown, 'no expiry on the home page')
    const [row] = sqlite<{ lastSeen: string }>(pb.dataDir, `SELECT lastSeen FROM users WHERE id = '${guest.record.id}'`)
    const expected = new Date(Date.parse(row!.lastSeen.replace(' ', 'T')) + 30 * DAY_MS).toISOString()
    assert.equal(shown, expected, 'the expiry is not lastSeen + 30 days')
  })

  it('a browser whose guest the cleanup deleted is told once, then treated as new', async () => {
    const fresh = await fetch(`${pb.url}/login`, {
      method: 'POST',
      headers: { origin: pb.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'mode=anonymous',
      redirect: 'manual',
    })
    const session = getSetCookie(fresh, 'pb_auth')
    const traceCookie = getSetCookie(fresh, 'pb_auth_guest')
    assert.ok(session && traceCookie && !isDeletion(traceCookie), 'a guest sign-in must set the trace')
    const id = decodeAuthCookie(session.value).record.id
    const cookies = `pb_auth=${session.value}; pb_auth_guest=${traceCookie.value}`
    const old = formatPocketBaseDate(Date.now() - 40 * DAY_MS)
    setColumns(pb.dataDir, 'users', id, { lastSeen: old, created: old })
    await runCleanupRoute(pb)
    assert.equal(await findRecord(pb, 'users', id), null, 'fixture: the cleanup should delete the guest')

    const first = await getPage(pb, '/', cookies)
    const html = await first.text()
    assert.match(html, /id="guest-expired"/, 'the first visit after the cleanup must say the guest expired')
    assert.match(html, /id="signed-out"/, 'and be signed out')
    const cleared = getSetCookie(first, 'pb_auth_guest')
    assert.ok(cleared && isDeletion(cleared), 'the trace must be cleared so it is said once')
    const second = await (await getPage(pb, '/')).text()
    assert.doesNotMatch(second, /id="guest-expired"/, 'said again on the next visit')
  })

  it('a forged trace says nothing', async () => {
    const html = await (
      await getPage(pb, '/', 'pb_auth_guest=1.pbc_000000001.20000.0123456789abcdef0123456789abcdef')
    ).text()
    assert.doesNotMatch(html, /id="guest-expired"/, 'a forged trace was believed')
  })
})
