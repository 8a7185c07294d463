// Attack suite, issue 8 class 10: the plugin's own inputs. The upgrade form's fields go straight
// from the client to upgradeAnonymousUser(): an overlong email, a field sent twice (PocketBase
// then hands the page an array), a JSON body with objects where strings belong, control
// characters. Each must answer 400 with the reason next to its field (the demo's
// <small id="<field>-error">) and a line in <mark id="error">, never 5xx, and leave the guest
// exactly as it was.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { fieldErrorTexts, markText, signInAsGuest } from '../support/guest.ts'
import { getSetCookie } from '../support/http.ts'
import { rawUser, viewHome } from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

const PASSWORD = 'attack-password-123'
const FORM = 'application/x-www-form-urlencoded'

const enc = encodeURIComponent
const fields = (email: string, password = PASSWORD, confirm = password) =>
  `email=${enc(email)}&password=${enc(password)}&passwordConfirm=${enc(confirm)}`

const cases: { name: string; contentType: string; body: string; field: string; message: RegExp }[] = [
  {
    name: 'a 300-character email',
    contentType: FORM,
    body: fields(`${'a'.repeat(288)}@example.org`),
    field: 'email',
    message: /Use at most 255 characters/,
  },
  {
    name: 'a 4000-character email',
    contentType: FORM,
    body: fields(`${'b'.repeat(3988)}@example.org`),
    field: 'email',
    message: /Use at most 255 characters/,
  },
  {
    name: 'email twice (email=a&email=b)',
    contentType: FORM,
    body: `email=a%40example.org&email=b%40example.org&password=${PASSWORD}&passwordConfirm=${PASSWORD}`,
    field: 'email',
    message: /./,
  },
  {
    name: 'password twice',
    contentType: FORM,
    body: `email=c%40example.org&password=${PASSWORD}&password=other-password-1&passwordConfirm=${PASSWORD}`,
    field: 'password',
    message: /./,
  },
  {
    name: 'passwordConfirm twice',
    contentType: FORM,
    body: `email=d%40example.org&password=${PASSWORD}&passwordConfirm=${PASSWORD}&passwordConfirm=${PASSWORD}`,
    field: 'passwordConfirm',
    message: /./,
  },
  {
    name: 'JSON with an object for the email',
    contentType: 'application/json',
    body: JSON.stringify({ email: { $ne: null }, password: PASSWORD, passwordConfirm: PASSWORD }),
    field: 'email',
    message: /./,
  },
  {
    name: 'JSON with arrays everywhere',
    contentType: 'application/json',
    body: JSON.stringify({ email: ['e@example.org'], password: [PASSWORD], passwordConfirm: [PASSWORD] }),
    field: 'email',
    message: /./,
  },
  {
    name: 'an email with CR LF and a header after it',
    contentType: FORM,
    body: fields('f@example.org\r\nBcc: victim@example.org'),
    field: 'email',
    message: /./,
  },
  {
    name: 'an email with a NUL byte',
    contentType: FORM,
    body: fields('g\u0000@example.org'),
    field: 'email',
    message: /./,
  },
  {
    name: "a password of 30 emoji (120 bytes, over bcrypt's 72)",
    contentType: FORM,
    body: fields('h@example.org', '😀'.repeat(30)),
    field: 'password',
    message: /Use at most 72 bytes/,
  },
]

describe("issue 8.10: hostile input to the plugin's upgrade answers 400 with the reason", () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
  })
  after(() => pb?.stop())

  for (const c of cases) {
    it(`POST /upgrade with ${c.name}: 400, the ${c.field} field says why, the guest is unchanged`, async () => {
      const guest = await signInAsGuest(pb)
      const before = rawUser(pb.dataDir, guest.record.id)
      const res = await fetch(`${pb.url}/upgrade`, {
        method: 'POST',
        headers: { 'content-type': c.contentType, cookie: guest.cookie },
        body: c.body,
        redirect: 'manual',
      })
      const html = await res.text()
      assert.ok(res.status < 500, `HTTP ${res.status}: ${html.slice(0, 300)}`)
      assert.equal(res.status, 400, `HTTP ${res.status}: ${markText(html)}`)
      const mark = markText(html)
      assert.ok(mark, `no <mark id="error"> in ${html.slice(0, 300)}`)
      const next = fieldErrorTexts(html)[c.field]
      assert.ok(next, `no message next to ${c.field}: ${JSON.stringify(fieldErrorTexts(html))}`)
      assert.match(next, c.message, `the message next to ${c.field}`)
      assert.ok(!html.includes(PASSWORD), 'the page echoes the password')
      assert.equal(getSetCookie(res, 'pb_auth'), undefined, 'a refused upgrade touched the cookie')
      assert.deepEqual(rawUser(pb.dataDir, guest.record.id), before, 'the guest changed')
      assert.equal((await viewHome(pb, guest.cookie)).anonymous, 'yes')
    })
  }
})
