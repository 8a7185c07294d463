// Upgrading a guest into a full account end to end (issue 3): the demo's POST /upgrade against a
// real PocketBase. The record keeps its id (so its data stays its own), gets a new token (the
// guest's tokens stop working) and a usable password; every failure leaves the guest as it was.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { authRefresh, type GuestSession, signInAsGuest } from '../support/guest.ts'
import { isDeletion } from '../support/http.ts'
import {
  authWithPassword,
  createFullUser,
  createOwnedCollection,
  createRecord,
  getRecord,
  postUpgrade,
  rawUser,
  type SmtpSink,
  sessionFrom,
  startSmtpSink,
  uniqueEmail,
  viewHome,
} from '../support/lifecycle.ts'
import { logsContaining } from '../support/logs.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

const PASSWORD = 'correct horse battery'

/** Asserts the guest is exactly as it was before a refused upgrade. */
async function assertGuestIntact(pb: PocketBaseServer, guest: GuestSession, what: string): Promise<void> {
  const record = await getRecord(pb, 'users', guest.record.id)
  assert.equal(record.anonymous, true, `${what}: the guest lost its anonymous flag`)
  assert.equal(record.email, guest.record.email, `${what}: the guest's email changed`)
  assert.equal(record.verified, false, `${what}: verified changed`)
  const home = await viewHome(pb, guest.cookie)
  assert.equal(home.id, guest.record.id, `${what}: the guest's cookie no longer signs in`)
  assert.equal(home.anonymous, 'yes', `${what}: / no longer shows a guest`)
  assert.equal((await authRefresh(pb, 'users', guest.token)).status, 200, `${what}: the guest's token stopped working`)
}

