// Keep-alive end to end (issue 3): a page view re-issues a token that has used more than half its
// lifetime (sliding session, for guests and full users), and records a guest's activity in the
// hidden `lastSeen` field at most once an hour. Tokens near expiry are forged with the record's
// real signing key (read with sqlite3), with the claims PocketBase itself puts in its tokens.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import jwt from 'jsonwebtoken'
import { formatPocketBaseDate, parsePocketBaseDate } from '../../src/core/dates.ts'
import { authRefresh, claimsOf, decodeAuthCookie, getPage, signInAsGuest } from '../support/guest.ts'
import { getSetCookie, isDeletion, postForm } from '../support/http.ts'
import {
  cookieForToken,
  createFullUser,
  DAY_MS,
  forgeAuthToken,
  rawUser,
  setColumns,
  uniqueEmail,
  usersTokenDuration,
  viewHome,
} from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

const PB_DATE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/

describe('keep-alive: a page view renews a token past half its life', () => {
  let pb: PocketBaseServer
  let duration: number

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
    duration = await usersTokenDuration(pb)
  })
  after(() => pb?.stop())

  /** A signed-in account of the given kind: its id, collectionId and what / should show. */
  async function account(
    kind: 'guest' | 'full user',
  ): Promise<{ id: string; collectionId: string; anonymous: string }> {
    if (kind === 'guest') {
      const guest = await signInAsGuest(pb)
      return { id: guest.record.id, collectionId: guest.record.collectionId, anonymous: 'yes' }
    }
    const user = await createFullUser(pb)
    return { id: user.id, collectionId: user.collectionId, anonymous: 'no' }
  }

  // remaining: the fraction of the lifetime the token still has.
  const cases: { kind: 'guest' | 'full user'; remaining: number; renewed: boolean }[] = [
    { kind: 'guest', remaining: 0.4, renewed: true },
    { kind: 'guest', remaining: 0.45, renewed: true },
    { kind: 'guest', remaining: 0.01, renewed: true },
    { kind: 'guest', remaining: 0.55, renewed: false },
    { kind: 'guest', remaining: 0.9, renewed: false },
    { kind: 'full user', remaining: 0.4, renewed: true },
    { kind: 'full user', remaining: 0.9, renewed: false },
  ]

  for (const c of cases) {
    const left = `${Math.round(c.remaining * 100)}% of its life left`
    const title = c.renewed ? `re-issues a ${c.kind}'s token with ${left}` : `keeps a ${c.kind}'s token with ${left}`
    it(title, async () => {
      const who = await account(c.kind)
      const nowSeconds = Date.now() / 1000
      const token = forgeAuthToken(pb.dataDir, who, nowSeconds + c.remaining * duration)
      const home = await viewHome(pb, cookieForToken(token))
      assert.equal(home.status, 200)
      assert.equal(home.id, who.id, 'the forged token did not sign in (the test forges it wrong?)')
      assert.equal(home.anonymous, who.anonymous)

      if (!c.renewed) {
        assert.equal(home.setCookie, undefined, `a token with ${c.remaining * 100}% of its life left was re-issued`)
        return
      }
      assert.ok(home.setCookie, `no new pb_auth cookie for a token with ${c.remaining * 100}% of its life left`)
      assert.ok(!isDeletion(home.setCookie), 'the cookie was cleared instead of renewed')
      assert.equal(home.setCookie.maxAge, duration, "the renewed cookie's Max-Age is not the token lifetime")
      assert.equal(home.setCookie.httpOnly, true)
      const renewed = decodeAuthCookie(home.setCookie.value)
      assert.notEqual(renewed.token, token)
      assert.equal(renewed.record.id, who.id)
      const claims = claimsOf(renewed.token)
      assert.equal(claims.id, who.id)
      assert.equal(claims.type, 'auth')
      assert.equal(claims.collectionId, who.collectionId)
      const expected = Date.now() / 1000 + duration
      assert.ok(
        Math.abs(claims.exp - expected) < 120,
        `renewed token expires at ${claims.exp}, expected about ${Math.round(expected)}`,
      )

      const next = await viewHome(pb, `pb_auth=${home.setCookie.value}`)
      assert.equal(next.id, who.id, 'the renewed cookie does not sign in')
      assert.equal(next.setCookie, undefined, 'the renewed token was renewed again on the next view')
      assert.equal((await authRefresh(pb, 'users', renewed.token)).status, 200, 'PocketBase rejects the renewed token')
    })
  }

  it('marks a response that renews the session as not cacheable', async () => {
    const who = await account('guest')
    const token = forgeAuthToken(pb.dataDir, who, Date.now() / 1000 + 0.2 * duration)
    const res = await getPage(pb, '/', cookieForToken(token))
    assert.ok(
      res.headers.getSetCookie().some((c) => c.startsWith('pb_auth=')),
      'not renewed',
    )
    assert.match(res.headers.get('cache-control') ?? '', /no-store/)
  })

  it('lets a sign-out in the same request win over the renewal (its Set-Cookie comes last)', async () => {
    const who = await account('guest')
    const token = forgeAuthToken(pb.dataDir, who, Date.now() / 1000 + 0.2 * duration)
    const res = await postForm(`${pb.url}/logout`, {}, { cookie: cookieForToken(token) })
    assert.equal(res.status, 302)
    const last = getSetCookie(res, 'pb_auth')
    assert.ok(last && isDeletion(last), `the last pb_auth Set-Cookie does not sign out: ${last?.raw}`)
  })

  it('lets an upgrade in the same request win over the renewal (its Set-Cookie comes last)', async () => {
    const who = await account('guest')
    const token = forgeAuthToken(pb.dataDir, who, Date.now() / 1000 + 0.2 * duration)
    const password = 'renewed and upgraded'
    const res = await postForm(
      `${pb.url}/upgrade`,
      { email: uniqueEmail('renewed'), password, passwordConfirm: password },
      { cookie: cookieForToken(token) },
    )
    assert.equal(res.status, 302, `the upgrade failed: ${res.status}`)
    const last = getSetCookie(res, 'pb_auth')
    assert.ok(last && !isDeletion(last), 'no pb_auth cookie after the upgrade')
    const home = await viewHome(pb, `pb_auth=${last.value}`)
    assert.equal(home.id, who.id, 'the browser would keep the renewed guest token, which the upgrade made invalid')
    assert.equal(home.anonymous, 'no')
  })

  it('does not renew an expired token: signs out and clears the cookie', async () => {
    const who = await account('guest')
    const token = forgeAuthToken(pb.dataDir, who, Date.now() / 1000 - 60)
    const home = await viewHome(pb, cookieForToken(token))
    assert.ok(home.signedOut, 'an expired token still signs in')
    assert.ok(home.setCookie && isDeletion(home.setCookie), 'the expired cookie was not cleared')
  })

  it('does not renew a near-expiry token signed with the wrong key', async () => {
    const who = await account('guest')
    const token = jwt.sign(
      {
        id: who.id,
        type: 'auth',
        collectionId: who.collectionId,
        refreshable: true,
        exp: Math.floor(Date.now() / 1000 + 0.2 * duration),
      },
      'not the key',
      { algorithm: 'HS256', noTimestamp: true },
    )
    const home = await viewHome(pb, cookieForToken(token))
    assert.ok(home.signedOut, 'a token with a bad signature signs in')
    assert.ok(home.setCookie && isDeletion(home.setCookie), 'a bad token was renewed instead of cleared')
  })
})

