// Merging a guest into an existing account end to end (issue 3): a signed-in guest uses the
// demo's /login mode=password with the credentials of an account that already exists. The
// guest's data moves to that account (by default every relation to the guest is repointed; with
// an `onMerge` hook, the hook decides), the guest is deleted, and the browser is signed in as the
// account. All of it in one transaction: a failure changes nothing.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { authRefresh, type GuestSession, signInAsGuest } from '../support/guest.ts'
import {
  authWithPassword,
  createFullUser,
  createOwnedCollection,
  createRecord,
  createTextCollection,
  type FullUser,
  findRecord,
  getRecord,
  listRecords,
  postPasswordLogin,
  rawUser,
  sessionFrom,
  uniqueEmail,
  viewHome,
} from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

/** Asserts a guest whose merge was refused still exists and is still signed in by its cookie. */
async function assertGuestIntact(pb: PocketBaseServer, guest: GuestSession, what: string): Promise<void> {
  const record = await findRecord(pb, 'users', guest.record.id)
  assert.ok(record, `${what}: the guest was deleted`)
  assert.equal(record.anonymous, true, `${what}: the guest lost its anonymous flag`)
  const home = await viewHome(pb, guest.cookie)
  assert.equal(home.id, guest.record.id, `${what}: the guest's cookie no longer signs in`)
  assert.equal(home.anonymous, 'yes')
  assert.equal((await authRefresh(pb, 'users', guest.token)).status, 200, `${what}: the guest's token stopped working`)
}

/** Asserts an account is exactly as before (raw row, password still valid). */
async function assertUserUnchanged(pb: PocketBaseServer, user: FullUser, before: unknown, what: string): Promise<void> {
  assert.deepEqual(rawUser(pb.dataDir, user.id), before, `${what}: the account's row changed`)
  assert.equal(
    (await authWithPassword(pb, user.email, user.password)).status,
    200,
    `${what}: the account's password stopped working`,
  )
}

