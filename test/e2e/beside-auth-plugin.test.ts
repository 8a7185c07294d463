// The anonymous plugin beside pocketpages-plugin-auth (the stand-in in src/auth-plugin), in BOTH
// plugin orders: the demo's (auth plugin first) and the reverse. Whatever the order, the anonymous
// plugin is the one reader and writer of pb_auth: guests get its cookie, bad cookies the auth
// plugin alone would accept (a file token, two pb_auth cookies) read as signed out, sign-out clears
// with its attributes, and a guest who signs in with the auth plugin's signInWithPassword is merged
// into the account (unless mergeOnSignIn is false).
//
// Single requests are tables of scenarios, as PocketBase's ApiScenario: name, request, expected
// status, content that must and must not appear, and what happens to the pb_auth cookie.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { claimsOf, type GuestSession, getPage, markText, signInAsGuest } from '../support/guest.ts'
import { getSetCookie, isDeletion, postForm, type SetCookie } from '../support/http.ts'
import {
  cookieForToken,
  createFullUser,
  type FullUser,
  findRecord,
  forgeAuthToken,
  listRecords,
  postPasswordLogin,
  sessionFrom,
  uniqueEmail,
  usersTokenDuration,
  viewHome,
} from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

const AUTH = "'pocketpages-plugin-auth'"

/** The demo's +config.js with the two plugins in the given order and extra anonymous-plugin options. */
function pagesConfig(authFirst: boolean, extra: Record<string, unknown> = {}): string {
  const anonymous = JSON.stringify({
    name: 'pocketpages-plugin-anonymous',
    collection: 'users',
    upgrade: { sendVerificationEmail: false },
    ...extra,
  })
  const plugins = authFirst ? [AUTH, anonymous] : [anonymous, AUTH]
  return `module.exports = { plugins: ['pocketpages-plugin-ejs', ${plugins.join(', ')}] }\n`
}

const ORDERS = [
  { name: 'auth plugin first', authFirst: true },
  { name: 'anonymous plugin first (the demo)', authFirst: false },
]

/** Our session cookie: HttpOnly, SameSite=Lax, Path=/, a lifetime (the auth plugin's has none of these). */
function assertOurSessionCookie(cookie: SetCookie | undefined, what: string): void {
  assert.ok(cookie, `${what}: no pb_auth cookie was set`)
  assert.ok(!isDeletion(cookie), `${what}: pb_auth was cleared instead of set`)
  assert.equal(cookie.httpOnly, true, `${what}: not HttpOnly (${cookie.raw.replace(/=[^;]*/, '=…')})`)
  assert.equal(cookie.sameSite, 'Lax', `${what}: not SameSite=Lax`)
  assert.equal(cookie.path, '/')
  assert.ok((cookie.maxAge ?? 0) > 0, `${what}: no Max-Age`)
}

function assertOurClearing(cookie: SetCookie | undefined, what: string): void {
  assert.ok(cookie && isDeletion(cookie), `${what}: pb_auth was not cleared`)
  assert.equal(cookie.httpOnly, true, `${what}: cleared without our attributes (${cookie.raw})`)
  assert.equal(cookie.sameSite, 'Lax', `${what}: cleared without SameSite=Lax`)
}

/** What a scenario expects of the response's pb_auth Set-Cookie. */
type CookieExpectation = 'untouched' | 'ours' | 'cleared by us'

interface Scenario {
  name: string
  /** Builds the request (may sign in a fresh guest first). */
  request: () => Promise<{ method?: 'GET' | 'POST'; path: string; cookie?: string; form?: Record<string, string> }>
  expectedStatus: number
  expectedContent?: () => (string | RegExp)[]
  notExpectedContent?: () => (string | RegExp)[]
  cookie: CookieExpectation
  /** Further checks on the response. */
  check?: (res: { setCookie: SetCookie | undefined; html: string; location: string | null }) => void | Promise<void>
}

async function runScenario(pb: PocketBaseServer, s: Scenario): Promise<void> {
  const req = await s.request()
  const res =
    req.method === 'POST'
      ? await postForm(`${pb.url}${req.path}`, req.form ?? {}, req.cookie ? { cookie: req.cookie } : {})
      : await getPage(pb, req.path, req.cookie)
  const html = await res.text()
  const setCookie = getSetCookie(res, 'pb_auth')
  assert.equal(res.status, s.expectedStatus, `status; the page says: ${markText(html) ?? html.slice(0, 300)}`)
  for (const content of s.expectedContent?.() ?? []) {
    if (typeof content === 'string') assert.ok(html.includes(content), `missing ${JSON.stringify(content)}`)
    else assert.match(html, content)
  }
  for (const content of s.notExpectedContent?.() ?? []) {
    if (typeof content === 'string') assert.ok(!html.includes(content), `unexpected ${JSON.stringify(content)}`)
    else assert.doesNotMatch(html, content)
  }
  if (s.cookie === 'untouched') assert.equal(setCookie, undefined, `pb_auth was touched: ${setCookie?.raw}`)
  if (s.cookie === 'ours') assertOurSessionCookie(setCookie, s.name)
  if (s.cookie === 'cleared by us') assertOurClearing(setCookie, s.name)
  await s.check?.({ setCookie, html, location: res.headers.get('location') })
}

