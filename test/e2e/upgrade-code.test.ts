// Upgrade by emailed code through the demo's /upgrade-code page, against real PocketBase and a
// local SMTP sink (test/support/smtp-sink.ts): the code is read from the mail PocketBase sent.
// A guest saves itself in place (same id, the address, verified, the old token dead); an address
// that has an account signs in to it with the guest merged in; wrong, foreign and replayed codes,
// cross-site posts and too many mails are refused; without a mail server the page says so.
// PocketBase's own OTP sign-in stays as the app configured it.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { pagesConfig } from '../support/attack.ts'
import { type GuestSession, markText, signInAsGuest } from '../support/guest.ts'
import {
  createFullUser,
  createRecord,
  type FormResult,
  findRecord,
  getRecord,
  listRecords,
  rawUser,
  sessionFrom,
  submitForm,
  uniqueEmail,
  viewHome,
} from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { disableSmtp, type SinkMail, type SmtpSink, startSmtpSink, useSmtpSink } from '../support/smtp-sink.ts'
import { sqlite } from '../support/sqlite.ts'

/** The code in a mail: the only run of 8 or more digits in its text. */
function codeIn(mail: SinkMail): string {
  const codes = [...new Set(mail.text.match(/\b\d{8,}\b/g) ?? [])]
  assert.equal(codes.length, 1, `expected one code in the mail:\n${mail.text.slice(0, 600)}`)
  return codes[0]!
}

/** The hidden otpId of the page's code form, or null. */
function otpIdIn(html: string): string | null {
  return /name="otpId" value="([a-z0-9]+)"/.exec(html)?.[1] ?? null
}

function askForCode(pb: PocketBaseServer, cookie: string, email: string, origin?: string): Promise<FormResult> {
  return submitForm(pb, '/upgrade-code', { step: 'email', email }, origin ? { cookie, origin } : { cookie })
}

function sendCode(pb: PocketBaseServer, cookie: string, otpId: string, code: string): Promise<FormResult> {
  return submitForm(pb, '/upgrade-code', { step: 'code', otpId, code, email: '' }, { cookie })
}