describe('merging a guest into an existing account (default: relations are repointed)', () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
    await createOwnedCollection(pb, 'memos', { cascadeDelete: true })
    await createOwnedCollection(pb, 'tags', { field: 'members', maxSelect: 5, cascadeDelete: false })
    // A required relation without cascade: deleting the guest would fail unless it was repointed first.
    await createOwnedCollection(pb, 'reviews', { field: 'author', required: true, cascadeDelete: false })
    // At most one profile per user: repointing a guest's profile to a user who has one must fail.
    await createOwnedCollection(pb, 'profiles', {
      cascadeDelete: true,
      indexes: ['CREATE UNIQUE INDEX idx_profiles_owner ON profiles (owner)'],
    })
  })
  after(() => pb?.stop())

  describe('a successful merge', () => {
    let guest: GuestSession
    let user: FullUser
    let other: FullUser
    let userRowBefore: ReturnType<typeof rawUser>
    const ids: Record<string, string> = {}
    let session: ReturnType<typeof sessionFrom>

    before(async () => {
      user = await createFullUser(pb)
      other = await createFullUser(pb)
      guest = await signInAsGuest(pb)
      ids.guestNote = (await createRecord(pb, 'memos', { owner: guest.record.id, title: 'guest note' })).id
      ids.userNote = (await createRecord(pb, 'memos', { owner: user.id, title: 'user note' })).id
      ids.bothTag = (await createRecord(pb, 'tags', { members: [guest.record.id, user.id], title: 'both' })).id
      ids.mixedTag = (await createRecord(pb, 'tags', { members: [other.id, guest.record.id], title: 'mixed' })).id
      ids.otherTag = (await createRecord(pb, 'tags', { members: [other.id], title: 'other' })).id
      ids.review = (await createRecord(pb, 'reviews', { author: guest.record.id, title: 'required relation' })).id
      userRowBefore = rawUser(pb.dataDir, user.id)
      session = sessionFrom(await postPasswordLogin(pb, guest.cookie, user.email, user.password), 'merge via /login')
    })

    it('signs the browser in as the account', () => {
      assert.equal(session.record.id, user.id, 'the new cookie is not for the account signed in to')
      assert.equal(session.record.email, user.email)
      assert.equal(session.record.anonymous, false)
    })

    it('shows the account on / with the new cookie', async () => {
      const home = await viewHome(pb, session.cookie)
      assert.equal(home.status, 200)
      assert.equal(home.id, user.id)
      assert.equal(home.email, user.email)
      assert.equal(home.anonymous, 'no')
    })

    it('repoints single relations to the account', async () => {
      assert.equal((await getRecord(pb, 'memos', ids.guestNote!)).owner, user.id, "the guest's note was not moved")
      assert.equal((await getRecord(pb, 'memos', ids.userNote!)).owner, user.id, "the account's own note changed")
      assert.equal((await getRecord(pb, 'reviews', ids.review!)).author, user.id, 'the required relation was not moved')
    })

    it('repoints multiple relations, without duplicates and keeping the other members', async () => {
      assert.deepEqual(
        (await getRecord(pb, 'tags', ids.bothTag!)).members,
        [user.id],
        'guest + account must collapse to the account',
      )
      assert.deepEqual((await getRecord(pb, 'tags', ids.mixedTag!)).members, [other.id, user.id])
      assert.deepEqual((await getRecord(pb, 'tags', ids.otherTag!)).members, [other.id], 'an unrelated tag changed')
    })

    it('deletes the guest, and its cookie no longer signs in', async () => {
      assert.equal(await findRecord(pb, 'users', guest.record.id), null, 'the guest record still exists')
      const home = await viewHome(pb, guest.cookie)
      assert.ok(home.signedOut, "the deleted guest's cookie still signs in")
      assert.ok(
        [401, 403, 404].includes((await authRefresh(pb, 'users', guest.token)).status),
        "the deleted guest's token still works",
      )
    })

    it('leaves the account itself unchanged', async () => {
      await assertUserUnchanged(pb, user, userRowBefore, 'after the merge')
    })
  })

  describe('a refused merge changes nothing', () => {
    it('with a wrong password: shows the error, keeps the guest and its data', async () => {
      const user = await createFullUser(pb)
      const guest = await signInAsGuest(pb)
      const note = await createRecord(pb, 'memos', { owner: guest.record.id })
      const result = await postPasswordLogin(pb, guest.cookie, user.email, `${user.password}-wrong`)
      assert.equal(result.status, 200)
      assert.equal(result.error, 'Wrong email or password.')
      assert.equal(result.setCookie, undefined, 'a refused sign-in must not touch the cookie')
      assert.equal((await getRecord(pb, 'memos', note.id)).owner, guest.record.id)
      await assertGuestIntact(pb, guest, 'wrong password')
    })

    it('from another site: 403, keeps the guest and its data', async () => {
      const user = await createFullUser(pb)
      const userRow = rawUser(pb.dataDir, user.id)
      const guest = await signInAsGuest(pb)
      const note = await createRecord(pb, 'memos', { owner: guest.record.id })
      const result = await postPasswordLogin(pb, guest.cookie, user.email, user.password, {
        origin: 'https://evil.example',
      })
      assert.equal(result.status, 403, `a cross-site merge was not refused: ${result.status} ${result.error}`)
      assert.match(result.error ?? '', /another site/i)
      assert.equal(result.setCookie, undefined)
      assert.equal((await getRecord(pb, 'memos', note.id)).owner, guest.record.id)
      await assertGuestIntact(pb, guest, 'cross-site merge')
      await assertUserUnchanged(pb, user, userRow, 'cross-site merge')
    })

    it('when a repointed record fails to save: rolls back every move, keeps the guest', async () => {
      const user = await createFullUser(pb)
      const guest = await signInAsGuest(pb)
      await createRecord(pb, 'profiles', { owner: user.id, title: "the account's profile" })
      const guestProfile = await createRecord(pb, 'profiles', { owner: guest.record.id, title: "the guest's profile" })
      const note = await createRecord(pb, 'memos', { owner: guest.record.id })
      const tag = await createRecord(pb, 'tags', { members: [guest.record.id] })
      const userRow = rawUser(pb.dataDir, user.id)

      const result = await postPasswordLogin(pb, guest.cookie, user.email, user.password)
      assert.ok(result.status >= 400, `the merge should have failed (unique owner of profiles), got ${result.status}`)
      assert.match(result.error ?? '', /Nothing was changed/, `unexpected error: ${result.error}`)
      assert.match(result.html, /<h1>Sign in<\/h1>/, 'the error is not shown on the rendered page')
      assert.equal(result.setCookie, undefined, 'a failed merge must not touch the cookie')

      assert.equal((await getRecord(pb, 'memos', note.id)).owner, guest.record.id, 'a note move was not rolled back')
      assert.deepEqual(
        (await getRecord(pb, 'tags', tag.id)).members,
        [guest.record.id],
        'a tag move was not rolled back',
      )
      assert.equal((await getRecord(pb, 'profiles', guestProfile.id)).owner, guest.record.id)
      await assertGuestIntact(pb, guest, 'failed default merge')
      await assertUserUnchanged(pb, user, userRow, 'failed default merge')
    })

    it("words the failure as one sentence per part (no doubled period from PocketBase's message)", async () => {
      const user = await createFullUser(pb)
      const guest = await signInAsGuest(pb)
      await createRecord(pb, 'profiles', { owner: user.id })
      await createRecord(pb, 'profiles', { owner: guest.record.id })
      const result = await postPasswordLogin(pb, guest.cookie, user.email, user.password)
      assert.ok(result.status >= 400, `the merge should have failed, got ${result.status}`)
      // PocketBase's validation message already ends with '.'; the plugin appends '. Nothing was changed.'
      assert.doesNotMatch(
        result.error ?? '',
        /\.\./,
        `the message shows a doubled period: ${JSON.stringify(result.error)}`,
      )
    })
  })
})

