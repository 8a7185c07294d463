// The stand-in for pocketpages-plugin-auth (src/auth-plugin) on its own: +config.js lists only
// it, so what these tests see is what an app with the upstream plugin alone sees. They pin the
// upstream behaviours the anonymous plugin has to deal with (any token type accepted, the first of
// two cookies wins, a cookie with Path=/ only, 10-digit guest emails) and the PocketBase endpoint
// semantics the stand-in reproduces in-process (messages, statuses, dummy password check).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import jwt from 'jsonwebtoken'
import { openApiSignUp } from '../support/attack.ts'
import { authRefresh, encodeAuthCookie } from '../support/guest.ts'
import { getSetCookie, postForm, type SetCookie } from '../support/http.ts'
import {
  authWithPassword,
  createFullUser,
  type FullUser,
  getRecord,
  passwordToken,
  rawUser,
  type SmtpSink,
  startSmtpSink,
  uniqueEmail,
} from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { signingKey } from '../support/sqlite.ts'

/** POST /act runs one stand-in function named by `action` and answers JSON {ok, result} or {ok: false, message, status, data}. */
const ACT_PAGE = `<script server>
  const form = body()
  const actions = {
    signInAnonymously: () => signInAnonymously(),
    createAnonymousUser: () => createAnonymousUser(),
    signInWithPassword: () => signInWithPassword(form.email, form.password),
    registerWithPassword: () => registerWithPassword(form.email, form.password),
    confirmVerification: () => confirmVerification(form.token),
    requestOTP: () => requestOTP(form.email),
    signInWithOTP: () => signInWithOTP(form.otpId, form.password),
    signOut: () => signOut(),
    signInWithoutRecord: () => signIn({ token: 'x' }),
  }
  let out
  try {
    out = { ok: true, result: actions[form.action]() ?? null }
  } catch (e) {
    out = { ok: false, message: e.message, status: e.status ?? null, data: e.response ? e.response.data : null }
  }
</script><%- JSON.stringify(out) %>`

/** GET /probe: who the request is signed in as, and which functions the page context has. */
const PROBE_PAGE = `<%- JSON.stringify({
  auth: request.auth ? request.auth.id : null,
  authToken: request.authToken || null,
  types: Object.fromEntries(['createUser', 'createAnonymousUser', 'createPaswordlessUser', 'requestVerification',
    'confirmVerification', 'requestOTP', 'registerWithPassword', 'signInWithPassword', 'signInAnonymously',
    'signInWithOTP', 'signOut', 'signIn', 'requestOAuth2Login', 'signInWithOAuth2'].map((n) => [n, typeof api[n]])),
}) %>`

interface ActResult {
  status: number
  setCookie: SetCookie | undefined
  ok: boolean
  result?: Record<string, unknown> & { token?: string; record?: Record<string, unknown> }
  message?: string
  /** The status PocketBase's API would have answered (the SDK error's `status`). */
  apiStatus?: number | null
  data?: Record<string, unknown> | null
}