describe('upgrading a guest through POST /upgrade', () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
    await createOwnedCollection(pb, 'memos')
  })
  after(() => pb?.stop())

  describe('a successful upgrade', () => {
    let guest: GuestSession
    let note: { id: string }
    const email = uniqueEmail('upgraded')
    let upgraded: ReturnType<typeof sessionFrom>

    before(async () => {
      guest = await signInAsGuest(pb)
      note = await createRecord(pb, 'memos', { owner: guest.record.id, title: 'made as a guest' })
      const result = await postUpgrade(pb, guest.cookie, { email, password: PASSWORD, passwordConfirm: PASSWORD })
      upgraded = sessionFrom(result, 'POST /upgrade')
    })

    it('keeps the record id, so related records stay the same owner', async () => {
      assert.equal(upgraded.record.id, guest.record.id, 'the upgraded account got another id')
      const stored = await getRecord(pb, 'memos', note.id)
      assert.equal(stored.owner, guest.record.id, "the guest's note changed owner")
      const users = await pb.apiJson<{ totalItems: number }>(
        `/api/collections/users/records?filter=${encodeURIComponent(`email = "${email}"`)}`,
      )
      assert.equal(users.totalItems, 1, 'exactly one account must have the new email')
    })

    it('stores the email, clears the anonymous flag and leaves verified false', async () => {
      const record = await getRecord(pb, 'users', guest.record.id)
      assert.equal(record.email, email)
      assert.equal(record.anonymous, false)
      assert.equal(record.verified, false, 'an upgrade does not verify the email')
      assert.deepEqual(
        { email: upgraded.record.email, anonymous: upgraded.record.anonymous, verified: upgraded.record.verified },
        { email, anonymous: false, verified: false },
        "the cookie's record copy is out of date",
      )
    })

    it('issues a new token and rejects the old one', async () => {
      assert.notEqual(upgraded.token, guest.token, 'the upgrade re-used the guest token')
      const oldRefresh = await authRefresh(pb, 'users', guest.token)
      assert.ok(
        [401, 403].includes(oldRefresh.status),
        `the guest's old token still works after the upgrade (HTTP ${oldRefresh.status})`,
      )
      assert.equal(
        (await authRefresh(pb, 'users', upgraded.token)).status,
        200,
        'the new token is not accepted by PocketBase',
      )
    })

    it('signs the new cookie in on / as the same id, no longer anonymous', async () => {
      const home = await viewHome(pb, upgraded.cookie)
      assert.equal(home.status, 200)
      assert.equal(home.id, guest.record.id)
      assert.equal(home.email, email)
      assert.equal(home.anonymous, 'no')
    })

    it('signs the old guest cookie out on / (and clears it)', async () => {
      const home = await viewHome(pb, guest.cookie)
      assert.ok(home.signedOut, `the old guest cookie still signs in: ${home.id}`)
      assert.ok(home.setCookie && isDeletion(home.setCookie), 'the dead cookie was not cleared')
    })

    it("lets the account sign in with PocketBase's password auth", async () => {
      const res = await authWithPassword(pb, email, PASSWORD)
      const text = await res.text()
      assert.equal(res.status, 200, `auth-with-password failed after the upgrade: ${text}`)
      assert.equal((JSON.parse(text) as { record: { id: string } }).record.id, guest.record.id)
      assert.equal((await authWithPassword(pb, email, `${PASSWORD}x`)).status, 400, 'a wrong password was accepted')
    })

    it('refuses a second upgrade of the now full account (403) and changes nothing', async () => {
      const before = rawUser(pb.dataDir, guest.record.id)
      const again = await postUpgrade(pb, upgraded.cookie, {
        email: uniqueEmail('again'),
        password: PASSWORD,
        passwordConfirm: PASSWORD,
      })
      assert.equal(again.status, 403, `a full account was upgraded again: ${again.status} ${again.error}`)
      assert.match(again.error ?? '', /only a guest/i)
      assert.equal(again.setCookie, undefined, 'a refused upgrade must not touch the cookie')
      assert.deepEqual(rawUser(pb.dataDir, guest.record.id), before, 'the account changed')
      assert.equal((await viewHome(pb, upgraded.cookie)).id, guest.record.id, 'the account was signed out')
    })
  })

  describe('a refused upgrade leaves the guest intact', () => {
    let takenEmail: string

    before(async () => {
      takenEmail = (await createFullUser(pb)).email
    })

    // `field`: where the demo shows the reason, in its words (PocketBase's "Must be at least 8
    // character(s)" becomes "Use at least 8 characters."); `message`: the line in <mark id="error">.
    const cases: {
      name: string
      fields: () => { email: string; password: string; passwordConfirm: string }
      status: number
      message: RegExp
      field: [string, RegExp]
    }[] = [
      {
        name: 'an email another account has',
        fields: () => ({ email: takenEmail, password: PASSWORD, passwordConfirm: PASSWORD }),
        status: 409,
        message: /already used by another account/i,
        field: ['email', /Already used by another account\. Sign in to it .* or use another email\./],
      },
      {
        name: 'a password shorter than 8 characters',
        fields: () => ({ email: uniqueEmail('short'), password: 'short1', passwordConfirm: 'short1' }),
        status: 400,
        message: /check the fields/,
        field: ['password', /^Use at least 8 characters\.$/],
      },
      {
        name: 'a password longer than bcrypt takes (72 bytes)',
        fields: () => ({ email: uniqueEmail('long'), password: 'p'.repeat(100), passwordConfirm: 'p'.repeat(100) }),
        status: 400,
        message: /check the fields/,
        field: ['password', /^Use at most 72 (bytes|characters)/],
      },
      {
        name: 'a passwordConfirm that does not match',
        fields: () => ({ email: uniqueEmail('mismatch'), password: PASSWORD, passwordConfirm: `${PASSWORD}!` }),
        status: 400,
        message: /check the fields/,
        field: ['passwordConfirm', /^The passwords do not match\.$/],
      },
      {
        name: 'a malformed email',
        fields: () => ({ email: 'not-an-email', password: PASSWORD, passwordConfirm: PASSWORD }),
        status: 400,
        message: /check the fields/,
        field: ['email', /^Enter an email address like name@example\.com\.$/],
      },
      {
        name: 'an empty form',
        fields: () => ({ email: '', password: '', passwordConfirm: '' }),
        status: 400,
        message: /check the fields/,
        field: ['email', /^Enter an email address\.$/],
      },
    ]

    for (const c of cases) {
      it(`refuses ${c.name} with ${c.status}, the reason next to its field`, async () => {
        const guest = await signInAsGuest(pb)
        const sent = c.fields()
        const result = await postUpgrade(pb, guest.cookie, sent)
        assert.equal(
          result.status,
          c.status,
          `expected ${c.status}, got ${result.status} (${result.error ?? result.html.slice(0, 300)})`,
        )
        assert.ok(result.error, 'the page shows no error message')
        assert.match(result.error, c.message)
        const [name, text] = c.field
        assert.match(result.fieldErrors[name] ?? '', text, `next to ${name}: ${JSON.stringify(result.fieldErrors)}`)
        assert.doesNotMatch(result.html, /character\(s\)|\b(email|password|passwordConfirm): /, "PocketBase's raw text")
        if (sent.email) assert.ok(result.html.includes(`value="${sent.email}"`), 'the email typed is not kept')
        assert.match(result.html, /<form method="post" action="\/upgrade">/, 'the form is not shown again')
        assert.equal(result.setCookie, undefined, 'a refused upgrade must not touch the cookie')
        await assertGuestIntact(pb, guest, c.name)
      })
    }

    it('refuses a form posted from another site (403)', async () => {
      const guest = await signInAsGuest(pb)
      const result = await postUpgrade(
        pb,
        guest.cookie,
        { email: uniqueEmail('csrf'), password: PASSWORD, passwordConfirm: PASSWORD },
        { origin: 'https://evil.example' },
      )
      assert.equal(result.status, 403, `a cross-site upgrade was not refused: ${result.status} ${result.error}`)
      assert.match(result.error ?? '', /another site/i)
      assert.equal(result.setCookie, undefined)
      await assertGuestIntact(pb, guest, 'cross-site post')
    })

    it('still upgrades the same guest after refusals', async () => {
      const guest = await signInAsGuest(pb)
      for (const fields of [
        { email: takenEmail, password: PASSWORD, passwordConfirm: PASSWORD },
        { email: uniqueEmail('short'), password: 'short1', passwordConfirm: 'short1' },
      ]) {
        assert.ok((await postUpgrade(pb, guest.cookie, fields)).status >= 400, 'a bad upgrade was accepted')
      }
      const email = uniqueEmail('late')
      const session = sessionFrom(
        await postUpgrade(pb, guest.cookie, { email, password: PASSWORD, passwordConfirm: PASSWORD }),
        'upgrade after refusals',
      )
      assert.equal(session.record.id, guest.record.id)
      assert.equal((await getRecord(pb, 'users', guest.record.id)).email, email)
    })
  })

  it('refuses a signed-out request (401)', async () => {
    const result = await postUpgrade(pb, undefined, {
      email: uniqueEmail('nobody'),
      password: PASSWORD,
      passwordConfirm: PASSWORD,
    })
    assert.equal(result.status, 401, `expected 401, got ${result.status}: ${result.error}`)
    assert.match(result.error ?? '', /sign in as a guest/i)
    assert.equal(result.setCookie, undefined, 'a refused upgrade must not set a cookie')
  })

  it('refuses a full account created through the API and signed in by cookie (403)', async () => {
    const user = await createFullUser(pb)
    const login = await authWithPassword(pb, user.email, user.password)
    const { token } = (await login.json()) as { token: string }
    const cookie = `pb_auth=${encodeURIComponent(JSON.stringify({ token, record: {} }))}`
    assert.equal((await viewHome(pb, cookie)).id, user.id, 'the cookie with a password token does not sign in')
    const result = await postUpgrade(pb, cookie, {
      email: uniqueEmail('other'),
      password: PASSWORD,
      passwordConfirm: PASSWORD,
    })
    assert.equal(result.status, 403)
    assert.match(result.error ?? '', /only a guest/i)
    assert.equal((await getRecord(pb, 'users', user.id)).email, user.email)
  })

  it('upgrades a guest only once when two upgrades race', async () => {
    const guest = await signInAsGuest(pb)
    const emails = [uniqueEmail('race-a'), uniqueEmail('race-b')]
    const results = await Promise.all(
      emails.map((email) => postUpgrade(pb, guest.cookie, { email, password: PASSWORD, passwordConfirm: PASSWORD })),
    )
    const winners = results.filter((r) => r.status === 302)
    assert.equal(
      winners.length,
      1,
      `expected exactly one upgrade to succeed, got statuses ${results.map((r) => r.status)}`,
    )
    const loser = results.find((r) => r.status !== 302)!
    // The loser saw the session changed under it (409 SESSION_ENDED) or, if it started after the
    // commit, the rotated token key (signed out: 401).
    assert.ok([401, 409].includes(loser.status), `the losing upgrade answered ${loser.status}: ${loser.error}`)
    const winnerEmail = emails[results.indexOf(winners[0]!)]!
    const record = await getRecord(pb, 'users', guest.record.id)
    assert.equal(record.email, winnerEmail, "the stored email is not the winner's")
    assert.equal(record.anonymous, false)
  })
})

