// PocketBase's own OAuth2 link path (issue 17, item 2a): a signed-in guest's token sent as
// Authorization to auth-with-oauth2, as a client SDK holding the session sends it. PocketBase links
// a new identity to the guest; the plugin's hooks make that guest an account in place (same id,
// the provider's email when free, verified by PocketBase's rule, no guest flag, no guest marker),
// or, when the identity or its email already has an account, sign that account in and merge the
// guest into it. The cleanup never deletes a flagged record that has an OAuth2 identity.
// The provider is a local fake OpenID Connect server (test/support/fake-oidc.ts).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { formatPocketBaseDate } from '../../src/core/dates.ts'
import { isGuestPasswordHash } from '../../src/core/guest-identity.ts'
import { runCleanupRoute } from '../support/attack.ts'
import { enableOidc, type FakeOidc, signInWithOidc, startFakeOidc } from '../support/fake-oidc.ts'
import { authRefresh, type GuestSession, guestMarkerHash, signInAsGuest } from '../support/guest.ts'
import { postForm } from '../support/http.ts'
import {
  createFullUser,
  DAY_MS,
  findRecord,
  getRecord,
  listRecords,
  passwordToken,
  setColumns,
  uid,
  uniqueEmail,
} from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { sqlite } from '../support/sqlite.ts'

const daysAgo = (days: number) => formatPocketBaseDate(Date.now() - days * DAY_MS)

interface StoredUser {
  anonymous: number
  password: string
  email: string
  verified: number
  tokenKey: string
}

function stored(pb: PocketBaseServer, id: string): StoredUser | undefined {
  return sqlite<StoredUser>(
    pb.dataDir,
    `SELECT anonymous, password, email, verified, tokenKey FROM users WHERE id = '${id}'`,
  )[0]
}

function externalAuths(pb: PocketBaseServer, recordId: string): { provider: string; providerId: string }[] {
  return sqlite(pb.dataDir, `SELECT provider, providerId FROM _externalAuths WHERE recordRef = '${recordId}'`)
}

/** An account in the plugin's sense: flag off AND a hash that is not the guest marker. */
function assertAccount(row: StoredUser | undefined, what: string): void {
  assert.ok(row, `${what}: the record is gone`)
  assert.equal(row.anonymous, 0, `${what}: still flagged as a guest`)
  assert.ok(!isGuestPasswordHash(row.password), `${what}: still has the guest password marker`)
}

async function addNote(pb: PocketBaseServer, cookie: string, text: string): Promise<void> {
  const res = await postForm(`${pb.url}/notes`, { text }, { cookie })
  assert.equal(res.status, 302, `POST /notes: ${res.status}`)
}

