// guestExpiresAt() and expiredGuest() on fakes (operations/guest-expiry.ts, guest-trail.ts): the
// trace follows the session cookie, reports a guest the cleanup deleted exactly once, and says
// nothing for a forged trace, a signed-out or upgraded guest, or a session replaced elsewhere.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DAY_MS, formatPocketBaseDate as date } from '../../src/core/dates.ts'
import { dayOf } from '../../src/core/guest-expiry.ts'
import { browserGuest } from '../support/fake-browser.ts'
import { SITE, T0, World } from '../support/fake-world.ts'
import { parseSetCookie } from '../support/http.ts'

describe('guestExpiresAt', () => {
  it("the guest's last activity plus retentionDays; null for a full account or nobody", () => {
    const w = new World({ options: { cleanup: { retentionDays: 10 } } })
    const guest = w.insertGuest({ lastSeen: date(T0 - DAY_MS) })
    const user = w.insertUser()
    const visit = w.visit({ method: 'GET' })
    assert.equal(visit.auth.guestExpiresAt(guest)?.getTime(), T0 + 9 * DAY_MS, 'lastSeen + 10 days')
    assert.equal(visit.auth.guestExpiresAt(user), null, 'a full account does not expire')
    assert.equal(visit.auth.guestExpiresAt(undefined), null, 'nobody signed in')
  })
  it("the signed-in guest's, counted from this very visit once its activity is written", () => {
    const w = new World()
    const g = browserGuest(w)
    w.clock.advance(3 * 86400)
    const visit = w.visit({ method: 'GET', cookies: [g.session] })
    assert.equal(visit.auth.guestExpiresAt()?.getTime(), w.clock.now() + 30 * DAY_MS, 'from now on')
  })
})

describe('expiredGuest', () => {
  it('a live guest: null', () => {
    const w = new World()
    const g = browserGuest(w)
    const visit = w.visit({ method: 'GET', cookies: [`${g.session}; ${g.trace}`] })
    assert.equal(visit.auth.expiredGuest(), null, 'the guest is alive')
  })
  it('a guest the cleanup deleted: { expiredAt } once, and the trace is cleared', () => {
    const w = new World()
    const g = browserGuest(w)
    w.backend.remove('users', g.record.id)
    w.clock.advance(40 * 86400)
    const visit = w.visit({ method: 'GET', cookies: [`${g.session}; ${g.trace}`] })
    const expired = visit.auth.expiredGuest()
    assert.ok(expired, 'the browser must learn that its guest expired')
    assert.equal(expired.expiredAt.getTime(), (dayOf(T0) + 7) * DAY_MS, 'the session lapsed 7 days after its day')
    assert.equal(visit.auth.expiredGuest(), expired, 'the same answer within the request')
    const cleared = visit.exchange.sideCookies.map(parseSetCookie).find((c) => c.name === 'pb_auth_guest')
    assert.equal(cleared?.maxAge, 0, 'the trace must be cleared so it reports once')
    const next = w.visit({ method: 'GET' })
    assert.equal(next.auth.expiredGuest(), null, 'the next request (no trace) hears nothing')
  })
  it('a browser whose session cookie lapsed (no pb_auth left) with a trace: expired', () => {
    const w = new World()
    const g = browserGuest(w)
    w.clock.advance(8 * 86400)
    const visit = w.visit({ method: 'GET', cookies: [g.trace] })
    assert.ok(visit.auth.expiredGuest(), 'the session lapsed')
  })
  it('still reported after ensureGuest() made a new guest in the same request, whose trace stays', () => {
    const w = new World()
    const g = browserGuest(w)
    w.backend.remove('users', g.record.id)
    const visit = w.visit({ method: 'GET', cookies: [g.trace] })
    visit.auth.ensureGuest()
    assert.ok(visit.auth.expiredGuest(), 'the old guest expired')
    const traces = visit.exchange.sideCookies.map(parseSetCookie).filter((c) => c.name === 'pb_auth_guest')
    assert.ok((traces.at(-1)?.maxAge ?? 0) > 0, "the new guest's trace must not be cleared")
  })
  it('a forged or altered trace: null', () => {
    const w = new World()
    const g = browserGuest(w)
    w.backend.remove('users', g.record.id)
    const [name, value] = g.trace.split('=') as [string, string]
    const parts = value.split('.')
    const forged = `${name}=${parts[0]}.${parts[1]}.${Number(parts[2]) - 100}.${parts[3]}`
    assert.equal(w.visit({ method: 'GET', cookies: [forged] }).auth.expiredGuest(), null, 'an altered day')
    assert.equal(
      w
        .visit({ method: 'GET', cookies: ['pb_auth_guest=1.pbc_users.20000.0123456789abcdef0123456789abcdef'] })
        .auth.expiredGuest(),
      null,
      'a made-up MAC',
    )
  })
  it('a session cookie replaced elsewhere while its guest still exists: null', () => {
    const w = new World()
    const g = browserGuest(w)
    w.backend.change('users', g.record.id, { tokenKey: 'rotated-elsewhere' })
    const visit = w.visit({ method: 'GET', cookies: [`${g.session}; ${g.trace}`] })
    assert.equal(visit.auth.expiredGuest(), null, 'the guest did not expire')
  })
  it('signing out clears the trace: the guest was ended, not expired', () => {
    const w = new World()
    const g = browserGuest(w)
    const out = w.visit({ method: 'POST', headers: { Origin: SITE }, cookies: [`${g.session}; ${g.trace}`] })
    out.auth.signOut()
    const cleared = out.exchange.sideCookies.map(parseSetCookie).find((c) => c.name === 'pb_auth_guest')
    assert.equal(cleared?.maxAge, 0, 'sign-out must clear the trace')
  })
  it('an upgrade clears the trace', () => {
    const w = new World()
    const g = browserGuest(w)
    const up = w.visit({ method: 'POST', headers: { Origin: SITE }, cookies: [`${g.session}; ${g.trace}`] })
    up.auth.upgradeAnonymousUser({
      email: 'kept@mail.test',
      password: 'a-long-password',
      passwordConfirm: 'a-long-password',
    })
    const cleared = up.exchange.sideCookies.map(parseSetCookie).find((c) => c.name === 'pb_auth_guest')
    assert.equal(cleared?.maxAge, 0, 'a full account has no guest trace')
  })
  it('a keep-alive renewal rewrites the trace with the new day', () => {
    const w = new World()
    const g = browserGuest(w)
    w.clock.advance(5 * 86400)
    const visit = w.visit({ method: 'GET', cookies: [`${g.session}; ${g.trace}`] })
    const trace = visit.exchange.sideCookies.map(parseSetCookie).find((c) => c.name === 'pb_auth_guest')
    assert.ok(trace, 'the renewal must rewrite the trace')
    assert.equal(trace.value.split('.')[2], String(dayOf(w.clock.now())), "today's day")
  })
})