describe('upgrading with upgrade.sendVerificationEmail: true', () => {
  let pb: PocketBaseServer
  let sink: SmtpSink

  before(async () => {
    sink = await startSmtpSink()
    pb = await startPocketBase({
      hooksOverlay: {
        'pages/+config.js': `module.exports = {
          plugins: [
            'pocketpages-plugin-ejs',
            { name: 'pocketpages-plugin-anonymous', rateLimit: { perNetwork: 1000 }, upgrade: { sendVerificationEmail: true } },
          ],
        }`,
      },
    })
  })
  after(async () => {
    await pb?.stop()
    await sink?.close()
  })

  const useSmtpPort = (port: number) =>
    pb.apiJson('/api/settings', {
      method: 'PATCH',
      body: {
        meta: { senderAddress: 'noreply@example.com' },
        smtp: { enabled: true, host: '127.0.0.1', port, tls: false },
      },
    })

  it("sends PocketBase's verification email to the new address; the account stays unverified", async () => {
    await useSmtpPort(sink.port)
    const guest = await signInAsGuest(pb)
    const email = uniqueEmail('verify')
    sessionFrom(
      await postUpgrade(pb, guest.cookie, { email, password: PASSWORD, passwordConfirm: PASSWORD }),
      'upgrade',
    )
    const mail = await sink.waitFor(email)
    assert.match(mail.data, /^Subject:.*verif/im, `not a verification mail:\n${mail.data.slice(0, 800)}`)
    assert.equal(sink.mails.filter((m) => m.to.includes(email)).length, 1, 'more than one mail was sent')
    assert.ok(
      !sink.mails.some((m) => m.to.includes(guest.record.email)),
      'a mail went to the guest placeholder address',
    )
    assert.equal((await getRecord(pb, 'users', guest.record.id)).verified, false)
  })

  it('keeps the upgrade when the mail cannot be sent, and logs a warning', async () => {
    const closed = await startSmtpSink()
    await closed.close() // a port nobody listens on
    await useSmtpPort(closed.port)
    const guest = await signInAsGuest(pb)
    const email = uniqueEmail('nomail')
    const session = sessionFrom(
      await postUpgrade(pb, guest.cookie, { email, password: PASSWORD, passwordConfirm: PASSWORD }),
      'upgrade without SMTP',
    )
    assert.equal(session.record.id, guest.record.id)
    const record = await getRecord(pb, 'users', guest.record.id)
    assert.equal(record.email, email)
    assert.equal(record.anonymous, false)
    const entries = await logsContaining(pb, 'sending the verification email failed')
    assert.ok(
      entries.some((e) => e.data.recordId === guest.record.id),
      `no warning names the account: ${JSON.stringify(entries)}`,
    )
  })
})
