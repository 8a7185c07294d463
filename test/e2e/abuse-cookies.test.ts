// Abuse: hostile pb_auth cookies (issue 4). Whatever a client puts in the cookie, a page renders
// signed out with 200 (never 5xx) and the cookie is cleared; only a verified auth token of the
// configured collection signs in, and only as the token's own record.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { attempt, countRows, epoch, forgeJwt, type Outcome, report, tally } from '../support/abuse.ts'
import { authRefresh, encodeAuthCookie, field, type GuestSession, getPage, signInAsGuest } from '../support/guest.ts'
import { getSetCookie, isDeletion, postForm } from '../support/http.ts'
import { flushedLogs } from '../support/logs.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { signingKey, type TokenKind } from '../support/sqlite.ts'

describe('hostile pb_auth cookies', () => {
  let pb: PocketBaseServer
  let a: GuestSession
  let b: GuestSession
  let deleted: GuestSession
  let forTypedTokens: GuestSession
  let staffToken: string
  let staffRecord: { id: string; collectionId: string }
  const cases: [string, string][] = []

  /** Claims PocketBase puts in a token of `type` for `guest`. */
  const claims = (guest: GuestSession, type: string, extra: Record<string, unknown> = {}) => ({
    id: guest.record.id,
    collectionId: guest.record.collectionId,
    type,
    exp: epoch(3600),
    ...extra,
  })
  const key = (guest: GuestSession, kind: TokenKind) => signingKey(pb.dataDir, 'users', guest.record.id, kind)
  const cookieOf = (token: unknown, guest?: GuestSession) => `pb_auth=${encodeAuthCookie(token, guest?.record ?? {})}`

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
    ;[a, b, deleted, forTypedTokens] = [
      await signInAsGuest(pb),
      await signInAsGuest(pb),
      await signInAsGuest(pb),
      await signInAsGuest(pb),
    ]

    // An auth collection the plugin is not configured for, with a real account and token.
    await pb.apiJson('/api/collections', { body: { name: 'staff', type: 'auth', fields: [] } })
    const password = 'staff-password-123'
    await pb.apiJson('/api/collections/staff/records', {
      body: { email: 'clerk@example.org', password, passwordConfirm: password },
    })
    const auth = await fetch(`${pb.url}/api/collections/staff/auth-with-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity: 'clerk@example.org', password }),
    })
    assert.equal(auth.status, 200)
    const authBody = (await auth.json()) as { token: string; record: { id: string; collectionId: string } }
    staffToken = authBody.token
    staffRecord = authBody.record

    await pb.apiJson(`/api/collections/users/records/${deleted.record.id}`, { method: 'DELETE' })

    const authKey = key(a, 'authToken')
    const t = forTypedTokens
    cases.push(
      ['empty value', 'pb_auth='],
      ['not URL-encoded (%E0%A4%A)', 'pb_auth=%E0%A4%A'],
      ['not JSON', 'pb_auth=hello-world'],
      ['JSON that is not an object', `pb_auth=${encodeURIComponent('"just a string"')}`],
      ['JSON without token', `pb_auth=${encodeURIComponent(JSON.stringify({ record: a.record }))}`],
      ['token not a string', cookieOf({ token: a.token }, a)],
      ['token not a JWT', cookieOf('definitely-not-a-jwt', a)],
      ['JWT with garbage segments', cookieOf('e30.e30.', a)],
      ['bad signature (wrong key)', cookieOf(forgeJwt(claims(a, 'auth', { refreshable: true }), 'wrong-key'), a)],
      [
        'expired (right key, exp in the past)',
        cookieOf(forgeJwt(claims(a, 'auth', { refreshable: true, exp: epoch(-60) }), authKey), a),
      ],
      ['alg: none', cookieOf(forgeJwt(claims(a, 'auth', { refreshable: true }), '', { alg: 'none', typ: 'JWT' }), a)],
      [
        'alg: HS512 with the right key',
        cookieOf(forgeJwt(claims(a, 'auth', { refreshable: true }), authKey, { alg: 'HS512', typ: 'JWT' }), a),
      ],
      ['file token (right file key)', cookieOf(forgeJwt(claims(t, 'file'), key(t, 'fileToken')), t)],
      [
        'verification token (right verification key)',
        cookieOf(forgeJwt(claims(t, 'verification', { email: t.record.email }), key(t, 'verificationToken')), t),
      ],
      [
        'passwordReset token (right passwordReset key)',
        cookieOf(forgeJwt(claims(t, 'passwordReset', { email: t.record.email }), key(t, 'passwordResetToken')), t),
      ],
      [
        'emailChange token (right emailChange key)',
        cookieOf(
          forgeJwt(
            claims(t, 'emailChange', { email: t.record.email, newEmail: 'x@example.org' }),
            key(t, 'emailChangeToken'),
          ),
          t,
        ),
      ],
      [
        'type "auth" signed with the file key',
        cookieOf(forgeJwt(claims(t, 'auth', { refreshable: true }), key(t, 'fileToken')), t),
      ],
      ['token of a deleted user', deleted.cookie],
      ['valid token of another auth collection (staff)', cookieOf(staffToken, undefined)],
      [
        "token claiming users' collectionId for a staff record (staff key)",
        cookieOf(
          forgeJwt(
            { id: staffRecord.id, collectionId: a.record.collectionId, type: 'auth', exp: epoch(3600) },
            signingKey(pb.dataDir, 'staff', staffRecord.id, 'authToken'),
          ),
        ),
      ],
      [
        'oversized (5000 chars, valid token inside)',
        `pb_auth=${encodeAuthCookie(a.token, { ...a.record, pad: 'x'.repeat(5000 - encodeAuthCookie(a.token, a.record).length) })}`,
      ],
      ['two pb_auth cookies, both valid', `${a.cookie}; ${b.cookie}`],
      ['two pb_auth cookies, valid then garbage', `${a.cookie}; pb_auth=garbage`],
    )
  })
  after(() => pb?.stop())

  it('renders every hostile cookie signed out, with 200, and clears it', async () => {
    assert.ok(cases.length >= 20, `only ${cases.length} hostile cookies: the table lost cases`)
    const usersBefore = countRows(pb, 'users')
    const pageOutcomes: Outcome[] = []
    const failures: string[] = []
    for (const [name, cookie] of cases) {
      const outcome = await attempt(() => getPage(pb, '/', cookie))
      pageOutcomes.push(outcome)
      if (outcome.kind !== 'response') {
        failures.push(`${name}: connection error ${outcome.error}`)
        continue
      }
      if (outcome.status !== 200) failures.push(`${name}: status ${outcome.status}`)
      if (!/id="signed-out"/.test(outcome.body))
        failures.push(`${name}: not signed out (user-id ${field(outcome.body, 'user-id')})`)
      const cleared = outcome.headers
        .getSetCookie()
        .filter((c) => c.startsWith('pb_auth='))
        .at(-1)
      if (!cleared || !/;\s*Max-Age=0(;|$)/i.test(cleared))
        failures.push(`${name}: cookie not cleared (${cleared ?? 'no Set-Cookie'})`)
    }
    report(
      pb,
      `hostile cookies: GET / with each of ${cases.length}`,
      tally(pageOutcomes),
      countRows(pb, 'users') - usersBefore,
    )
    assert.deepEqual(failures, [])
    assert.equal(countRows(pb, 'users'), usersBefore)
  })

  it('lets a client with a hostile cookie still sign in as a new guest', async () => {
    const outcomes: Outcome[] = []
    for (const [name, cookie] of cases) {
      const o = await attempt(() => postForm(`${pb.url}/login`, { mode: 'anonymous' }, { cookie }))
      outcomes.push(o)
      assert.equal(
        o.kind === 'response' && o.status,
        302,
        `${name}: ${o.kind === 'response' ? o.body.slice(0, 300) : o.error}`,
      )
    }
    report(pb, 'hostile cookies: POST /login with each', tally(outcomes), outcomes.length)
  })

  it('never shows the record half of the cookie: a valid token of A with record {id: B} shows A', async () => {
    const cookie = `pb_auth=${encodeAuthCookie(a.token, { ...b.record })}`
    const res = await getPage(pb, '/', cookie)
    assert.equal(res.status, 200)
    const html = await res.text()
    assert.equal(field(html, 'user-id'), a.record.id)
    // (The demo shows a guest's id, not its placeholder email.)
    assert.ok(!html.includes(b.record.id), "B's id must not appear")
    assert.ok(!html.includes(b.record.email), "B's email must not appear")
    const set = getSetCookie(res, 'pb_auth')
    assert.ok(!set || !isDeletion(set), 'a valid token must not be cleared')
  })

  it("never authenticates PocketBase's /api/ routes with the cookie, and leaves their cookies alone", async () => {
    const path = `/api/collections/users/records/${a.record.id}`
    const withCookie = await fetch(`${pb.url}${path}`, { headers: { cookie: a.cookie } })
    assert.equal(withCookie.status, 404)
    assert.equal(getSetCookie(withCookie, 'pb_auth'), undefined)
    const withHeader = await fetch(`${pb.url}${path}`, { headers: { authorization: a.token } })
    assert.equal(withHeader.status, 200)
    const hostile = await fetch(`${pb.url}/api/health`, { headers: { cookie: 'pb_auth=%E0%A4%A' } })
    assert.equal(hostile.status, 200)
    assert.equal(getSetCookie(hostile, 'pb_auth'), undefined, 'the plugin must not touch /api/ responses')
  })

  it('never made reading a cookie throw (no "could not read the session cookie" in the logs)', async () => {
    const rows = await flushedLogs(pb)
    // App-level errors (request logs of 4xx answers aside) and the plugin's own complaint.
    const appLog = rows.filter((r) => !r.rawData.includes('"type":"request"'))
    const errors = appLog.filter((r) => r.level >= 8 || /could not read the session cookie/.test(r.message))
    assert.deepEqual(
      errors.map((r) => `${r.message} ${r.rawData}`),
      [],
    )
    assert.doesNotMatch(pb.logs(), /panic|goroutine \d+/i)
  })

  it('used real tokens: PocketBase accepts the staff token, and the verification and password-reset tokens for their own purpose', async () => {
    // Run last: confirming spends the tokens (and a password reset rotates the token key).
    assert.equal((await authRefresh(pb, 'staff', staffToken)).status, 200)
    const t = forTypedTokens
    const post = (path: string, body: unknown) =>
      fetch(`${pb.url}/api/collections/users/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const verification = await post('confirm-verification', {
      token: forgeJwt(claims(t, 'verification', { email: t.record.email }), key(t, 'verificationToken')),
    })
    assert.equal(verification.status, 204, `PocketBase rejected our verification token: ${await verification.text()}`)
    const reset = forgeJwt(claims(t, 'passwordReset', { email: t.record.email }), key(t, 'passwordResetToken'))
    const resetRes = await post('confirm-password-reset', {
      token: reset,
      password: 'reset-pass-123',
      passwordConfirm: 'reset-pass-123',
    })
    assert.equal(resetRes.status, 204, `PocketBase rejected our password-reset token: ${await resetRes.text()}`)
  })
})
