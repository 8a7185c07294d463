// OAuth2 sign-up while a guest is signed in, the way pocketpages-plugin-auth does it (issue 17,
// item 2b): the app calls PocketBase's auth-with-oauth2 without the guest's token (a new identity
// gets a new record), then signIn({ token }). The guest becomes that account in place (same id,
// the identity and the email moved to it, the fresh record gone); an identity whose account
// already holds data gets the guest merged into it, as before. Both plugin orders, fake OIDC.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { isGuestPasswordHash } from '../../src/core/guest-identity.ts'
import { enableOidc, type FakeOidc, signInWithOidc, startFakeOidc } from '../support/fake-oidc.ts'
import { decodeAuthCookie, signInAsGuest } from '../support/guest.ts'
import { getSetCookie, postForm } from '../support/http.ts'
import { findRecord, listRecords, uid, uniqueEmail } from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { sqlite } from '../support/sqlite.ts'

const AUTH = "'pocketpages-plugin-auth'"

function pagesConfig(authFirst: boolean): string {
  const anonymous = JSON.stringify({
    name: 'pocketpages-plugin-anonymous',
    collection: 'users',
    upgrade: { sendVerificationEmail: false },
  })
  const plugins = authFirst ? [AUTH, anonymous] : [anonymous, AUTH]
  return `module.exports = { plugins: ['pocketpages-plugin-ejs', ${plugins.join(', ')}] }\n`
}

/** The OAuth2 callback's last step, as the auth plugin's signInWithOAuth2 ends: signIn(authData). */
const CALLBACK_PAGE = `<script server>
  let error = ''
  if (request.method === 'POST') {
    try {
      signIn({ token: String(body().token || '') })
    } catch (e) {
      error = e.message
    }
  }
</script><p id="who"><%= request.auth ? request.auth.id : '' %></p><p id="error"><%= error %></p>
`

const ORDERS = [
  { name: 'auth plugin first', authFirst: true },
  { name: 'anonymous plugin first (the demo)', authFirst: false },
]

async function addNote(pb: PocketBaseServer, cookie: string, text: string): Promise<void> {
  const res = await postForm(`${pb.url}/notes`, { text }, { cookie })
  assert.equal(res.status, 302, `POST /notes: ${res.status}`)
}

async function finishSignIn(pb: PocketBaseServer, cookie: string, token: string) {
  const res = await postForm(`${pb.url}/oauth2-done`, { token }, { cookie })
  const html = await res.text()
  assert.equal(/<p id="error">([^<]*)<\/p>/.exec(html)?.[1] ?? '', '', 'signIn() failed')
  const session = getSetCookie(res, 'pb_auth')
  assert.ok(session, 'signIn() set no session cookie')
  return { who: /<p id="who">([^<]*)<\/p>/.exec(html)?.[1] ?? '', session: decodeAuthCookie(session.value) }
}

for (const order of ORDERS) {
  describe(`OAuth2 sign-up holding a guest, ${order.name}`, () => {
    let pb: PocketBaseServer
    let oidc: FakeOidc

    before(async () => {
      oidc = await startFakeOidc()
      pb = await startPocketBase({
        hooksOverlay: { 'pages/+config.js': pagesConfig(order.authFirst), 'pages/oauth2-done.ejs': CALLBACK_PAGE },
      })
      await enableOidc(pb, oidc)
    })
    after(async () => {
      await pb?.stop()
      await oidc?.stop()
    })

    it('a new identity: the guest becomes the account, same id, its notes in place', async () => {
      const guest = await signInAsGuest(pb)
      await addNote(pb, guest.cookie, 'made as a guest')
      const email = uniqueEmail('signup')
      const sub = `sub-${uid()}`
      const signUp = await signInWithOidc(pb, oidc, { sub, email })
      assert.equal(signUp.isNew, true, 'fixture: PocketBase should create a new record')
      assert.notEqual(signUp.record.id, guest.record.id, 'fixture: a new record')

      const done = await finishSignIn(pb, guest.cookie, signUp.token)
      assert.equal(done.who, guest.record.id, 'the request is signed in as the guest id')
      assert.equal(done.session.record.id, guest.record.id, 'the cookie carries the guest id')
      assert.equal(await findRecord(pb, 'users', signUp.record.id), null, 'the fresh empty record must be gone')
      const [row] = sqlite<{ anonymous: number; password: string; email: string; verified: number }>(
        pb.dataDir,
        `SELECT anonymous, password, email, verified FROM users WHERE id = '${guest.record.id}'`,
      )
      assert.ok(row, 'the guest record is gone')
      assert.equal(row.anonymous, 0, 'still flagged as a guest')
      assert.ok(!isGuestPasswordHash(row.password), 'still the guest marker')
      assert.equal(row.email, email, "the provider's email did not move")
      assert.equal(row.verified, 1, 'not verified')
      const notes = await listRecords(pb, 'notes', `owner = "${guest.record.id}"`)
      assert.deepEqual(
        notes.map((n) => n.text),
        ['made as a guest'],
        'the notes must stay with the id',
      )
      // The identity now leads to the guest id, with no guest token at all.
      const again = await signInWithOidc(pb, oidc, { sub, email })
      assert.equal(again.record.id, guest.record.id, 'the identity was not moved to the guest id')
    })

    it('an identity whose account holds data: the guest is merged into it, as before', async () => {
      const sub = `sub-${uid()}`
      const first = await signInWithOidc(pb, oidc, { sub, email: uniqueEmail('existing') })
      await pb.apiJson('/api/collections/notes/records', {
        method: 'POST',
        body: { owner: first.record.id, text: 'account note' },
      })
      const guest = await signInAsGuest(pb)
      await addNote(pb, guest.cookie, 'guest note')
      const again = await signInWithOidc(pb, oidc, { sub })
      const done = await finishSignIn(pb, guest.cookie, again.token)
      assert.equal(done.who, first.record.id, 'signed in as the existing account')
      assert.equal(await findRecord(pb, 'users', guest.record.id), null, 'the guest was not merged away')
      const notes = (await listRecords(pb, 'notes', `owner = "${first.record.id}"`)).map((n) => n.text).sort()
      assert.deepEqual(notes, ['account note', 'guest note'], "the guest's notes did not follow")
    })
  })
}
