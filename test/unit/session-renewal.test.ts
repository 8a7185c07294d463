// The keep-alive renewal of a session cookie (AuthSession.readCookie) and what it tells the guest
// trail: only a guest's renewal counts as guest activity (its trace cookie is rewritten); a full
// account's renewal writes its session cookie and nothing about guests.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Visit, World } from '../support/fake-world.ts'
import { parseSetCookie } from '../support/http.ts'

const traceOf = (visit: Visit) =>
  visit.exchange.sideCookies.map(parseSetCookie).filter((c) => c.name === 'pb_auth_guest')

/** Moves the clock past the point where a token issued now is renewed. */
function pastRefreshPoint(w: World): void {
  w.clock.advance(Math.ceil(w.backend.collection('users').authToken.duration * 0.75))
}

describe('renewing a session cookie', () => {
  it("a guest's renewal rewrites its session cookie and its trace cookie", () => {
    const w = new World()
    const guest = w.signInGuest()
    pastRefreshPoint(w)
    const visit = w.visit({ cookies: [guest.cookie] })
    assert.equal(visit.exchange.setCookies.length, 1, 'the session cookie was renewed')
    assert.equal(traceOf(visit).length, 1, 'the guest trail recorded the activity')
  })
  it("a full account's renewal rewrites its session cookie only: no guest trace", () => {
    const w = new World()
    const user = w.insertUser()
    const cookie = w.cookieFor(user)
    pastRefreshPoint(w)
    const visit = w.visit({ cookies: [cookie] })
    assert.equal(visit.auth.currentRecord?.id, user.id, 'signed in as the account')
    assert.equal(visit.exchange.setCookies.length, 1, 'the session cookie was renewed')
    assert.deepEqual(traceOf(visit), [], 'no guest trace for a full account')
  })
})