// The onMerge hook of the overlay config (beside the auth plugin, whose signInWithPassword the
// demo's /login uses): logs each call in merge_log (through the transaction's app), moves the
// guest's memos itself, and throws after writing for accounts named throw-*.
const ON_MERGE_CONFIG = `module.exports = {
  plugins: [
    'pocketpages-plugin-ejs',
    'pocketpages-plugin-auth',
    {
      name: 'pocketpages-plugin-anonymous',
      rateLimit: { perNetwork: 1000 },
      onMerge: ({ guest, user, app }) => {
        const entry = new Record(app.findCollectionByNameOrId('merge_log'))
        entry.set('guest', guest.id)
        entry.set('user', user.id)
        entry.set('guestAnonymous', String(guest.getBool('anonymous')))
        app.save(entry)
        const notes = app.findAllRecords('memos', $dbx.hashExp({ owner: guest.id }))
        for (const note of notes) {
          note.set('owner', user.id)
          app.save(note)
        }
        if (user.email().indexOf('throw-') === 0) throw new Error('merge refused by the test hook')
      },
    },
  ],
}
`

describe('merging with an onMerge hook from +config.js', () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({ hooksOverlay: { 'pages/+config.js': ON_MERGE_CONFIG } })
    await createOwnedCollection(pb, 'memos', { cascadeDelete: false })
    await createOwnedCollection(pb, 'tags', { field: 'members', maxSelect: 5, cascadeDelete: false })
    await createTextCollection(pb, 'merge_log', ['guest', 'user', 'guestAnonymous'])
  })
  after(() => pb?.stop())

  const logRows = (filter = '') => listRecords(pb, 'merge_log', filter)

  it('runs the hook exactly once per merge, with both records, instead of the default', async () => {
    const other = await createFullUser(pb)
    const rowsBefore = (await logRows()).length
    for (let i = 0; i < 2; i++) {
      const user = await createFullUser(pb)
      const guest = await signInAsGuest(pb)
      const note = await createRecord(pb, 'memos', { owner: guest.record.id })
      const tag = await createRecord(pb, 'tags', { members: [other.id, guest.record.id] })

      const session = sessionFrom(
        await postPasswordLogin(pb, guest.cookie, user.email, user.password),
        `merge ${i + 1}`,
      )
      assert.equal(session.record.id, user.id)

      const rows = await logRows(`guest = "${guest.record.id}"`)
      assert.equal(rows.length, 1, `onMerge ran ${rows.length} times for one merge`)
      assert.equal(rows[0]!.user, user.id, 'the hook got the wrong account')
      assert.equal(rows[0]!.guestAnonymous, 'true', 'the hook did not get the guest record')
      assert.equal((await getRecord(pb, 'memos', note.id)).owner, user.id, "the hook's own move did not persist")
      // The default reassignment must not run when a hook is configured: the tag keeps no
      // reference to the account (PocketBase drops the deleted guest from it).
      assert.deepEqual(
        (await getRecord(pb, 'tags', tag.id)).members,
        [other.id],
        'the default reassignment ran as well as the hook',
      )
      assert.equal(await findRecord(pb, 'users', guest.record.id), null, 'the guest was not deleted after the hook')
      assert.equal((await viewHome(pb, session.cookie)).id, user.id)
    }
    assert.equal((await logRows()).length, rowsBefore + 2, 'two merges must log exactly two hook calls')
  })

  it('rolls back everything when the hook throws after writing, and renders the error', async () => {
    const user = await createFullUser(pb, uniqueEmail('throw-member'))
    const userRow = rawUser(pb.dataDir, user.id)
    const guest = await signInAsGuest(pb)
    const note = await createRecord(pb, 'memos', { owner: guest.record.id })
    const rowsBefore = (await logRows()).length

    const result = await postPasswordLogin(pb, guest.cookie, user.email, user.password)
    assert.ok(result.status >= 400 && result.status < 600, `a throwing hook must fail the merge, got ${result.status}`)
    assert.match(result.html, /<h1>Sign in<\/h1>/, `not the rendered /login page: ${result.html.slice(0, 300)}`)
    assert.match(result.error ?? '', /onMerge hook failed/, `unexpected error: ${result.error}`)
    assert.match(result.error ?? '', /merge refused by the test hook/, "the hook's own message is not shown")
    assert.match(result.error ?? '', /Nothing was changed/)
    assert.equal(result.setCookie, undefined, 'a failed merge must not touch the cookie')

    assert.equal((await logRows()).length, rowsBefore, "the hook's merge_log write was not rolled back")
    assert.equal(
      (await getRecord(pb, 'memos', note.id)).owner,
      guest.record.id,
      "the hook's note move was not rolled back",
    )
    await assertGuestIntact(pb, guest, 'throwing hook')
    await assertUserUnchanged(pb, user, userRow, 'throwing hook')
  })
})
