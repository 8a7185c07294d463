// Attack suite, issue 8 class 2: takeover of a FULL account through its stolen session cookie.
// Before the fix the plugin believed the `anonymous` flag alone, and the flag was client-writable:
// with a full user's flag set (through the old hole, or deliberately by a superuser), whoever held
// its cookie could "upgrade" it (new email and password: the account is theirs), merge it away
// into another account, and the cleanup deleted it as an abandoned guest. Now a guest is the flag
// AND the server-written password marker: none of this touches an account with a real password.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { DAY_MS, formatPocketBaseDate } from '../../src/core/dates.ts'
import { ACCOUNT_PAGE, ACCOUNT_PAGE_FILE, postAccountPage, runCleanupRoute } from '../support/attack.ts'
import { authRefresh, markText, signInAsGuest } from '../support/guest.ts'
import { isDeletion } from '../support/http.ts'
import {
  authWithPassword,
  cookieForToken,
  createFullUser,
  type FullUser,
  findRecord,
  passwordToken,
  postPasswordLogin,
  postUpgrade,
  type RawUser,
  rawUser,
  setColumns,
  submitForm,
  uniqueEmail,
  viewHome,
} from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

const ATTACKER_PASSWORD = 'attacker-password-123'

type Flagging = 'sql' | 'superuser'

interface Victim {
  how: Flagging
  user: FullUser
  token: string
  cookie: string
  row: RawUser
}