describe('pocketpages-plugin-auth stand-in, alone', () => {
  let pb: PocketBaseServer
  let sink: SmtpSink
  let member: FullUser

  const act = async (action: string, fields: Record<string, string> = {}, cookie?: string): Promise<ActResult> => {
    const res = await postForm(`${pb.url}/act`, { action, ...fields }, cookie ? { cookie } : {})
    const text = await res.text()
    assert.equal(res.status, 200, `POST /act ${action}: HTTP ${res.status} ${text.slice(0, 300)}`)
    const body = JSON.parse(text) as { ok: boolean; result?: never; message?: string; status?: number; data?: never }
    return {
      status: res.status,
      setCookie: getSetCookie(res, 'pb_auth'),
      ok: body.ok,
      result: body.result,
      message: body.message,
      apiStatus: body.status,
      data: body.data,
    }
  }
  const probe = async (cookie?: string, headers: Record<string, string> = {}) => {
    const res = await pb.fetch('/probe', { headers: { ...(cookie ? { cookie } : {}), ...headers } })
    const body = (await res.json()) as { auth: string | null; authToken: string | null; types: Record<string, string> }
    return { ...body, setCookie: getSetCookie(res, 'pb_auth') }
  }
  const patchUsers = (body: Record<string, unknown>) => pb.apiJson('/api/collections/users', { method: 'PATCH', body })

  before(async () => {
    sink = await startSmtpSink()
    pb = await startPocketBase({
      hooksOverlay: {
        'pages/+config.js': `module.exports = { plugins: ['pocketpages-plugin-ejs', 'pocketpages-plugin-auth'] }`,
        'pages/act.ejs': ACT_PAGE,
        'pages/probe.ejs': PROBE_PAGE,
      },
    })
    await pb.apiJson('/api/settings', {
      method: 'PATCH',
      body: {
        meta: { senderAddress: 'noreply@example.com' },
        smtp: { enabled: true, host: '127.0.0.1', port: sink.port, tls: false },
      },
    })
    // The stand-in creates accounts through PocketBase's sign-up API, as upstream does over HTTP;
    // the demo closes that API (pb_migrations/1765000200_demo_close_api_signup.js).
    await openApiSignUp(pb)
    member = await createFullUser(pb)
  })
  after(async () => {
    await pb?.stop()
    await sink?.close()
  })

  it('adds its functions to globalApi and the page context, and no OAuth2 functions', async () => {
    const { types } = await probe()
    for (const [name, type] of Object.entries(types)) {
      assert.equal(type, name.includes('OAuth2') ? 'undefined' : 'function', name)
    }
  })

  describe('reading pb_auth (onRequest), as upstream', () => {
    let tokens: { auth: string; file: string; verification: string; other: string; forged: string }
    let other: FullUser

    before(async () => {
      other = await createFullUser(pb)
      const auth = await passwordToken(pb, member.email, member.password)
      const fileRes = await fetch(`${pb.url}/api/files/token`, { method: 'POST', headers: { authorization: auth } })
      assert.equal(fileRes.status, 200, 'could not get a file token')
      const { token: file } = (await fileRes.json()) as { token: string }
      const exp = Math.floor(Date.now() / 1000) + 3600
      const verification = jwt.sign(
        { id: member.id, type: 'verification', collectionId: member.collectionId, email: member.email, exp },
        signingKey(pb.dataDir, 'users', member.id, 'verificationToken'),
        { algorithm: 'HS256', noTimestamp: true },
      )
      const forged = jwt.sign({ id: member.id, type: 'auth', collectionId: member.collectionId, exp }, 'not-the-key', {
        algorithm: 'HS256',
        noTimestamp: true,
      })
      tokens = { auth, file, verification, forged, other: await passwordToken(pb, other.email, other.password) }
    })

    const cookie = (token: string) => `pb_auth=${encodeAuthCookie(token, { id: 'ignored' })}`
    const scenarios: {
      name: string
      cookie: () => string | undefined
      headers?: () => Record<string, string>
      expectedAuth: () => string | null
      clears: boolean
    }[] = [
      { name: 'no cookie: signed out', cookie: () => undefined, expectedAuth: () => null, clears: false },
      { name: 'an auth token', cookie: () => cookie(tokens.auth), expectedAuth: () => member.id, clears: false },
      {
        name: 'a FILE token signs in (no token type is checked)',
        cookie: () => cookie(tokens.file),
        expectedAuth: () => member.id,
        clears: false,
      },
      {
        name: 'a VERIFICATION token signs in (no token type is checked)',
        cookie: () => cookie(tokens.verification),
        expectedAuth: () => member.id,
        clears: false,
      },
      {
        name: 'two pb_auth cookies: the first one wins',
        cookie: () => `${cookie(tokens.auth)}; ${cookie(tokens.other)}`,
        expectedAuth: () => member.id,
        clears: false,
      },
      { name: 'a forged token: cleared', cookie: () => cookie(tokens.forged), expectedAuth: () => null, clears: true },
      { name: 'not JSON: cleared', cookie: () => 'pb_auth=garbage', expectedAuth: () => null, clears: true },
      { name: 'a JSON number: cleared', cookie: () => 'pb_auth=123', expectedAuth: () => null, clears: true },
      {
        name: 'an object without a token: ignored',
        cookie: () => `pb_auth=${encodeURIComponent('{"record":{}}')}`,
        expectedAuth: () => null,
        clears: false,
      },
      {
        name: 'an Authorization header wins: the cookie is not even read',
        cookie: () => 'pb_auth=garbage',
        headers: () => ({ authorization: tokens.other }),
        expectedAuth: () => other.id,
        clears: false,
      },
    ]
    for (const s of scenarios) {
      it(s.name, async () => {
        const seen = await probe(s.cookie(), s.headers?.())
        assert.equal(seen.auth, s.expectedAuth())
        if (s.clears) {
          assert.equal(seen.setCookie?.raw, 'pb_auth=; Max-Age=0; Path=/', 'not cleared the way upstream clears')
        } else {
          assert.equal(seen.setCookie, undefined, 'the cookie was touched')
        }
      })
    }
  })

  describe('signInAnonymously and createAnonymousUser, as upstream', () => {
    it('signs in a new user with a 10-digit email, created like an API sign-up, cookie with Path=/ only', async () => {
      const out = await act('signInAnonymously')
      assert.ok(out.ok, out.message)
      const record = out.result!.record!
      assert.match(String(record.email), /^anonymous-[1-9]{10}@example\.com$/)
      assert.ok(out.setCookie, 'no pb_auth cookie')
      // Only what PocketPages' response.cookie() adds by default: no HttpOnly, SameSite, Secure, expiry.
      assert.deepEqual(out.setCookie.attributes, { path: '/' })
      const value = JSON.parse(decodeURIComponent(out.setCookie.value)) as { token: string; record: { id: string } }
      assert.equal(value.token, out.result!.token)
      assert.equal(value.record.id, record.id)
      assert.equal((await authRefresh(pb, 'users', value.token)).status, 200, 'the token is not a live auth token')
      const stored = rawUser(pb.dataDir, String(record.id))!
      assert.equal(stored.verified, 0)
      assert.equal(stored.anonymous, 0, 'upstream knows nothing of the anonymous flag')
      assert.equal(sink.mails.filter((m) => m.to.includes(String(record.email))).length, 0, 'a mail was sent')
    })

    it('createAnonymousUser returns the email and a 40-digit password that signs in through the API', async () => {
      const out = await act('createAnonymousUser')
      assert.ok(out.ok, out.message)
      const { email, password, user } = out.result as { email: string; password: string; user: Record<string, unknown> }
      assert.match(email, /^anonymous-[1-9]{10}@example\.com$/)
      assert.match(password, /^[1-9]{40}$/)
      assert.equal(user.email, undefined, "the API's create answer hides the email (emailVisibility false)")
      assert.equal((await authWithPassword(pb, email, password)).status, 200)
    })

    it('fails like the API when the collection has no public create rule', async () => {
      await patchUsers({ createRule: null })
      try {
        const out = await act('signInAnonymously')
        assert.equal(out.ok, false)
        assert.equal(out.message, 'Only superusers can perform this action.')
        assert.equal(out.apiStatus, 403)
        assert.equal(out.setCookie, undefined)
      } finally {
        await patchUsers({ createRule: '' })
      }
    })
  })

  describe('signInWithPassword, as auth-with-password', () => {
    it('signs in: cookie {token, record} with the email and without hidden fields', async () => {
      const out = await act('signInWithPassword', { email: member.email, password: member.password })
      assert.ok(out.ok, out.message)
      assert.deepEqual(out.setCookie?.attributes, { path: '/' })
      const value = JSON.parse(decodeURIComponent(out.setCookie!.value)) as {
        token: string
        record: Record<string, unknown>
      }
      assert.equal(value.record.id, member.id)
      assert.equal(value.record.email, member.email, 'an auth response always shows the email')
      for (const hidden of ['password', 'tokenKey', 'lastSeen']) assert.ok(!(hidden in value.record), hidden)
      assert.equal((await authRefresh(pb, 'users', value.token)).status, 200)
      assert.equal((await probe(`pb_auth=${out.setCookie!.value}`)).auth, member.id)
    })

    const failures: { name: string; fields: () => Record<string, string>; message: string; status: number }[] = [
      {
        name: 'wrong password',
        fields: () => ({ email: member.email, password: `${member.password}-wrong` }),
        message: 'Failed to authenticate.',
        status: 400,
      },
      {
        name: 'unknown email',
        fields: () => ({ email: uniqueEmail('nobody'), password: 'whatever-123' }),
        message: 'Failed to authenticate.',
        status: 400,
      },
      {
        name: 'identity that is not an email',
        fields: () => ({ email: 'not-an-email', password: 'whatever-123' }),
        message: 'Failed to authenticate.',
        status: 400,
      },
      {
        name: 'empty password',
        fields: () => ({ email: member.email, password: '' }),
        message: 'An error occurred while validating the submitted data.',
        status: 400,
      },
    ]
    for (const f of failures) {
      it(`refuses: ${f.name}`, async () => {
        const out = await act('signInWithPassword', f.fields())
        assert.equal(out.ok, false)
        assert.equal(out.message, f.message)
        assert.equal(out.apiStatus, f.status)
        assert.equal(out.setCookie, undefined, 'a refused sign-in must not touch the cookie')
      })
    }

    it('takes comparable time for an unknown email and a wrong password (dummy password check)', async () => {
      const time = async (fields: Record<string, string>) => {
        const started = performance.now()
        const out = await act('signInWithPassword', fields)
        assert.equal(out.ok, false)
        return performance.now() - started
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
      const wrong: number[] = []
      const unknown: number[] = []
      for (let i = 0; i < 7; i++) {
        wrong.push(await time({ email: member.email, password: `wrong-${i}-password` }))
        unknown.push(await time({ email: uniqueEmail('ghost'), password: `wrong-${i}-password` }))
      }
      const ratio = median(unknown) / median(wrong)
      // Without the dummy bcrypt run an unknown email answers in a small fraction of the time.
      assert.ok(
        ratio > 0.5 && ratio < 2,
        `unknown/wrong time ratio ${ratio.toFixed(2)} (${median(unknown)} vs ${median(wrong)} ms)`,
      )
    })

    it('refuses when the collection does not allow password auth', async () => {
      await patchUsers({ passwordAuth: { enabled: false } })
      try {
        const out = await act('signInWithPassword', { email: member.email, password: member.password })
        assert.equal(out.message, 'The collection is not configured to allow password authentication.')
        assert.equal(out.apiStatus, 403)
      } finally {
        await patchUsers({ passwordAuth: { enabled: true } })
      }
    })

    it("refuses when the collection's auth rule refuses the record", async () => {
      await patchUsers({ authRule: 'verified = true' })
      try {
        const out = await act('signInWithPassword', { email: member.email, password: member.password })
        assert.equal(out.message, "The request doesn't satisfy the collection requirements to authenticate.")
        assert.equal(out.apiStatus, 403)
      } finally {
        await patchUsers({ authRule: '' })
      }
    })
  })

  describe('registerWithPassword and verification, as the create and verification endpoints', () => {
    const password = 'register-pass-123'
    let email: string

    it('creates an unverified user, signs it in and mails a verification link', async () => {
      email = uniqueEmail('register')
      const out = await act('registerWithPassword', { email, password })
      assert.ok(out.ok, out.message)
      assert.equal(out.result!.record!.email, email)
      assert.deepEqual(out.setCookie?.attributes, { path: '/' })
      const stored = await getRecord(pb, 'users', String(out.result!.record!.id))
      assert.equal(stored.verified, false)
      const mail = await sink.waitFor(email)
      assert.match(mail.data, /^Subject:.*verif/im)
    })

    it('confirmVerification with the mailed token verifies the user', async () => {
      const mail = await sink.waitFor(email)
      const token = /confirm-verification\/([A-Za-z0-9_.-]+)/.exec(quotedPrintableDecode(mail.data))?.[1]
      assert.ok(token, `no verification link in the mail:\n${mail.data.slice(0, 1500)}`)
      const out = await act('confirmVerification', { token })
      assert.ok(out.ok, out.message)
      const user = (
        await pb.apiJson<{ items: { verified: boolean }[] }>(
          `/api/collections/users/records?filter=${encodeURIComponent(`email="${email}"`)}`,
        )
      ).items[0]
      assert.equal(user?.verified, true)
      const again = await act('confirmVerification', { token: 'not-a-token' })
      assert.equal(again.message, 'Invalid or expired verification token.')
    })

    it('refuses a taken email and a short password with the API answer and its field errors', async () => {
      const taken = await act('registerWithPassword', { email: member.email, password })
      assert.equal(taken.message, 'Failed to create record.')
      assert.equal(taken.apiStatus, 400)
      assert.ok(taken.data && 'email' in taken.data, `no email error: ${JSON.stringify(taken.data)}`)
      const short = await act('registerWithPassword', { email: uniqueEmail('short'), password: 'short' })
      assert.equal(short.message, 'Failed to create record.')
      assert.ok(short.data && 'password' in short.data, `no password error: ${JSON.stringify(short.data)}`)
      assert.equal(short.setCookie, undefined)
    })
  })

  describe('requestOTP and signInWithOTP, as the OTP endpoints', () => {
    before(() => patchUsers({ otp: { enabled: true } }))
    after(() => patchUsers({ otp: { enabled: false } }))

    it('mails a code to an existing user; the code signs in once and verifies the user', async () => {
      const user = await createFullUser(pb, uniqueEmail('otp'))
      const requested = await act('requestOTP', { email: user.email })
      assert.ok(requested.ok, requested.message)
      const otpId = String(requested.result!.otpId)
      const mail = await sink.waitFor(user.email)
      const code = /\b(\d{8})\b/.exec(quotedPrintableDecode(mail.data))?.[1]
      assert.ok(code, `no 8-digit code in the mail:\n${mail.data.slice(0, 1500)}`)

      const wrong = await act('signInWithOTP', { otpId, password: code === '00000000' ? '11111111' : '00000000' })
      assert.equal(wrong.message, 'Invalid or expired OTP')
      assert.equal(wrong.apiStatus, 400)

      const out = await act('signInWithOTP', { otpId, password: code })
      assert.ok(out.ok, out.message)
      assert.equal(out.result!.record!.id, user.id)
      assert.deepEqual(out.setCookie?.attributes, { path: '/' })
      assert.equal((await getRecord(pb, 'users', user.id)).verified, true, 'the OTP proved the address')
      // PocketBase resets the password of a record verified this way (against pre-hijacking).
      assert.notEqual((await authWithPassword(pb, user.email, user.password)).status, 200)

      const reused = await act('signInWithOTP', { otpId, password: code })
      assert.equal(reused.message, 'Invalid or expired OTP', 'an OTP worked twice')
    })

    it('creates the user first when the email is unknown (upstream requestOTP)', async () => {
      const email = uniqueEmail('otp-new')
      const requested = await act('requestOTP', { email })
      assert.ok(requested.ok, requested.message)
      await sink.waitFor(email)
      const users = await pb.apiJson<{ items: unknown[] }>(
        `/api/collections/users/records?filter=${encodeURIComponent(`email="${email}"`)}`,
      )
      assert.equal(users.items.length, 1)
    })
  })

  describe('signOut and signIn', () => {
    it('signOut clears with Max-Age=0 and Path=/ only', async () => {
      const out = await act('signOut')
      assert.equal(out.setCookie?.raw, 'pb_auth=; Max-Age=0; Path=/')
    })

    it('signIn refuses auth data without a record', async () => {
      const out = await act('signInWithoutRecord')
      assert.equal(out.message, 'No auth record found')
      assert.equal(out.setCookie, undefined)
    })
  })
})

/** Decodes a quoted-printable mail body (soft line breaks and =XX escapes). */
function quotedPrintableDecode(text: string): string {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
}
