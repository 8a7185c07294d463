// Which operations count which stats event (stats.ts), and that an event that did not happen (a
// refusal, a rollback) is never counted: each count is in the event's own transaction.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { deleteAbandonedGuests } from '../../src/core/cleanup.ts'
import { readStats } from '../../src/core/stats.ts'
import { T0, World } from '../support/fake-world.ts'

/** The window's totals, flattened: what a test compares. */
function totals(w: World) {
  const { totals: t } = readStats(w.backend, w.options, w.clock.now())
  return { created: t.created, ...t.upgradedBy, merged: t.merged, signedOut: t.signedOut, cleanedUp: t.cleanedUp }
}

const NONE = { created: 0, password: 0, code: 0, oauth2: 0, merged: 0, signedOut: 0, cleanedUp: 0 }

function codeOf(act: () => unknown): string | null {
  try {
    act()
    return null
  } catch (error) {
    return (error as { code?: string }).code ?? String(error)
  }
}

describe('stats events: guest sign-in', () => {
  it('a guest sign-in counts one created guest', () => {
    const w = new World()
    w.signInGuest()
    w.signInGuest()
    assert.deepEqual(totals(w), { ...NONE, created: 2 })
  })
  it('a rate-limited sign-in counts nothing', () => {
    const w = new World({ options: { rateLimit: { perNetwork: 1 } } })
    w.signInGuest()
    assert.equal(
      codeOf(() => w.signInGuest()),
      'RATE_LIMITED',
    )
    assert.deepEqual(totals(w), { ...NONE, created: 1 }, 'the refused sign-in was counted')
  })
  it('a sign-in whose insert fails counts nothing (rolled back with it)', () => {
    const w = new World()
    w.backend.before('save', () => {
      throw new Error('disk full')
    })
    assert.notEqual(
      codeOf(() => w.signInGuest()),
      null,
      'the sign-in should fail',
    )
    assert.deepEqual(totals(w), NONE)
  })
  it('a browser that already holds its guest gets it back, and nothing is counted', () => {
    const w = new World()
    const guest = w.signInGuest()
    w.post(guest.cookie).auth.signInAnonymously()
    assert.deepEqual(totals(w), { ...NONE, created: 1 })
  })
})

describe('stats events: upgrade', () => {
  const input = { email: 'new@mail.test', password: 'correct horse', passwordConfirm: 'correct horse' }
  it('an upgrade by password counts upgraded-password', () => {
    const w = new World()
    const guest = w.signInGuest()
    w.post(guest.cookie).auth.upgradeAnonymousUser(input)
    assert.deepEqual(totals(w), { ...NONE, created: 1, password: 1 })
  })
  it('an upgrade by emailed code counts upgraded-code; a wrong code counts nothing', () => {
    const w = new World()
    const guest = w.signInGuest()
    const { otpId } = w.post(guest.cookie).auth.requestUpgradeCode({ email: 'coded@mail.test' })
    const sent = w.backend.sentCodes.at(-1)!
    assert.equal(
      codeOf(() => w.post(guest.cookie).auth.upgradeWithCode({ otpId, code: `${sent.code}0` })),
      'INVALID_CODE',
    )
    assert.deepEqual(totals(w), { ...NONE, created: 1 }, 'a wrong code is no upgrade')
    w.post(guest.cookie).auth.upgradeWithCode({ otpId, code: sent.code })
    assert.deepEqual(totals(w), { ...NONE, created: 1, code: 1 })
  })
  it('a refused upgrade counts nothing', () => {
    const w = new World()
    const guest = w.signInGuest()
    assert.equal(
      codeOf(() => w.post(guest.cookie).auth.upgradeAnonymousUser({ ...input, passwordConfirm: 'other' })),
      'VALIDATION_FAILED',
    )
    assert.deepEqual(totals(w), { ...NONE, created: 1 })
  })
  it('an upgrade that loses in its transaction (the email was taken meanwhile) counts nothing', () => {
    const w = new World()
    const guest = w.signInGuest()
    w.backend.before('hashPassword', () => w.insertUser({ email: input.email }))
    assert.equal(
      codeOf(() => w.post(guest.cookie).auth.upgradeAnonymousUser(input)),
      'EMAIL_TAKEN',
    )
    assert.deepEqual(totals(w), { ...NONE, created: 1 })
  })
})

describe('stats events: merge', () => {
  it('signing in to an account as a guest counts one merge', () => {
    const w = new World()
    const guest = w.signInGuest()
    const user = w.insertUser()
    w.post(guest.cookie).auth.signIn({ token: user.newAuthToken() })
    assert.deepEqual(totals(w), { ...NONE, created: 1, merged: 1 })
  })
  it('mergeAnonymousUser counts one merge', () => {
    const w = new World()
    const guest = w.signInGuest()
    const user = w.insertUser()
    w.post(guest.cookie).auth.mergeAnonymousUser(user)
    assert.deepEqual(totals(w), { ...NONE, created: 1, merged: 1 })
  })
  it('a merge whose onMerge throws is rolled back and not counted', () => {
    const w = new World({
      options: {
        onMerge: () => {
          throw new Error('no')
        },
      },
    })
    const guest = w.signInGuest()
    const user = w.insertUser()
    assert.equal(
      codeOf(() => w.post(guest.cookie).auth.signIn({ token: user.newAuthToken() })),
      'MERGE_FAILED',
    )
    assert.deepEqual(totals(w), { ...NONE, created: 1 })
  })
  it('signing in with no guest session merges and counts nothing', () => {
    const w = new World()
    const user = w.insertUser()
    w.post().auth.signIn({ token: user.newAuthToken() })
    assert.deepEqual(totals(w), NONE)
  })
})

describe('stats events: sign-out and cleanup', () => {
  it("a guest's sign-out counts one; a full account's counts nothing", () => {
    const w = new World()
    const guest = w.signInGuest()
    w.post(guest.cookie).auth.signOut()
    const user = w.insertUser()
    w.post(w.cookieFor(user)).auth.signOut()
    assert.deepEqual(totals(w), { ...NONE, created: 1, signedOut: 1 })
  })
  it('a sign-out that finds the guest already ended counts nothing', () => {
    const w = new World()
    const guest = w.signInGuest()
    const visit = w.post(guest.cookie)
    // Another request ended this guest session first (its token key changed).
    w.backend.change('users', guest.record.id, { tokenKey: 'rotated-elsewhere' })
    visit.auth.signOut()
    assert.deepEqual(totals(w), { ...NONE, created: 1 })
  })
  it('a cleanup run counts the guests it deleted, once, and a dry run nothing', () => {
    const w = new World()
    for (let i = 0; i < 3; i++) w.insertGuest({ lastSeen: '1970-01-01 00:00:00.000Z' })
    deleteAbandonedGuests(w.backend, w.options, T0, { dryRun: true })
    assert.deepEqual(totals(w), NONE, 'a dry run counted')
    const traceBefore = w.backend.trace.length
    deleteAbandonedGuests(w.backend, w.options, T0)
    assert.deepEqual(totals(w), { ...NONE, cleanedUp: 3 })
    assert.equal(
      w.backend.trace.slice(traceBefore).filter((t) => t === 'counters.add').length,
      1,
      'a run must count its deletions with one statement',
    )
  })
})