describe('issue 8.2: a stolen cookie of a full account whose guest flag is set', () => {
  let pb: PocketBaseServer
  let attacker: FullUser

  /** The victim's row, password and token are exactly as they were. */
  async function assertVictimIntact(v: Victim, what: string): Promise<void> {
    assert.deepEqual(rawUser(pb.dataDir, v.user.id), v.row, `${what}: the victim's row changed`)
    assert.equal(
      (await authWithPassword(pb, v.user.email, v.user.password)).status,
      200,
      `${what}: the victim's password stopped working`,
    )
    assert.equal((await authRefresh(pb, 'users', v.token)).status, 200, `${what}: the victim's token was revoked`)
  }

  /** A full account with a password, its flag set one of the two ways, and its stolen cookie. */
  async function makeVictim(how: Flagging): Promise<Victim> {
    const user = await createFullUser(pb, uniqueEmail('victim'))
    if (how === 'sql') setColumns(pb.dataDir, 'users', user.id, { anonymous: 1 })
    else await pb.apiJson(`/api/collections/users/records/${user.id}`, { method: 'PATCH', body: { anonymous: true } })
    const token = await passwordToken(pb, user.email, user.password)
    const row = rawUser(pb.dataDir, user.id)!
    assert.equal(row.anonymous, 1, `${how}: the flag is not set`)
    return { how, user, token, cookie: cookieForToken(token), row }
  }

  before(async () => {
    pb = await startPocketBase({
      env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' },
      hooksOverlay: { [ACCOUNT_PAGE_FILE]: ACCOUNT_PAGE },
    })
    attacker = await createFullUser(pb, uniqueEmail('attacker'))
  })
  after(() => pb?.stop())

  const flaggings: [Flagging, string][] = [
    ['sql', 'set by SQL (the old hole)'],
    ['superuser', 'set by a superuser through the API'],
  ]
  for (const [how, label] of flaggings) {
    describe(`flag ${label}`, () => {
      it('the stolen cookie shows the account as a full account, not a guest', async () => {
        const v = await makeVictim(how)
        const home = await viewHome(pb, v.cookie)
        assert.equal(home.id, v.user.id)
        assert.equal(home.anonymous, 'no', `${label}: a full account with the flag reads as a guest`)
      })

      it('POST /upgrade with the stolen cookie: 403 NOT_ANONYMOUS; email and password unchanged', async () => {
        const v = await makeVictim(how)
        const email = uniqueEmail('taken-over')
        const result = await postUpgrade(pb, v.cookie, {
          email,
          password: ATTACKER_PASSWORD,
          passwordConfirm: ATTACKER_PASSWORD,
        })
        assert.equal(result.status, 403, `${label}: upgrade answered ${result.status}: ${result.error}`)
        assert.match(result.error ?? '', /only a guest account can be upgraded/i)
        assert.equal(result.setCookie, undefined, 'a refused upgrade must not touch the cookie')
        await assertVictimIntact(v, 'after the upgrade attempt')
        assert.equal((await authWithPassword(pb, email, ATTACKER_PASSWORD)).status, 400, "the attacker's login works")
      })

      it("mergeAnonymousUser from the victim's session into the attacker's account: 403; the victim stays", async () => {
        const v = await makeVictim(how)
        const res = await postAccountPage(pb, v.cookie, {
          email: attacker.email,
          password: attacker.password,
          how: 'merge',
        })
        const html = await res.text()
        assert.equal(res.status, 403, `${label}: merge answered ${res.status}: ${markText(html)}`)
        assert.match(markText(html) ?? '', /only a guest can be merged/i)
        await assertVictimIntact(v, 'after the merge attempt')
      })

      it("signIn() into the attacker's account from the victim's session: no merge; the victim stays", async () => {
        const v = await makeVictim(how)
        const res = await postAccountPage(pb, v.cookie, {
          email: attacker.email,
          password: attacker.password,
          how: 'signIn',
        })
        assert.ok(res.status < 500, `${label}: HTTP ${res.status}`)
        await res.body?.cancel()
        await assertVictimIntact(v, 'after signIn() from its session')
      })

      it("the demo's password form from the victim's session: never 5xx; the victim stays", async () => {
        const v = await makeVictim(how)
        const result = await postPasswordLogin(pb, v.cookie, attacker.email, attacker.password)
        assert.ok(result.status < 500, `${label}: HTTP ${result.status}: ${result.error}`)
        await assertVictimIntact(v, "after the demo's password form")
      })

      it('signing out with the stolen cookie clears it but does not end the account', async () => {
        const v = await makeVictim(how)
        const result = await submitForm(pb, '/logout', {}, { cookie: v.cookie })
        assert.equal(result.status, 302)
        assert.ok(result.setCookie && isDeletion(result.setCookie), 'the cookie was not cleared')
        // A guest's sign-out rotates its token key and dates it to 1970; a full account's must not.
        await assertVictimIntact(v, 'after sign-out')
      })
    })
  }

  it('the cleanup, with the victims inactive for 40 days, skips them (report.skipped) and deletes a real guest', async () => {
    const aged = formatPocketBaseDate(Date.now() - 40 * DAY_MS)
    const guest = await signInAsGuest(pb)
    setColumns(pb.dataDir, 'users', guest.record.id, { lastSeen: aged })
    const victims = [await makeVictim('sql'), await makeVictim('superuser')]
    for (const v of victims) {
      setColumns(pb.dataDir, 'users', v.user.id, { lastSeen: aged })
      v.row = rawUser(pb.dataDir, v.user.id)!
    }
    const report = await runCleanupRoute(pb)
    console.log(
      `[attack ${pb.version}] cleanup with 2 flagged full accounts and 1 guest aged 40 days: ${JSON.stringify(report)}`,
    )
    assert.equal(report.skipped, victims.length, 'the flagged full accounts were not counted as skipped')
    assert.equal(report.failed, 0)
    assert.equal(report.deleted, 1, 'the aged guest (the control) was not deleted')
    assert.equal(await findRecord(pb, 'users', guest.record.id), null, 'the aged guest is still there')
    for (const v of victims) await assertVictimIntact(v, 'after the cleanup')
  })

  it('a real guest cookie still upgrades (the refusals above are about the account, not the route)', async () => {
    const guest = await signInAsGuest(pb)
    const result = await postUpgrade(pb, guest.cookie, {
      email: uniqueEmail('real-guest'),
      password: ATTACKER_PASSWORD,
      passwordConfirm: ATTACKER_PASSWORD,
    })
    assert.equal(result.status, 302, `${result.status}: ${result.error}`)
  })
})
