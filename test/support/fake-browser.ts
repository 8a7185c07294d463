// What a browser gets from the fake world's pages: a guest signed in with the cookies it keeps, the
// guest form page (ensureGuest's first submit, first-submit.ts). Shared by the unit tests.
import assert from 'node:assert/strict'
import { NONCE_FIELD } from '../../src/core/first-submit.ts'
import type { FakeRecord } from './fake-backend.ts'
import type { World } from './fake-world.ts'
import { CHROME, parseSetCookie } from './http.ts'

/** The guests of the `users` collection, as stored. */
export const guests = (w: World) =>
  w.backend.db.table(w.backend.collection('users')).filter((r) => r.anonymous === true)

/** What a browser gets from the form page: the secret cookie line and the nonce. */
export function formPage(w: World): { cookie: string; nonce: string } {
  const visit = w.visit({ method: 'GET', headers: { 'User-Agent': CHROME } })
  const html = visit.auth.guestFormFields()
  const nonce = new RegExp(`name="${NONCE_FIELD}" value="([A-Za-z0-9]+)"`).exec(html)?.[1]
  assert.ok(nonce, `no nonce in ${html}`)
  const set = visit.exchange.sideCookies.map(parseSetCookie).find((c) => c.name === 'pb_auth_form')
  assert.ok(set, 'the form page set no secret cookie')
  return { cookie: `pb_auth_form=${set.value}`, nonce }
}

/** A guest signed in through the page functions, with the Cookie lines its browser keeps. */
export function browserGuest(w: World) {
  const visit = w.post()
  const { record } = visit.auth.signInAnonymously()
  const session = visit.exchange.cookiesSet().at(-1)!
  const trace = visit.exchange.sideCookies.map(parseSetCookie).find((c) => c.name === 'pb_auth_guest')
  assert.ok(trace, 'a guest sign-in must set the trace')
  assert.equal(trace.httpOnly, true, 'the trace is HttpOnly')
  return { record: record as FakeRecord, session: `pb_auth=${session.value}`, trace: `pb_auth_guest=${trace.value}` }
}