/** A file token of the guest (PocketBase's own, from /api/files/token). */
async function fileToken(pb: PocketBaseServer, guest: GuestSession): Promise<string> {
  const res = await fetch(`${pb.url}/api/files/token`, { method: 'POST', headers: { authorization: guest.token } })
  assert.equal(res.status, 200, 'no file token for the guest')
  return ((await res.json()) as { token: string }).token
}

/** Adds a note through the demo's POST /notes. */
async function addNote(pb: PocketBaseServer, cookie: string, text: string): Promise<void> {
  const res = await postForm(`${pb.url}/notes`, { text }, { cookie })
  assert.equal(res.status, 302, `POST /notes: ${res.status} ${(await res.text()).slice(0, 300)}`)
}

const notesOf = async (pb: PocketBaseServer, owner: string) =>
  (await listRecords(pb, 'notes', `owner = "${owner}"`)).map((n) => n.text).sort()

for (const order of ORDERS) {
  describe(`beside pocketpages-plugin-auth, ${order.name}`, () => {
    let pb: PocketBaseServer
    let account: FullUser
    let tokenSeconds: number

    before(async () => {
      pb = await startPocketBase({ hooksOverlay: { 'pages/+config.js': pagesConfig(order.authFirst) } })
      account = await createFullUser(pb)
      tokenSeconds = await usersTokenDuration(pb)
    })
    after(() => pb?.stop())

    const guest = () => signInAsGuest(pb)
    const scenarios: Scenario[] = [
      {
        name: 'guest sign-in through the anonymous plugin sets its cookie and a 20-character random email',
        request: async () => ({ method: 'POST', path: '/login', form: { mode: 'anonymous' } }),
        expectedStatus: 302,
        cookie: 'ours',
        check: ({ setCookie, location }) => {
          assert.equal(location, '/')
          const { record } = JSON.parse(decodeURIComponent(setCookie!.value)) as { record: { email: string } }
          assert.match(record.email, /^anonymous-[a-z0-9]{20}@example\.com$/)
        },
      },
      {
        name: "a guest's cookie reads back as the guest",
        request: async () => {
          const g = await guest()
          return { path: '/', cookie: g.cookie }
        },
        expectedStatus: 200,
        expectedContent: () => ['<dd id="user-anonymous">yes</dd>', /<dd id="user-id">[a-z0-9]{15}<\/dd>/],
        notExpectedContent: () => ['id="signed-out"'],
        cookie: 'untouched',
      },
      {
        name: "a guest's token past half its life is re-issued (keep-alive) with our cookie",
        request: async () => {
          const g = await guest()
          const aged = forgeAuthToken(pb.dataDir, g.record, Date.now() / 1000 + tokenSeconds * 0.3)
          return { path: '/', cookie: cookieForToken(aged) }
        },
        expectedStatus: 200,
        expectedContent: () => ['<dd id="user-anonymous">yes</dd>'],
        cookie: 'ours',
        check: ({ setCookie }) => {
          const { token } = JSON.parse(decodeURIComponent(setCookie!.value)) as { token: string }
          const left = claimsOf(token).exp - Date.now() / 1000
          assert.ok(left > tokenSeconds * 0.9, `the re-issued token has only ${left} s left`)
        },
      },
      {
        name: 'a FILE token in the cookie reads as signed out and is cleared (the auth plugin alone accepts it)',
        request: async () => ({ path: '/', cookie: cookieForToken(await fileToken(pb, await guest())) }),
        expectedStatus: 200,
        expectedContent: () => ['id="signed-out"'],
        notExpectedContent: () => ['id="user-id"'],
        cookie: 'cleared by us',
      },
      {
        name: 'two pb_auth cookies read as signed out and are cleared (the auth plugin alone takes the first)',
        request: async () => {
          const [a, b] = [await guest(), await guest()]
          return { path: '/', cookie: `${a.cookie}; ${b.cookie}` }
        },
        expectedStatus: 200,
        expectedContent: () => ['id="signed-out"'],
        notExpectedContent: () => ['id="user-id"'],
        cookie: 'cleared by us',
      },
      {
        name: "signOut() clears with the anonymous plugin's attributes",
        request: async () => ({ method: 'POST', path: '/logout', cookie: (await guest()).cookie }),
        expectedStatus: 302,
        cookie: 'cleared by us',
      },
      {
        name: "signed out, the auth plugin's signInWithPassword signs in to the account with our cookie",
        request: async () => ({
          method: 'POST',
          path: '/login',
          form: { mode: 'password', email: account.email, password: account.password },
        }),
        expectedStatus: 302,
        cookie: 'ours',
        check: ({ setCookie }) => {
          const { record } = JSON.parse(decodeURIComponent(setCookie!.value)) as { record: { id: string } }
          assert.equal(record.id, account.id)
        },
      },
    ]
    for (const s of scenarios) it(s.name, () => runScenario(pb, s))

    it('answers an unknown email and a wrong password with the same page and status', async () => {
      const wrong = await postPasswordLogin(pb, undefined, account.email, `${account.password}-wrong`)
      const unknownEmail = uniqueEmail('nobody')
      const unknown = await postPasswordLogin(pb, undefined, unknownEmail, account.password)
      for (const [what, result] of [
        ['wrong password', wrong],
        ['unknown email', unknown],
      ] as const) {
        assert.equal(result.error, 'Wrong email or password.', `${what}: ${result.error ?? result.html.slice(0, 300)}`)
        assert.equal(result.setCookie, undefined, `${what}: the cookie was touched`)
      }
      assert.equal(unknown.status, wrong.status, 'the same status')
      // The same page but for the email typed, which the form keeps, and the guest form's nonce,
      // fresh on every page (guestFormFields).
      const page = (html: string, email: string) =>
        html
          .split(email)
          .join('EMAIL')
          .replace(/\s+/g, ' ')
          .replace(/name="guestNonce" value="[^"]*"/, 'NONCE')
      assert.equal(page(unknown.html, unknownEmail), page(wrong.html, account.email), 'the same page')
    })

    it('throttles password guessing per email: the 6th failure within the window answers 429', async () => {
      const target = await createFullUser(pb)
      for (let i = 1; i <= 5; i++) {
        const result = await postPasswordLogin(pb, undefined, target.email, `wrong-${i}`)
        assert.equal(result.error, 'Wrong email or password.', `attempt ${i}: ${result.status} ${result.error}`)
      }
      const res = await postForm(`${pb.url}/login`, {
        mode: 'password',
        email: target.email,
        password: target.password,
      })
      assert.equal(res.status, 429, 'the right password after 5 failures was not throttled')
      assert.ok(Number(res.headers.get('retry-after')) > 0, 'no Retry-After')
      assert.equal(getSetCookie(res, 'pb_auth'), undefined)
    })

    it("a guest who signs in with the auth plugin's signInWithPassword is merged into the account", async () => {
      const member = await createFullUser(pb)
      const memberSession = sessionFrom(
        await postPasswordLogin(pb, undefined, member.email, member.password),
        'sign-in',
      )
      await addNote(pb, memberSession.cookie, "the account's note")
      const g = await guest()
      await addNote(pb, g.cookie, "the guest's note")

      const result = await postPasswordLogin(pb, g.cookie, member.email, member.password)
      const session = sessionFrom(result, 'sign-in as a guest')
      assertOurSessionCookie(result.setCookie, 'sign-in as a guest')
      assert.equal(session.record.id, member.id)

      assert.deepEqual(await notesOf(pb, member.id), ["the account's note", "the guest's note"])
      assert.equal(await findRecord(pb, 'users', g.record.id), null, 'the guest record still exists')
      const home = await viewHome(pb, session.cookie)
      assert.equal(home.id, member.id)
      assert.match(home.html, /<li>the guest&#39;s note<\/li>/)
      assert.ok((await viewHome(pb, g.cookie)).signedOut, "the merged guest's cookie still signs in")
    })
  })

  describe(`beside pocketpages-plugin-auth, ${order.name}, mergeOnSignIn: false`, () => {
    let pb: PocketBaseServer

    before(async () => {
      pb = await startPocketBase({
        hooksOverlay: { 'pages/+config.js': pagesConfig(order.authFirst, { mergeOnSignIn: false }) },
      })
    })
    after(() => pb?.stop())

    it('a guest who signs in to an account stays a separate guest with its notes', async () => {
      const member = await createFullUser(pb)
      const g = await signInAsGuest(pb)
      await addNote(pb, g.cookie, "the guest's note")

      const result = await postPasswordLogin(pb, g.cookie, member.email, member.password)
      const session = sessionFrom(result, 'sign-in as a guest')
      assertOurSessionCookie(result.setCookie, 'sign-in as a guest')
      assert.equal(session.record.id, member.id)

      const kept = await findRecord(pb, 'users', g.record.id)
      assert.ok(kept, 'the guest was deleted')
      assert.equal(kept.anonymous, true)
      assert.deepEqual(await notesOf(pb, g.record.id), ["the guest's note"])
      assert.deepEqual(await notesOf(pb, member.id), [])
    })
  })
}
