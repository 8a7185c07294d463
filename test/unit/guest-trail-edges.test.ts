// The edges of expiredGuest() and of the trace cookie (guest-trail.ts): what an ambiguous or broken
// cookie means, and that the trace is cleared exactly when a browser holds one or this response set one.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DAY_MS, formatPocketBaseDate as date } from '../../src/core/dates.ts'
import { browserGuest } from '../support/fake-browser.ts'
import { SITE, T0, World } from '../support/fake-world.ts'
import { parseSetCookie } from '../support/http.ts'

const traceCookies = (visit: { exchange: { sideCookies: string[] } }) =>
  visit.exchange.sideCookies.map(parseSetCookie).filter((c) => c.name === 'pb_auth_guest')

describe('expiredGuest: ambiguous and broken cookies', () => {
  it('two trace cookies: ambiguous, nothing is reported', () => {
    const w = new World()
    const a = browserGuest(w)
    const b = browserGuest(w)
    w.backend.remove('users', a.record.id)
    w.backend.remove('users', b.record.id)
    const visit = w.visit({ method: 'GET', cookies: [`${a.trace}; ${b.trace}`] })
    assert.equal(visit.auth.expiredGuest(), null, 'a trace must be the only one to be believed')
    const one = w.visit({ method: 'GET', cookies: [a.trace] })
    assert.ok(one.auth.expiredGuest(), 'the same trace alone reports the expiry')
  })
  it('an unreadable session cookie beside the trace of a deleted guest: expired (no error)', () => {
    const w = new World()
    const g = browserGuest(w)
    w.backend.remove('users', g.record.id)
    const visit = w.visit({ method: 'GET', cookies: [`pb_auth=not-a-token; ${g.trace}`] })
    assert.ok(visit.auth.expiredGuest(), 'a cookie naming nothing cannot keep the guest alive')
  })
  it('a session cookie naming a collection that does not exist: expired', () => {
    const w = new World()
    const g = browserGuest(w)
    const token = w.backend.token(g.record, 'auth', undefined, { collectionId: 'pbc_gone' })
    w.backend.remove('users', g.record.id)
    const visit = w.visit({ method: 'GET', cookies: [`${w.cookieFor(g.record, token)}; ${g.trace}`] })
    assert.ok(visit.auth.expiredGuest(), 'no collection, no record: the guest expired')
  })
  it('two session cookies, one naming a record that still exists: not expired', () => {
    const w = new World()
    const gone = browserGuest(w)
    const live = browserGuest(w)
    w.backend.remove('users', gone.record.id)
    const both = w.visit({ method: 'GET', cookies: [`${gone.session}; ${live.session}; ${gone.trace}`] })
    assert.equal(both.auth.expiredGuest(), null, 'a browser holding a live record must not hear "expired"')
    const liveFirst = w.visit({ method: 'GET', cookies: [`${live.session}; ${gone.session}; ${gone.trace}`] })
    assert.equal(liveFirst.auth.expiredGuest(), null, 'whichever cookie comes first')
    w.backend.remove('users', live.record.id)
    const neither = w.visit({ method: 'GET', cookies: [`${gone.session}; ${live.session}; ${gone.trace}`] })
    assert.ok(neither.auth.expiredGuest(), 'both records gone: expired')
  })
})

describe('guestExpiresAt: a guest never seen since its creation', () => {
  it('counts from its creation when lastSeen is empty', () => {
    const w = new World({ options: { cleanup: { retentionDays: 10 } } })
    const guest = w.insertGuest({ created: date(T0 - 2 * DAY_MS), lastSeen: '' })
    const visit = w.visit({ method: 'GET' })
    assert.equal(visit.auth.guestExpiresAt(guest)?.getTime(), T0 + 8 * DAY_MS, 'created + 10 days')
  })
})

describe('the trace cookie is cleared only when there is one', () => {
  it('a full account signing in on a browser without a trace: no trace Set-Cookie at all', () => {
    const w = new World()
    const user = w.insertUser()
    const visit = w.post()
    visit.auth.signIn({ token: user.newAuthToken() })
    assert.equal(visit.auth.currentRecord?.id, user.id, 'signed in')
    assert.deepEqual(traceCookies(visit), [], 'nothing to clear: no cookie added to the response')
  })
  it('a guest made and signed out in one response: its trace is cleared once', () => {
    const w = new World()
    const visit = w.post()
    visit.auth.signInAnonymously()
    visit.auth.signOut()
    const user = w.insertUser()
    visit.auth.signIn({ token: user.newAuthToken() })
    const set = traceCookies(visit)
    assert.equal(set.length, 2, `written then cleared, nothing more: ${JSON.stringify(set)}`)
    assert.equal(set[1]!.maxAge, 0, 'the trace this response set must be cleared by the sign-out')
  })
  it('signing out a browser that sent a trace clears it', () => {
    const w = new World()
    const g = browserGuest(w)
    const out = w.visit({ method: 'POST', headers: { Origin: SITE }, cookies: [`${g.session}; ${g.trace}`] })
    out.auth.signOut()
    assert.equal(traceCookies(out).at(-1)?.maxAge, 0, 'the trace the browser holds must go')
  })
})

describe('expiredGuest: a request that arrived signed in', () => {
  it('an Authorization header authenticated it: nothing is reported, whatever trace it carries', () => {
    const w = new World()
    const g = browserGuest(w)
    w.backend.remove('users', g.record.id)
    const user = w.insertUser()
    const visit = w.visit(
      { method: 'GET', cookies: [g.trace] },
      { load: false, initial: { record: user, token: user.newAuthToken() } },
    )
    assert.equal(visit.auth.expiredGuest(), null, 'a signed-in request has no expired guest to hear about')
  })
})