describe("keep-alive: a guest's last activity (lastSeen)", () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
  })
  after(() => pb?.stop())

  it('is set when the guest is created', async () => {
    const before = Date.now()
    const guest = await signInAsGuest(pb)
    const row = rawUser(pb.dataDir, guest.record.id)!
    assert.match(row.lastSeen, PB_DATE, `lastSeen ${JSON.stringify(row.lastSeen)} is not in PocketBase's date format`)
    const seen = parsePocketBaseDate(row.lastSeen)!
    assert.ok(seen >= before - 5_000 && seen <= Date.now() + 5_000, `lastSeen ${row.lastSeen} is not about now`)
  })

  it('is updated to now by a page view when it is old, without touching `updated`', async () => {
    const guest = await signInAsGuest(pb)
    const old = formatPocketBaseDate(Date.now() - 2 * DAY_MS)
    setColumns(pb.dataDir, 'users', guest.record.id, { lastSeen: old })
    const updatedBefore = rawUser(pb.dataDir, guest.record.id)!.updated

    const viewedAt = Date.now()
    assert.equal((await viewHome(pb, guest.cookie)).id, guest.record.id)
    const row = rawUser(pb.dataDir, guest.record.id)!
    assert.notEqual(row.lastSeen, old, 'a page view of a guest idle for 2 days did not record activity')
    assert.match(row.lastSeen, PB_DATE, `lastSeen ${JSON.stringify(row.lastSeen)} is not in PocketBase's date format`)
    const seen = parsePocketBaseDate(row.lastSeen)!
    assert.ok(
      Math.abs(seen - viewedAt) < 60_000,
      `lastSeen ${row.lastSeen} is not about now (${formatPocketBaseDate(viewedAt)})`,
    )
    assert.equal(row.updated, updatedBefore, 'recording activity changed `updated`')
  })

  it('is written at most once an hour: a recent value stays identical over several views', async () => {
    const guest = await signInAsGuest(pb)
    const recent = formatPocketBaseDate(Date.now() - 30 * 60 * 1000)
    setColumns(pb.dataDir, 'users', guest.record.id, { lastSeen: recent })
    for (let i = 0; i < 3; i++) {
      assert.equal((await viewHome(pb, guest.cookie)).id, guest.record.id)
      assert.equal(
        rawUser(pb.dataDir, guest.record.id)!.lastSeen,
        recent,
        `view ${i + 1} rewrote lastSeen within the hour`,
      )
    }
  })

  it('after one write, the next views within the hour do not write again', async () => {
    const guest = await signInAsGuest(pb)
    setColumns(pb.dataDir, 'users', guest.record.id, {
      lastSeen: formatPocketBaseDate(Date.now() - 3 * 60 * 60 * 1000),
    })
    await viewHome(pb, guest.cookie)
    const written = rawUser(pb.dataDir, guest.record.id)!.lastSeen
    assert.ok(Date.now() - parsePocketBaseDate(written)! < 60_000, 'the first view did not write')
    await new Promise((resolve) => setTimeout(resolve, 20))
    await viewHome(pb, guest.cookie)
    assert.equal(rawUser(pb.dataDir, guest.record.id)!.lastSeen, written, 'a second view right after rewrote lastSeen')
  })

  it('is not written for a full user', async () => {
    const user = await createFullUser(pb)
    const token = forgeAuthToken(pb.dataDir, user, Date.now() / 1000 + 3600)
    for (const lastSeen of ['', formatPocketBaseDate(Date.now() - 2 * DAY_MS)]) {
      setColumns(pb.dataDir, 'users', user.id, { lastSeen })
      assert.equal((await viewHome(pb, cookieForToken(token))).id, user.id)
      assert.equal(
        rawUser(pb.dataDir, user.id)!.lastSeen,
        lastSeen,
        `a full user's lastSeen (${JSON.stringify(lastSeen)}) was written`,
      )
    }
  })
})