describe('upgrade by emailed code', () => {
  let pb: PocketBaseServer
  let sink: SmtpSink
  let otpSettings: unknown

  before(async () => {
    sink = await startSmtpSink()
    pb = await startPocketBase({
      hooksOverlay: {
        'pages/+config.js': pagesConfig({ rateLimit: { perNetwork: 1000 }, upgradeCode: { sendsPerNetwork: 1000 } }),
      },
    })
    await useSmtpSink(pb, sink.port)
    otpSettings = (await pb.apiJson<{ otp: unknown }>('/api/collections/users')).otp
  })
  after(async () => {
    await pb?.stop()
    await sink?.close()
  })

  /** A guest that asked for a code to `email`: the page's otpId and the code from the mail. */
  async function guestWithCode(email: string): Promise<{ guest: GuestSession; otpId: string; code: string }> {
    const guest = await signInAsGuest(pb)
    const index = sink.mailsTo(email).length
    const page = await askForCode(pb, guest.cookie, email)
    assert.equal(page.status, 200, `asking for a code: ${page.error}`)
    const otpId = otpIdIn(page.html)
    assert.ok(otpId, `no code form on the page: ${page.error ?? page.html.slice(0, 400)}`)
    const mail = await sink.waitFor(email, { index })
    return { guest, otpId, code: codeIn(mail) }
  }

  it('a guest saves itself with the code from the mail: same id, the address, verified, old token dead', async () => {
    const email = uniqueEmail('code')
    const { guest, otpId, code } = await guestWithCode(email)
    const mail = sink.mailsTo(email)[0]!
    assert.match(mail.subject, /^OTP for /, `PocketBase's OTP mail template: ${mail.subject}`)
    assert.ok(!sink.mails.some((m) => m.to.includes(guest.record.email.toLowerCase())), 'nothing to the guest address')
    const pending = rawUser(pb.dataDir, guest.record.id)!
    assert.equal(pending.anonymous, 1, 'nothing changes before the code comes back')

    const session = sessionFrom(await sendCode(pb, guest.cookie, otpId, code), 'upgrade with code')
    assert.equal(session.record.id, guest.record.id, 'same id')
    const record = await getRecord(pb, 'users', guest.record.id)
    assert.deepEqual([record.email, record.verified, record.anonymous], [email, true, false], 'saved and verified')
    assert.notEqual(rawUser(pb.dataDir, guest.record.id)!.tokenKey, pending.tokenKey, 'token key rotated')
    assert.ok((await viewHome(pb, guest.cookie)).signedOut, 'the guest cookie no longer signs in')
    const home = await viewHome(pb, session.cookie)
    assert.deepEqual([home.id, home.anonymous], [guest.record.id, 'no'], 'the new cookie is the saved account')
    assert.equal(
      (await listRecords(pb, '_otps', `recordRef = "${guest.record.id}"`)).length,
      0,
      'no code of the account is left',
    )
    const again = await sendCode(pb, session.cookie, otpId, code)
    assert.equal(again.status, 403, `a used code, replayed by the saved account: ${again.error}`)
  })

  it('stores the code only hashed, bound to the guest; the send counters hold no address', async () => {
    const email = uniqueEmail('stored')
    const { guest, otpId, code } = await guestWithCode(email)
    const [row] = sqlite<Record<string, string>>(
      pb.dataDir,
      `SELECT collectionRef, recordRef, password, sentTo FROM _otps WHERE id = '${otpId}'`,
    )
    assert.ok(row, 'a row in _otps')
    assert.equal(row.recordRef, guest.record.id, 'bound to the guest')
    assert.equal(row.sentTo, email, 'sent to the address')
    assert.match(row.password!, /^\$2a\$08\$/, 'a bcrypt hash (cost 8, PocketBase’s OTP field)')
    assert.ok(!row.password!.includes(code), 'not the code')
    const buckets = sqlite<{ bucket: string }>(pb.dataDir, 'SELECT bucket FROM pocketpages_anonymous_counters')
    assert.ok(
      buckets.some((b) => b.bucket.startsWith('code/address:')),
      `an address counter: ${buckets.map((b) => b.bucket)}`,
    )
    for (const { bucket } of buckets) {
      assert.ok(!bucket.includes(email) && !bucket.includes(email.split('@')[0]!), `plain address in ${bucket}`)
    }
  })

  it('refuses a wrong code (400) and changes nothing; the right code still works', async () => {
    const { guest, otpId, code } = await guestWithCode(uniqueEmail('wrong'))
    const wrong = code === '00000000' ? '11111111' : '00000000'
    const refused = await sendCode(pb, guest.cookie, otpId, wrong)
    assert.equal(refused.status, 400, `wrong code: ${refused.error}`)
    assert.match(String(refused.error), /not right/, 'in plain words')
    assert.equal(otpIdIn(refused.html), otpId, 'the code form stays, with its code id')
    assert.equal((await getRecord(pb, 'users', guest.record.id)).anonymous, true, 'still a guest')
    sessionFrom(await sendCode(pb, guest.cookie, otpId, code), 'the right code after a wrong one')
  })

  it("refuses another guest's code, with its right digits: 400, neither guest changes", async () => {
    const a = await guestWithCode(uniqueEmail('a'))
    const b = await guestWithCode(uniqueEmail('b'))
    const refused = await sendCode(pb, a.guest.cookie, b.otpId, b.code)
    assert.equal(refused.status, 400, `A with B's code: ${refused.error}`)
    assert.equal((await getRecord(pb, 'users', a.guest.record.id)).anonymous, true, 'A is still a guest')
    assert.equal((await getRecord(pb, 'users', b.guest.record.id)).anonymous, true, 'B is still a guest')
    sessionFrom(await sendCode(pb, b.guest.cookie, b.otpId, b.code), "B's own code")
  })

  it('two tabs sending the right code at once: exactly one wins', async () => {
    const { guest, otpId, code } = await guestWithCode(uniqueEmail('race'))
    const results = await Promise.all([1, 2, 3].map(() => sendCode(pb, guest.cookie, otpId, code)))
    const statuses = results.map((r) => r.status)
    assert.equal(statuses.filter((s) => s === 302).length, 1, `exactly one upgrade: ${statuses}`)
    for (const loser of results.filter((r) => r.status !== 302)) {
      assert.ok([400, 401, 409].includes(loser.status), `a loser answered ${loser.status}: ${loser.error}`)
    }
  })

  it('an address with an account: the code signs in to it and the guest (with its note) merges in', async () => {
    const member = await createFullUser(pb)
    const { guest, otpId, code } = await guestWithCode(member.email)
    const note = await createRecord(pb, 'notes', { owner: guest.record.id, text: 'made as a guest' })
    const session = sessionFrom(await sendCode(pb, guest.cookie, otpId, code), 'code of an existing account')
    assert.equal(session.record.id, member.id, 'signed in to the account')
    assert.equal(await findRecord(pb, 'users', guest.record.id), null, 'the guest merged away')
    assert.equal((await getRecord(pb, 'notes', note.id)).owner, member.id, 'the note moved')
  })

  it("an address whose account the collection's auth rule refuses: 403, nothing changes", async () => {
    const collection = await pb.apiJson<{ authRule: string | null }>('/api/collections/users')
    await pb.apiJson('/api/collections/users', { method: 'PATCH', body: { authRule: 'verified = true' } })
    try {
      const unverified = await createFullUser(pb)
      const refused = await guestWithCode(unverified.email)
      const page = await sendCode(pb, refused.guest.cookie, refused.otpId, refused.code)
      assert.equal(page.status, 403, `an account the auth rule refuses: ${page.error}`)
      assert.match(String(page.error), /Sign in with its password/, 'says what to do')
      assert.equal((await getRecord(pb, 'users', refused.guest.record.id)).anonymous, true, 'the guest stays')
      assert.equal((await getRecord(pb, 'users', unverified.id)).verified, false, 'the account is unchanged')

      const verified = await createFullUser(pb)
      await pb.apiJson(`/api/collections/users/records/${verified.id}`, { method: 'PATCH', body: { verified: true } })
      const allowed = await guestWithCode(verified.email)
      const session = sessionFrom(await sendCode(pb, allowed.guest.cookie, allowed.otpId, allowed.code), 'rule passes')
      assert.equal(session.record.id, verified.id, 'an account the rule lets in is signed in to')
    } finally {
      await pb.apiJson('/api/collections/users', { method: 'PATCH', body: { authRule: collection.authRule } })
    }
  })

  it('refuses a cross-site request for a code: 403, no mail', async () => {
    const guest = await signInAsGuest(pb)
    const email = uniqueEmail('csrf')
    const page = await askForCode(pb, guest.cookie, email, 'https://evil.example')
    assert.equal(page.status, 403, `cross-site: ${page.error}`)
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(sink.mailsTo(email).length, 0, 'no mail')
  })

  it('limits code mails per guest: the 4th is 429 with Retry-After, and sends nothing', async () => {
    const guest = await signInAsGuest(pb)
    for (let i = 0; i < 3; i++) {
      const page = await askForCode(pb, guest.cookie, uniqueEmail(`many${i}`))
      assert.equal(page.status, 200, `mail ${i + 1}: ${page.error}`)
    }
    const email = uniqueEmail('many3')
    const res = await fetch(`${pb.url}/upgrade-code`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: pb.url, cookie: guest.cookie },
      body: new URLSearchParams({ step: 'email', email }).toString(),
      redirect: 'manual',
    })
    const html = await res.text()
    assert.equal(res.status, 429, `4th mail: ${markText(html)}`)
    const retryAfter = Number(res.headers.get('retry-after'))
    assert.ok(retryAfter >= 1 && retryAfter <= 3600 + 60, `Retry-After ${res.headers.get('retry-after')}`)
    assert.equal(sink.mailsTo(email).length, 0, 'no 4th mail')
  })

  it("leaves PocketBase's own OTP sign-in as configured (off): its API still refuses", async () => {
    assert.deepEqual(
      (await pb.apiJson<{ otp: unknown }>('/api/collections/users')).otp,
      otpSettings,
      'the collection OTP settings did not change',
    )
    const res = await fetch(`${pb.url}/api/collections/users/request-otp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: uniqueEmail('api') }),
    })
    assert.equal(res.status, 403, `PocketBase's request-otp: ${await res.text()}`)
  })

  it('without a mail server: 503 with a plain message, no code kept, the guest unchanged', async () => {
    await disableSmtp(pb)
    try {
      const guest = await signInAsGuest(pb)
      const page = await askForCode(pb, guest.cookie, uniqueEmail('nomail'))
      assert.equal(page.status, 503, `without SMTP: ${page.error}`)
      assert.match(String(page.error), /could not send/, 'in plain words')
      assert.equal(otpIdIn(page.html), null, 'no code form')
      assert.equal((await listRecords(pb, '_otps', `recordRef = "${guest.record.id}"`)).length, 0, 'no code kept')
      assert.equal((await getRecord(pb, 'users', guest.record.id)).anonymous, true, 'still a guest')
    } finally {
      await useSmtpSink(pb, sink.port)
    }
  })
})
