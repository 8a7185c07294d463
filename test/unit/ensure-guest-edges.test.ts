// ensureGuest()'s refusals and races (operations/ensure-guest.ts): which errors a page view turns into
// null, the human check on a form post, a pair whose guest is no longer a fresh guest, a guest made by
// a concurrent duplicate, and the errors of the write transaction.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatPocketBaseDate as date } from '../../src/core/dates.ts'
import { NONCE_FIELD, PAIR_TTL_SECONDS, pairEmail } from '../../src/core/first-submit.ts'
import { formPage, guests } from '../support/fake-browser.ts'
import { SITE, World } from '../support/fake-world.ts'
import { CHROME } from '../support/http.ts'
import { nodeCrypto } from '../support/node-crypto.ts'

function submit(w: World, form: { cookie: string; nonce: string }, requested: { collection?: string } = {}) {
  const visit = w.visit({
    method: 'POST',
    headers: { Origin: SITE, 'User-Agent': CHROME },
    cookies: [form.cookie],
    form: { [NONCE_FIELD]: form.nonce },
  })
  return { visit, result: () => visit.auth.ensureGuest(requested) }
}

/** The email the pair's guest gets (what a concurrent duplicate would have stored). */
function emailOf(w: World, form: { cookie: string; nonce: string }): string {
  const secret = form.cookie.split('=')[1]!
  return pairEmail(nodeCrypto, w.backend.collection('users').authToken.secret, { secret, nonce: form.nonce }, w.options)
}

/**
 * A form submitted while a duplicate of it (same pair) commits its guest during this one's human
 * check, which answers `checkPasses`.
 */
function duplicateDuringCheck(checkPasses: boolean) {
  let form!: { cookie: string; nonce: string }
  let made: string | undefined
  const w: World = new World({
    options: {
      beforeGuestSignIn: () => {
        made = w.insertGuest({ email: emailOf(w, form), lastSeen: date(w.clock.now()) }).id
        return checkPasses
      },
    },
  })
  form = formPage(w)
  const result = submit(w, form).result()
  return { w, made, result }
}

const signInsCounted = (w: World) =>
  w.backend.counterRows().reduce((n, r) => n + (r.bucket.startsWith('signin:') ? r.count : 0), 0)

describe('ensureGuest on a GET: only a failed human check becomes null', () => {
  it('a collection the plugin does not accept: the usual error, not null', () => {
    const w = new World()
    const visit = w.visit({ method: 'GET', headers: { 'User-Agent': CHROME } })
    assert.throws(
      () => visit.auth.ensureGuest({ collection: 'members' }),
      { code: 'COLLECTION_NOT_ALLOWED' },
      'a configuration error must reach the developer',
    )
  })
  it('a database error, whatever it carries, is thrown, not taken for a refusal', () => {
    const w = new World()
    w.backend.before('counters.addBelow', () => {
      throw Object.assign(new Error('database is locked'), { code: 'HUMAN_CHECK_FAILED' })
    })
    const visit = w.visit({ method: 'GET', headers: { 'User-Agent': CHROME } })
    assert.throws(() => visit.auth.ensureGuest(), { message: 'database is locked' }, 'only the plugin refuses')
  })
})

describe('ensureGuest on a form post with the pair', () => {
  it('a collection the plugin does not accept: COLLECTION_NOT_ALLOWED, as without the pair', () => {
    const w = new World()
    const form = formPage(w)
    assert.throws(
      () => submit(w, form, { collection: 'members' }).result(),
      { code: 'COLLECTION_NOT_ALLOWED' },
      'refused',
    )
  })
  it('the human check runs: a failed one refuses and creates nothing', () => {
    const w = new World({ options: { beforeGuestSignIn: () => false } })
    const form = formPage(w)
    assert.throws(() => submit(w, form).result(), { code: 'HUMAN_CHECK_FAILED' }, 'the check must be passed')
    assert.equal(guests(w).length, 0, 'nothing created')
  })
  it('a duplicate whose check fails because the first used the answer: the first one’s guest', () => {
    // The first submission commits its guest while this one runs its check, which fails.
    const { w, made, result } = duplicateDuringCheck(false)
    assert.equal(result?.record.id, made, 'the duplicate gets the guest its first submission made')
    assert.equal(guests(w).length, 1, 'no second guest')
  })
  it('a guest made by a concurrent duplicate during the check: taken in the transaction, not counted again', () => {
    const { w, made, result } = duplicateDuringCheck(true)
    assert.equal(result?.record.id, made, 'the transaction must find the pair’s guest')
    assert.equal(guests(w).length, 1, 'no second guest')
    assert.equal(signInsCounted(w), 0, 'handing out the pair’s guest is not a sign-in')
  })
  it('the pair’s email on a full account (an upgraded guest): never signed in to it', () => {
    const w = new World()
    const form = formPage(w)
    const first = submit(w, form).result()!
    w.backend.change('users', first.record.id, { anonymous: false })
    const again = submit(w, form).result()!
    assert.notEqual(again.record.id, first.record.id, 'a full account must not be reached through a form pair')
  })
  it('a guest past the pair’s lifetime though active since: not handed out (the window counts from creation)', () => {
    const w = new World()
    const form = formPage(w)
    const first = submit(w, form).result()!
    w.clock.advance(PAIR_TTL_SECONDS + 1)
    w.backend.change('users', first.record.id, { lastSeen: date(w.clock.now()) })
    const late = submit(w, form).result()!
    assert.notEqual(late.record.id, first.record.id, 'an old pair must not hand out its guest')
  })
})

describe('ensureGuest: errors of the write transaction', () => {
  it('the counters table missing: MIGRATION_MISSING', () => {
    const w = new World()
    const form = formPage(w)
    w.backend.dropCountersTable()
    assert.throws(() => submit(w, form).result(), { code: 'MIGRATION_MISSING' }, 'the fix must be named')
  })
  it('a plugin refusal with the counters in place: that refusal', () => {
    const w = new World({ options: { rateLimit: { perNetwork: 1 } } })
    submit(w, formPage(w)).result()
    assert.throws(() => submit(w, formPage(w)).result(), { code: 'RATE_LIMITED' }, 'the rate limit')
  })
  it('a plugin refusal while the counters look missing: still that refusal', () => {
    const w = new World({ options: { rateLimit: { perNetwork: 1 } } })
    submit(w, formPage(w)).result()
    const form = formPage(w)
    Object.assign(w.backend, { countersReady: () => false })
    assert.throws(() => submit(w, form).result(), { code: 'RATE_LIMITED' }, 'not mistaken for a missing migration')
  })
  it('a database error with the counters in place comes out unchanged', () => {
    const w = new World()
    const form = formPage(w)
    w.backend.before('counters.addBelow', () => {
      throw new Error('database is locked')
    })
    assert.throws(() => submit(w, form).result(), { message: 'database is locked' }, 'unchanged')
  })
})