describe('a guest links an OAuth2 identity through PocketBase (auth-with-oauth2 with its token)', () => {
  let pb: PocketBaseServer
  let oidc: FakeOidc

  before(async () => {
    oidc = await startFakeOidc()
    pb = await startPocketBase()
    await enableOidc(pb, oidc)
  })
  after(async () => {
    await pb?.stop()
    await oidc?.stop()
  })

  it('a new identity with a free, verified email: same id, that email, verified, an account', async () => {
    const guest = await signInAsGuest(pb)
    await addNote(pb, guest.cookie, 'kept by id')
    const email = uniqueEmail('oidc')
    const result = await signInWithOidc(pb, oidc, { sub: `sub-${uid()}`, email }, guest.token)
    assert.equal(result.record.id, guest.record.id, 'the identity must join the guest, not a new record')
    const row = stored(pb, guest.record.id)
    assertAccount(row, 'after linking')
    assert.equal(row!.email, email, "the provider's email was not taken")
    assert.equal(row!.verified, 1, 'PocketBase marks it verified when the emails match')
    assert.equal(externalAuths(pb, guest.record.id).length, 1, 'no _externalAuths row for the guest id')
    const refreshed = await authRefresh(pb, 'users', result.token)
    assert.equal(refreshed.status, 200, "the response's token must work for the converted account")
    const notes = await listRecords(pb, 'notes', `owner = "${guest.record.id}"`)
    assert.deepEqual(
      notes.map((n) => n.text),
      ['kept by id'],
      'the guest data stays with its id',
    )
  })

  it('a new identity without a verified email: same id, an account, the placeholder email unverified', async () => {
    const guest = await signInAsGuest(pb)
    const before = stored(pb, guest.record.id)
    const result = await signInWithOidc(
      pb,
      oidc,
      { sub: `sub-${uid()}`, email: uniqueEmail('unverified'), emailVerified: false },
      guest.token,
    )
    assert.equal(result.record.id, guest.record.id, 'the identity must join the guest')
    const row = stored(pb, guest.record.id)
    assertAccount(row, 'after linking without an email')
    assert.equal(row!.email, before!.email, 'the email changed without a verified provider email')
    assert.equal(row!.verified, 0, 'verified without any verified email')
    assert.equal((await authRefresh(pb, 'users', result.token)).status, 200, 'the returned token must work')
  })

  it("the identity's email belongs to an account: that account is signed in and the guest merged into it", async () => {
    const account = await createFullUser(pb)
    await pb.apiJson(`/api/collections/users/records/${account.id}`, { method: 'PATCH', body: { verified: true } })
    const guest = await signInAsGuest(pb)
    await addNote(pb, guest.cookie, 'moves to the account')
    const result = await signInWithOidc(pb, oidc, { sub: `sub-${uid()}`, email: account.email }, guest.token)
    assert.equal(result.record.id, account.id, 'the existing account must be the one signed in')
    assert.equal(await findRecord(pb, 'users', guest.record.id), null, 'the guest was not merged away')
    const notes = await listRecords(pb, 'notes', `owner = "${account.id}"`)
    assert.deepEqual(
      notes.map((n) => n.text),
      ['moves to the account'],
      "the guest's notes did not follow",
    )
    assert.equal(externalAuths(pb, account.id).length, 1, 'the identity was not linked to the account')
  })

  it('an identity that already has an account: that account, and the guest merged into it', async () => {
    const sub = `sub-${uid()}`
    const first = await signInWithOidc(pb, oidc, { sub, email: uniqueEmail('returning') })
    assert.equal(first.isNew, true, 'the first sign-in should create the account')
    const guest: GuestSession = await signInAsGuest(pb)
    await addNote(pb, guest.cookie, 'guest note')
    const again = await signInWithOidc(pb, oidc, { sub }, guest.token)
    assert.equal(again.record.id, first.record.id, "the identity's account must be signed in")
    assert.equal(await findRecord(pb, 'users', guest.record.id), null, 'the guest should be merged away')
    const notes = await listRecords(pb, 'notes', `owner = "${first.record.id}"`)
    assert.deepEqual(
      notes.map((n) => n.text),
      ['guest note'],
      "the guest's notes did not follow",
    )
  })

  it('a converted guest is never deleted by the cleanup', async () => {
    const guest = await signInAsGuest(pb)
    await signInWithOidc(pb, oidc, { sub: `sub-${uid()}`, email: uniqueEmail('kept') }, guest.token)
    setColumns(pb.dataDir, 'users', guest.record.id, { created: daysAgo(90), lastSeen: daysAgo(90) })
    await runCleanupRoute(pb)
    assert.ok(await findRecord(pb, 'users', guest.record.id), 'the cleanup deleted an account that signed up')
  })

  it('the cleanup keeps a flagged guest that has an _externalAuths row (defence in depth)', async () => {
    // A row written by SQL, so no hook converts the guest: as if a link had been made before.
    const guest = await signInAsGuest(pb)
    const users = await getRecord(pb, 'users', guest.record.id)
    const collectionId = String(users.collectionId)
    sqlite(
      pb.dataDir,
      `INSERT INTO _externalAuths (id, collectionRef, recordRef, provider, providerId, created, updated)
       VALUES ('ea${uid().slice(0, 13)}', '${collectionId}', '${guest.record.id}', 'oidc', 'sql-${uid()}', '${daysAgo(90)}', '${daysAgo(90)}')`,
    )
    setColumns(pb.dataDir, 'users', guest.record.id, {
      created: daysAgo(90),
      lastSeen: daysAgo(90),
      password: guestMarkerHash(),
    })
    assert.equal(stored(pb, guest.record.id)?.anonymous, 1, 'fixture: the guest should still be flagged')
    const report = await runCleanupRoute(pb)
    assert.ok(await findRecord(pb, 'users', guest.record.id), 'the cleanup deleted a guest with an OAuth2 identity')
    assert.ok(report.skipped >= 1, `the guest should count as skipped: ${JSON.stringify(report)}`)
  })

  it('a full account linking an identity is left to PocketBase', async () => {
    const account = await createFullUser(pb)
    const token = await passwordToken(pb, account.email, account.password)
    const before = stored(pb, account.id)
    const linked = await signInWithOidc(pb, oidc, { sub: `sub-${uid()}` }, token)
    assert.equal(linked.record.id, account.id, 'PocketBase links to the signed-in account')
    const after = stored(pb, account.id)
    assert.equal(after!.password, before!.password, "an account's password hash changed")
    assert.equal(externalAuths(pb, account.id).length, 1, 'the identity was not linked')
  })
})
