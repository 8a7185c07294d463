// Abuse: secrets in logs, sign-ins under load, and a crash in the middle of a load (issue 4).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import {
  attempt,
  countedSignIns,
  countGuests,
  epoch,
  forgeJwt,
  type Outcome,
  pool,
  report,
  tally,
} from '../support/abuse.ts'
import {
  authRefresh,
  claimsOf,
  decodeAuthCookie,
  encodeAuthCookie,
  field,
  type GuestSession,
  getPage,
  signInAsGuest,
} from '../support/guest.ts'
import { getSetCookie, postForm } from '../support/http.ts'
import { flushedLogs } from '../support/logs.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { collectionSecret, integrityCheck, recordTokenKey, sqlite } from '../support/sqlite.ts'

const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`

interface Issued {
  token: string
  id: string
  email: string
}

/** The session a successful sign-in answer carried (302 + pb_auth), or null. */
function issued(o: Outcome): Issued | null {
  if (o.kind !== 'response' || o.status !== 302) return null
  const raw = o.headers.getSetCookie().find((c) => c.startsWith('pb_auth='))
  assert.ok(raw, 'a 302 from /login without a pb_auth cookie')
  const { token, record } = decodeAuthCookie(raw.slice('pb_auth='.length).split(';')[0]!)
  return { token, id: record.id, email: record.email }
}

function signIn(pb: PocketBaseServer): Promise<Outcome> {
  return attempt(() => postForm(`${pb.url}/login`, { mode: 'anonymous' }))
}

describe('no secret reaches the logs', () => {
  let pb: PocketBaseServer

  before(async () => {
    // dev: false, as in production (in dev mode PocketBase itself prints every SQL statement).
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' }, dev: false })
  })
  after(() => pb?.stop())

  it('keeps every token, cookie value and password the test used out of stdout/stderr and the _logs table', async () => {
    const secrets = new Map<string, string>()
    const remember = (label: string, value: string) => {
      secrets.set(value, label)
      // A token's signature alone is enough to spot a (partly) logged token.
      if (/^[\w-]+\.[\w-]+\.[\w-]{20,}$/.test(value)) secrets.set(value.split('.')[2]!, `${label} (signature)`)
    }
    const rememberSession = (label: string, s: GuestSession) => {
      remember(`${label} token`, s.token)
      remember(`${label} cookie value`, s.setCookie.value)
    }

    // Sign-ins and page views with their cookies.
    const guests: GuestSession[] = []
    for (let i = 0; i < 5; i++) {
      const g = await signInAsGuest(pb)
      rememberSession(`guest ${i}`, g)
      guests.push(g)
      const html = await (await getPage(pb, '/', g.cookie)).text()
      assert.equal(field(html, 'user-id'), g.record.id)
      assert.equal((await authRefresh(pb, 'users', g.token)).status, 200)
    }

    // Hostile cookies: random garbage, a forged token, a token with a wrong key.
    const garbage = secret('garbage-cookie')
    const forgedKey = secret('forged-key')
    const forged = forgeJwt(
      { id: guests[0]!.record.id, collectionId: guests[0]!.record.collectionId, type: 'auth', exp: epoch(3600) },
      forgedKey,
    )
    remember('garbage cookie', garbage)
    remember('forged token', forged)
    remember('forging key', forgedKey)
    for (const cookie of [
      `pb_auth=${garbage}`,
      `pb_auth=${encodeAuthCookie(forged, guests[0]!.record)}`,
      `${guests[1]!.cookie}; ${guests[2]!.cookie}`,
    ]) {
      const res = await getPage(pb, '/', cookie)
      assert.equal(res.status, 200)
      assert.match(await res.text(), /id="signed-out"/)
    }

    // A failed upgrade (mismatched passwords), then a real one.
    const wrong1 = secret('mismatch-a')
    const wrong2 = secret('mismatch-b')
    remember('mismatched password', wrong1)
    remember('mismatched confirmation', wrong2)
    const failed = await postForm(
      `${pb.url}/upgrade`,
      { email: 'upgraded@example.org', password: wrong1, passwordConfirm: wrong2 },
      { cookie: guests[3]!.cookie },
    )
    assert.equal(failed.status, 400)
    const failedBody = await failed.text()
    assert.ok(!failedBody.includes(wrong1) && !failedBody.includes(wrong2), 'the error page echoes a password')

    const password = secret('upgrade-password')
    remember('upgrade password', password)
    const upgraded = await postForm(
      `${pb.url}/upgrade`,
      { email: 'upgraded@example.org', password, passwordConfirm: password },
      { cookie: guests[3]!.cookie },
    )
    assert.equal(upgraded.status, 302)
    const upgradedCookie = getSetCookie(upgraded, 'pb_auth')
    assert.ok(upgradedCookie, 'the upgrade re-issues the session cookie')
    remember('upgraded cookie value', upgradedCookie.value)
    remember('upgraded token', decodeAuthCookie(upgradedCookie.value).token)

    // A wrong password on the merge form, then a merge of another guest into the upgraded account.
    const wrongPassword = secret('wrong-password')
    remember('wrong password', wrongPassword)
    const wrong = await postForm(
      `${pb.url}/login`,
      { mode: 'password', email: 'upgraded@example.org', password: wrongPassword },
      { cookie: guests[4]!.cookie },
    )
    assert.equal(wrong.status, 200)
    const merged = await postForm(
      `${pb.url}/login`,
      { mode: 'password', email: 'upgraded@example.org', password },
      { cookie: guests[4]!.cookie },
    )
    assert.equal(merged.status, 302)
    const mergedCookie = getSetCookie(merged, 'pb_auth')
    assert.ok(mergedCookie, 'the merge issues the account’s session cookie')
    remember('merged cookie value', mergedCookie.value)
    remember('merged token', decodeAuthCookie(mergedCookie.value).token)

    // Sign-out.
    const out = await postForm(`${pb.url}/logout`, {}, { cookie: `pb_auth=${mergedCookie.value}` })
    assert.equal(out.status, 302)

    // The signing material too: the collection's token secrets and the guests' token keys.
    for (const kind of [
      'authToken',
      'fileToken',
      'verificationToken',
      'passwordResetToken',
      'emailChangeToken',
    ] as const) {
      remember(`users ${kind} secret`, collectionSecret(pb.dataDir, 'users', kind))
    }
    for (const g of guests.slice(0, 3))
      remember(`token key of ${g.record.id}`, recordTokenKey(pb.dataDir, 'users', g.record.id))

    const rows = await flushedLogs(pb)
    assert.ok(rows.length > 10, `only ${rows.length} log rows: is request logging on?`)
    const table = rows.map((r) => `${r.message} ${r.rawData}`).join('\n')
    const stdout = pb.logs()
    const leaks: string[] = []
    for (const [value, label] of secrets) {
      for (const [where, text] of [
        ['stdout/stderr', stdout],
        ['_logs', table],
      ] as const) {
        if (text.includes(value) || text.includes(encodeURIComponent(value))) leaks.push(`${label} in ${where}`)
      }
    }
    console.log(
      `[abuse ${pb.version}] secrets scan: ${secrets.size} secrets, ${rows.length} _logs rows, ${stdout.length} bytes of output, leaks=${leaks.length}`,
    )
    assert.deepEqual(leaks, [])
  })
})

describe('1,000 sign-ins at concurrency 64', () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '100000' } })
  })
  after(() => pb?.stop())

  it('answers every one, each success is one record with one working token', async () => {
    const started = Date.now()
    const outcomes = await pool(1000, 64, () => signIn(pb))
    const seconds = (Date.now() - started) / 1000
    const t = tally(outcomes)
    const records = sqlite<{ id: string; email: string; collectionId: string }>(
      pb.dataDir,
      "SELECT u.id, u.email, c.id AS collectionId FROM users u, _collections c WHERE c.name = 'users' AND u.anonymous = 1",
    )
    report(pb, 'load: 1000 sign-ins, concurrency 64', t, records.length, `(${(1000 / seconds).toFixed(0)} sign-ins/s)`)

    assert.equal(t.s5xx, 0)
    assert.deepEqual(t.errors, {})
    assert.equal(t.s302, 1000, `non-302 answers: ${JSON.stringify(t.other)}`)
    const sessions = outcomes.map(issued).filter((s): s is Issued => s !== null)
    assert.equal(records.length, sessions.length, 'records == successes')
    assert.equal(countedSignIns(pb), records.length, 'one sign-in log row per record')

    const byId = new Map(records.map((r) => [r.id, r]))
    assert.equal(new Set(records.map((r) => r.email.toLowerCase())).size, records.length, 'duplicate emails')
    assert.equal(new Set(sessions.map((s) => s.id)).size, sessions.length, 'two sessions for one record')
    for (const s of sessions) {
      const claims = claimsOf(s.token)
      const record = byId.get(String(claims.id))
      assert.ok(record, `token for ${claims.id}: no such guest`)
      assert.equal(claims.type, 'auth')
      assert.equal(claims.collectionId, record.collectionId)
      assert.equal(s.id, claims.id, 'the cookie record and the token disagree')
      assert.equal(s.email, record.email)
    }
    const sample = sessions.filter((_, i) => i % Math.ceil(sessions.length / 50) === 0).slice(0, 50)
    assert.equal(sample.length, 50)
    for (const s of sample) {
      const res = await authRefresh(pb, 'users', s.token)
      assert.equal(res.status, 200)
      assert.equal(((await res.json()) as { record: { id: string } }).record.id, s.id)
    }
  })
})

describe('kill -9 in the middle of a 1,000-sign-in load', () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '100000' } })
  })
  after(() => pb?.stop())

  it('keeps the database intact and every token handed out before the crash valid', async () => {
    let successes = 0
    let killed: Promise<void> | null = null
    let notSent = 0
    const outcomes = await pool(1000, 64, async () => {
      if (killed) {
        notSent++
        return null
      }
      const o = await signIn(pb)
      if (o.kind === 'response' && o.status === 302) successes++
      if (successes >= 300 && !killed) killed = pb.kill9()
      return o
    })
    assert.ok(killed, 'the load finished before 300 successes')
    await killed
    const sent = outcomes.filter((o): o is Outcome => o !== null)
    const t = tally(sent)
    const sessions = sent.map(issued).filter((s): s is Issued => s !== null)
    const connectionErrors = Object.values(t.errors).reduce((a, b) => a + b, 0)

    await pb.restart()
    const integrity = integrityCheck(pb.dataDir)
    const records = countGuests(pb)
    const logRows = countedSignIns(pb)
    report(
      pb,
      'crash: kill -9 after ~300 of 1000 sign-ins',
      t,
      records,
      `notSent=${notSent} inFlightFailed=${connectionErrors} integrity=${integrity} signInLogRows=${logRows}`,
    )

    assert.equal(t.s5xx, 0, 'no 5xx: requests in flight at the kill may only fail to connect')
    assert.deepEqual(t.other, {})
    assert.equal(t.s302 + connectionErrors, sent.length)
    assert.equal(integrity, 'ok')
    assert.ok(records >= sessions.length, `${records} records for ${sessions.length} completed sign-ins`)
    assert.ok(records <= sessions.length + connectionErrors, 'more records than requests that could have created one')
    assert.equal(logRows, records, 'the sign-in log and the records committed together')

    const refused: string[] = []
    await pool(sessions.length, 16, async (i) => {
      const res = await authRefresh(pb, 'users', sessions[i]!.token)
      await res.body?.cancel()
      if (res.status !== 200) refused.push(`${sessions[i]!.id}: ${res.status}`)
    })
    assert.deepEqual(refused, [], 'tokens handed out before the kill must survive it')

    // And the restarted server signs guests in.
    const after = await signIn(pb)
    assert.equal(after.kind === 'response' && after.status, 302)
  })
})
