// ensureGuest() and guestFormFields() (operations/ensure-guest.ts, first-submit.ts) on fakes: who
// gets a guest, that duplicates of one submission share one, and that nothing but the browser's own
// secret and the form's nonce together leads to that guest.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatPocketBaseDate as date } from '../../src/core/dates.ts'
import { mayAdopt, NONCE_FIELD, PAIR_TTL_SECONDS, pairEmail } from '../../src/core/first-submit.ts'
import { readStats } from '../../src/core/stats.ts'
import { formPage, guests } from '../support/fake-browser.ts'
import { SITE, T0, World } from '../support/fake-world.ts'
import { CHROME, parseSetCookie } from '../support/http.ts'
import { nodeCrypto } from '../support/node-crypto.ts'

function submit(w: World, form: { cookie?: string; nonce?: string }, extra: { cookie?: string } = {}) {
  const cookies = [form.cookie, extra.cookie].filter((c): c is string => !!c)
  const visit = w.visit({
    method: 'POST',
    headers: { Origin: SITE, 'User-Agent': CHROME },
    cookies: cookies.length ? [cookies.join('; ')] : [],
    form: form.nonce ? { [NONCE_FIELD]: form.nonce } : {},
  })
  const result = visit.auth.ensureGuest()
  return { visit, result }
}

describe('ensureGuest: who gets what', () => {
  it('a signed-in guest gets itself; nothing is created', () => {
    const w = new World()
    const guest = w.signInGuest()
    const visit = w.visit({ method: 'GET', cookies: [guest.cookie] })
    assert.equal(visit.auth.ensureGuest()?.record.id, guest.record.id, 'the same guest')
    assert.equal(guests(w).length, 1, 'no second guest')
  })
  it('a signed-in full account gets itself, not a guest', () => {
    const w = new World()
    const user = w.insertUser()
    const visit = w.visit({ method: 'GET', cookies: [w.cookieFor(user)] })
    assert.equal(visit.auth.ensureGuest()?.record.id, user.id, 'the account')
    assert.equal(guests(w).length, 0, 'no guest')
  })
  it('a GET from a browser creates a guest and signs it in, even from another site (it is its own)', () => {
    const w = new World()
    const visit = w.visit({ method: 'GET', headers: { 'User-Agent': CHROME, Referer: 'https://elsewhere.test/' } })
    const result = visit.auth.ensureGuest()
    assert.ok(result && visit.auth.isAnonymous(result.record), 'a guest')
    assert.equal(visit.auth.currentRecord?.id, result.record.id, 'signed in')
    assert.equal(visit.exchange.cookiesSet().length, 1, 'the session cookie is set')
  })
  const machines: [string, Record<string, string>][] = [
    ['a prefetch', { 'Sec-Purpose': 'prefetch', 'User-Agent': CHROME }],
    ['a prerender', { 'Sec-Purpose': 'prefetch;prerender', 'User-Agent': CHROME }],
    ['Purpose: prefetch', { Purpose: 'prefetch' }],
    ['Firefox prefetch', { 'X-Moz': 'prefetch' }],
    ['Googlebot', { 'User-Agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' }],
    ['bingbot', { 'User-Agent': 'Mozilla/5.0 (compatible; bingbot/2.0)' }],
  ]
  for (const [name, headers] of machines) {
    it(`a GET from ${name}: null, no guest, no cookie`, () => {
      const w = new World()
      const visit = w.visit({ method: 'GET', headers })
      assert.equal(visit.auth.ensureGuest(), null, `${name} must get no guest`)
      assert.equal(guests(w).length, 0, 'nothing created')
      assert.equal(visit.exchange.setCookies.length, 0, 'no cookie')
    })
  }
  it('a GET that fails beforeGuestSignIn: null, not an error', () => {
    const w = new World({ options: { beforeGuestSignIn: () => false } })
    const visit = w.visit({ method: 'GET', headers: { 'User-Agent': CHROME } })
    assert.equal(visit.auth.ensureGuest(), null, 'a page view has no captcha to pass')
    assert.equal(guests(w).length, 0, 'nothing created')
  })
  it('a cross-site POST: CROSS_SITE_REQUEST, with or without the pair', () => {
    const w = new World()
    const form = formPage(w)
    for (const body of [{}, form]) {
      const visit = w.visit({
        method: 'POST',
        headers: { Origin: 'https://evil.test' },
        cookies: form.cookie && 'nonce' in body ? [form.cookie] : [],
        form: 'nonce' in body ? { [NONCE_FIELD]: form.nonce } : {},
      })
      assert.throws(() => visit.auth.ensureGuest(), { code: 'CROSS_SITE_REQUEST' }, 'must refuse another site')
    }
    assert.equal(guests(w).length, 0, 'nothing created')
  })
})

