// Guest sign-in end to end (issue 2): the demo's /login form against a real PocketBase with this
// repo's pb_hooks and pb_migrations. Runs once per supported PocketBase version (scripts/test.mjs).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import jwt from 'jsonwebtoken'
import { authRefresh, field, getPage, signInAsGuest } from '../support/guest.ts'
import { getSetCookie, isDeletion, postForm } from '../support/http.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { signingKey } from '../support/sqlite.ts'

const GUEST_EMAIL = /^anonymous-[a-z0-9]{20}@example\.com$/

describe('guest sign-in through /login', () => {
  let pb: PocketBaseServer
  let tokenLifetimeSeconds: number

  before(async () => {
    pb = await startPocketBase({
      env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' },
      hooksOverlay: {
        // Test-only pages, on a temporary copy of pb_hooks: what a page sees in the same request.
        'pages/probe-sign-in.ejs': `<script server>
          response.cookie('theme', 'dark')
          const result = signInAnonymously()
        </script>{"returned":"<%= result.record.id %>","requestAuth":"<%= request.auth && request.auth.id %>","apiAuth":"<%= api.auth && api.auth.id %>","anonymous":<%= isAnonymous() %>,"tokenMatches":<%= result.token === request.authToken %>}`,
      },
    })
    const users = await pb.apiJson<{ authToken: { duration: number } }>('/api/collections/users')
    tokenLifetimeSeconds = users.authToken.duration
  })
  after(() => pb?.stop())

  it('redirects to / with a pb_auth cookie carrying the documented flags', async () => {
    const guest = await signInAsGuest(pb)
    const c = guest.setCookie
    assert.equal(c.path, '/')
    assert.equal(c.httpOnly, true)
    assert.equal(c.sameSite, 'Lax')
    assert.equal(c.secure, false, 'plain HTTP must not get a Secure cookie (the browser would drop it)')
    assert.equal(c.maxAge, tokenLifetimeSeconds)
    assert.ok(c.value.length < 1500, `cookie value is ${c.value.length} bytes`)
  })

  it('sets Secure when the request came over HTTPS through a proxy', async () => {
    const guest = await signInAsGuest(pb, { headers: { 'x-forwarded-proto': 'https' } })
    assert.equal(guest.setCookie.secure, true)
  })

  it("issues a token PocketBase's own auth-refresh accepts", async () => {
    const guest = await signInAsGuest(pb)
    const res = await authRefresh(pb, 'users', guest.token)
    const text = await res.text()
    assert.equal(res.status, 200, text)
    const body = JSON.parse(text) as { record: { id: string } }
    assert.equal(body.record.id, guest.record.id)
  })

  it("issues a token that verifies with the collection secret and the record's token key", async () => {
    const guest = await signInAsGuest(pb)
    const key = signingKey(pb.dataDir, 'users', guest.record.id)
    const claims = jwt.verify(guest.token, key, { algorithms: ['HS256'] }) as jwt.JwtPayload
    assert.equal(claims.type, 'auth')
    assert.equal(claims.id, guest.record.id)
    assert.equal(claims.collectionId, guest.record.collectionId)
    assert.throws(() => jwt.verify(guest.token, `${key}x`, { algorithms: ['HS256'] }))
  })

  it('creates an unverified anonymous user with a random example.com email', async () => {
    const guest = await signInAsGuest(pb)
    const record = await pb.apiJson<Record<string, unknown>>(`/api/collections/users/records/${guest.record.id}`)
    assert.match(String(record.email), GUEST_EMAIL)
    assert.equal(record.verified, false)
    assert.equal(record.anonymous, true)
    assert.deepEqual(guest.record, {
      id: record.id,
      collectionId: record.collectionId,
      collectionName: 'users',
      email: record.email,
      verified: false,
      anonymous: true,
    })
  })

  it('gives the guest no usable password', async () => {
    const guest = await signInAsGuest(pb)
    for (const password of ['', 'password', guest.record.email, guest.token]) {
      const res = await fetch(`${pb.url}/api/collections/users/auth-with-password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identity: guest.record.email, password }),
      })
      assert.equal(res.status, 400, `password ${JSON.stringify(password.slice(0, 10))} was accepted`)
    }
  })

  it('shows the signed-in guest on / with the cookie', async () => {
    const guest = await signInAsGuest(pb)
    const res = await getPage(pb, '/', guest.cookie)
    assert.equal(res.status, 200)
    const html = await res.text()
    assert.equal(field(html, 'user-id'), guest.record.id)
    // A guest is shown as a guest, never its placeholder email.
    assert.equal(field(html, 'user-email'), null, 'an email row for a guest')
    assert.ok(!html.includes(guest.record.email), "the guest's placeholder email is on the page")
    assert.match(html, /You are using a guest account/, 'the page says it is a guest')
    assert.equal(field(html, 'user-anonymous'), 'yes')
    assert.equal(getSetCookie(res, 'pb_auth'), undefined, 'a fresh token must not be re-issued on every view')
  })

  it('shows / signed out without a cookie', async () => {
    const html = await (await getPage(pb, '/')).text()
    assert.match(html, /id="signed-out"/)
    assert.match(html, /href="\/login"/)
  })

  it('signs out: POST /logout clears the cookie and / is signed out', async () => {
    const guest = await signInAsGuest(pb)
    const res = await postForm(`${pb.url}/logout`, {}, { cookie: guest.cookie })
    assert.equal(res.status, 302)
    const cleared = getSetCookie(res, 'pb_auth')
    assert.ok(cleared && isDeletion(cleared), 'pb_auth was not cleared')
    assert.equal(cleared.path, '/')
    assert.equal(cleared.httpOnly, true)
  })

  it('makes a different user on a second sign-in', async () => {
    const first = await signInAsGuest(pb)
    const second = await signInAsGuest(pb)
    assert.notEqual(first.record.id, second.record.id)
    assert.notEqual(first.record.email, second.record.email)
  })

  it('returns the same guest when a guest signs in again (no orphaned data)', async () => {
    const guest = await signInAsGuest(pb)
    const again = await postForm(`${pb.url}/login`, { mode: 'anonymous' }, { cookie: guest.cookie })
    assert.equal(again.status, 302)
    const html = await (await getPage(pb, '/', guest.cookie)).text()
    assert.equal(field(html, 'user-id'), guest.record.id)
  })

  it('makes the new user the auth of the rest of the request, and keeps other cookies', async () => {
    const res = await pb.fetch('/probe-sign-in')
    assert.equal(res.status, 200)
    const text = await res.text()
    // PocketPages answers JSON-looking output as JSON (keys may be re-ordered), else as HTML.
    const match = /\{[^{}]*"returned"[^{}]*\}/s.exec(text)
    assert.ok(match, `unexpected page: ${text.slice(0, 800)}`)
    const seen = JSON.parse(match[0])
    assert.ok(seen.returned, `signInAnonymously() returned nothing: ${JSON.stringify(seen)}`)
    assert.equal(seen.requestAuth, seen.returned)
    assert.equal(seen.apiAuth, seen.returned)
    assert.equal(seen.anonymous, true)
    assert.equal(seen.tokenMatches, true)
    const names = res.headers.getSetCookie().map((c) => c.split('=')[0])
    assert.ok(names.includes('theme'), `the page's own cookie was lost: ${names}`)
    assert.ok(names.includes('pb_auth'), `no session cookie among ${names}`)
  })

  it("never authenticates PocketBase's /api/ routes with the cookie", async () => {
    const guest = await signInAsGuest(pb)
    const path = `/api/collections/users/records/${guest.record.id}`
    // users' view rule is "id = @request.auth.id": only an authenticated owner sees the record.
    const withCookie = await fetch(`${pb.url}${path}`, { headers: { cookie: guest.cookie } })
    assert.equal(withCookie.status, 404)
    const withHeader = await fetch(`${pb.url}${path}`, { headers: { authorization: guest.token } })
    assert.equal(withHeader.status, 200)
  })
})

describe('guest sign-in into a non-default collection', () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({
      hooksOverlay: {
        'pages/+config.js': `module.exports = { plugins: ['pocketpages-plugin-ejs', { name: 'pocketpages-plugin-anonymous', collection: 'members' }] }`,
      },
    })
    await pb.apiJson('/api/collections', {
      method: 'POST',
      body: {
        name: 'members',
        type: 'auth',
        viewRule: 'id = @request.auth.id',
        fields: [
          { name: 'anonymous', type: 'bool', hidden: true },
          { name: 'lastSeen', type: 'date', hidden: true },
        ],
      },
    })
  })
  after(() => pb?.stop())

  it('creates the guest in that collection and reads its cookie back', async () => {
    const guest = await signInAsGuest(pb)
    assert.equal(guest.record.collectionName, 'members')
    const record = await pb.apiJson<Record<string, unknown>>(`/api/collections/members/records/${guest.record.id}`)
    assert.equal(record.anonymous, true)
    assert.equal((await authRefresh(pb, 'members', guest.token)).status, 200)
    const html = await (await getPage(pb, '/', guest.cookie)).text()
    assert.equal(field(html, 'user-id'), guest.record.id)
    assert.equal(field(html, 'user-anonymous'), 'yes')
    const users = await pb.apiJson<{ totalItems: number }>('/api/collections/users/records')
    assert.equal(users.totalItems, 0, 'nothing may be created in users')
  })
})

describe("the session cookie survives upstream PocketPages' replacing response.cookie()", () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({
      hooksOverlay: {
        // The host's response.cookie() replaces Set-Cookie, as upstream PocketPages' does.
        'pages/+config.js': `module.exports = { plugins: ['pocketpages-plugin-ejs', { name: 'pocketpages-plugin-anonymous', rateLimit: { perNetwork: 1000 } }] }`,
        'pages/sign-in-then-cookie.ejs': `<script server>
          signInAnonymously()
          response.cookie('theme', 'dark')
        </script>signed in`,
      },
    })
  })
  after(() => pb?.stop())

  it('keeps pb_auth when the page sets its own cookie after signing in', async () => {
    const res = await pb.fetch('/sign-in-then-cookie')
    assert.equal(res.status, 200)
    const names = res.headers.getSetCookie().map((c) => c.split('=')[0])
    assert.ok(names.includes('theme'), `the page's cookie is missing: ${names}`)
    assert.ok(names.includes('pb_auth'), `pb_auth was dropped: ${names}`)
  })
})