describe('ensureGuest: one guest per browser (the double-submit pair)', () => {
  it('duplicates of one submission all get the first one’s guest; one sign-in is counted', () => {
    const w = new World()
    const form = formPage(w)
    const results = Array.from({ length: 10 }, () => submit(w, form))
    const ids = new Set(results.map((r) => r.result?.record.id))
    assert.equal(ids.size, 1, `ten submissions made ${ids.size} guests`)
    assert.equal(guests(w).length, 1, 'one guest in the table')
    for (const { visit } of results) {
      assert.ok(visit.auth.currentRecord, 'every response is signed in')
      assert.equal(visit.exchange.cookiesSet().length, 1, 'every response sets the session cookie')
    }
    const counted = w.backend.counterRows().reduce((n, r) => n + (r.bucket.startsWith('signin:') ? r.count : 0), 0)
    assert.equal(counted, 1, `one sign-in must be counted, not ${counted}`)
    assert.equal(readStats(w.backend, w.options, w.clock.now()).totals.created, 1, 'one guest created in the stats')
  })
  it('the nonce with another browser’s secret, or none: a guest of its own', () => {
    const w = new World()
    const victim = formPage(w)
    const first = submit(w, victim).result!
    const other = formPage(w)
    const replayed = submit(w, { cookie: other.cookie, nonce: victim.nonce }).result!
    const bare = submit(w, { nonce: victim.nonce }).result!
    assert.notEqual(replayed.record.id, first.record.id, "another browser's secret must not reach the guest")
    assert.notEqual(bare.record.id, first.record.id, 'the nonce alone must not reach the guest')
    assert.notEqual(bare.record.id, replayed.record.id, 'each gets its own')
  })
  it('the secret with another page’s nonce: a guest of its own', () => {
    const w = new World()
    const form = formPage(w)
    const first = submit(w, form).result!
    const second = submit(w, { cookie: form.cookie, nonce: formPage(w).nonce }).result!
    assert.notEqual(second.record.id, first.record.id, 'a new form is a new submission')
  })
  it('a spent pair (past its lifetime, or signed out) makes a new guest with a random email', () => {
    const w = new World()
    const form = formPage(w)
    const first = submit(w, form).result!
    w.clock.advance(PAIR_TTL_SECONDS + 1)
    const late = submit(w, form).result!
    assert.notEqual(late.record.id, first.record.id, 'a pair past its lifetime must not hand out the guest')

    const w2 = new World()
    const form2 = formPage(w2)
    const made = submit(w2, form2)
    const cookie = `pb_auth=${made.visit.exchange.cookiesSet()[0]!.value}`
    w2.visit({ method: 'POST', headers: { Origin: SITE }, cookies: [cookie] }).auth.signOut()
    const after = submit(w2, form2).result!
    assert.notEqual(after.record.id, made.result!.record.id, 'a signed-out guest must not come back through its pair')
  })
  it('stores only an HMAC-derived email: neither the secret nor the nonce', () => {
    const w = new World()
    const form = formPage(w)
    const { result } = submit(w, form)
    const secret = form.cookie.split('=')[1]!
    const email = result!.record.email()
    assert.match(email, /^anonymous-[a-z0-9]{20}@example\.com$/, 'shaped like any guest email')
    const row = JSON.stringify(w.backend.row('users', result!.record.id))
    assert.ok(!row.includes(secret) && !row.includes(form.nonce), 'the pair must not be stored')
    assert.equal(
      email,
      pairEmail(nodeCrypto, w.backend.collection('users').authToken.secret, { secret, nonce: form.nonce }, w.options),
      'the email is the pair’s HMAC',
    )
  })
})

describe('guestFormFields', () => {
  it('sets the secret cookie once (HttpOnly, Lax) and a new nonce per call', () => {
    const w = new World()
    const visit = w.visit({ method: 'GET' })
    const a = visit.auth.guestFormFields()
    const set = visit.exchange.sideCookies.map(parseSetCookie)
    assert.equal(set.length, 1, 'one secret cookie')
    assert.equal(set[0]!.httpOnly, true, 'the secret must be HttpOnly')
    assert.equal(set[0]!.sameSite, 'Lax', 'SameSite=Lax like the session')
    const again = w.visit({ method: 'GET', cookies: [`pb_auth_form=${set[0]!.value}`] })
    const b = again.auth.guestFormFields()
    assert.equal(again.exchange.sideCookies.length, 0, 'a browser with a secret keeps it')
    assert.notEqual(a, b, 'a fresh nonce per page')
    assert.match(b, /^<input type="hidden" name="guestNonce" value="[A-Za-z0-9]{24}" \/>$/)
  })
})

describe('mayAdopt', () => {
  const rows: [string, string, string, boolean][] = [
    ['just created', date(T0), date(T0), true],
    ['created at the lifetime limit', date(T0 - PAIR_TTL_SECONDS * 1000), date(T0), true],
    ['created past the lifetime', date(T0 - PAIR_TTL_SECONDS * 1000 - 1), date(T0), false],
    ['signed out (last seen at the epoch)', date(T0), date(0), false],
    ['no dates', '', '', false],
  ]
  for (const [name, created, lastSeen, expected] of rows) {
    it(`${name}: ${expected ? 'adopted' : 'not adopted'}`, () => {
      assert.equal(mayAdopt(created, lastSeen, T0), expected, name)
    })
  }
})
