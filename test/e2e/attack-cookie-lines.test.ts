// Attack suite, issue 8 class 8: `pb_auth` split across Cookie header LINES. The duplicate-cookie
// refusal (two pb_auth = signed out, cookie cleared: a sibling subdomain may have tossed one in)
// looked at the first Cookie line only, as PocketPages' request.header() returns it; a client
// sending two lines (HTTP/2 sends one line per cookie; a proxy may split them) chose which one
// counted. Every line counts now. fetch() folds repeated headers into one, so these requests go
// out raw over a socket, header lines exactly as written.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { field, type GuestSession, signInAsGuest } from '../support/guest.ts'
import { isDeletion } from '../support/http.ts'
import { rawUser } from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { type RawResponse, rawRequest } from '../support/raw-http.ts'

type Expect = { signedInAs: 'A' | null; cleared: boolean }

describe('issue 8.8: every Cookie header line counts', () => {
  let pb: PocketBaseServer
  let a: GuestSession
  let b: GuestSession
  /** `pb_auth=<value>` of guest A / B. */
  const A = () => a.cookie
  const B = () => b.cookie

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
    a = await signInAsGuest(pb)
    b = await signInAsGuest(pb)
  })
  after(() => pb?.stop())

  function sessionCookie(res: RawResponse) {
    return res
      .setCookies()
      .filter((c) => c.name === 'pb_auth')
      .at(-1)
  }

  const pageCases: { name: string; lines: () => string[]; expect: Expect }[] = [
    {
      name: "A's and B's pb_auth on two Cookie lines",
      lines: () => [A(), B()],
      expect: { signedInAs: null, cleared: true },
    },
    { name: "A's pb_auth twice, on two lines", lines: () => [A(), A()], expect: { signedInAs: null, cleared: true } },
    {
      name: "'theme=dark; pb_auth=A' then 'pb_auth=garbage' on a second line",
      lines: () => [`theme=dark; ${A()}`, 'pb_auth=garbage'],
      expect: { signedInAs: null, cleared: true },
    },
    {
      name: 'a valid pb_auth on the SECOND line after a garbage one on the first',
      lines: () => ['pb_auth=garbage', A()],
      expect: { signedInAs: null, cleared: true },
    },
    {
      name: "lines named 'cookie' and 'COOKIE' (one header to HTTP)",
      lines: () => [A(), B()],
      expect: { signedInAs: null, cleared: true },
    },
    {
      name: 'pb_auth=A; pb_auth=B in one line',
      lines: () => [`${A()}; ${B()}`],
      expect: { signedInAs: null, cleared: true },
    },
    {
      name: 'pb_auth=A; x=1; pb_auth=A in one line',
      lines: () => [`${A()}; x=1; ${A()}`],
      expect: { signedInAs: null, cleared: true },
    },
    {
      name: 'HTTP/2 style: one cookie per line, a single pb_auth among them',
      lines: () => ['theme=dark', A(), 'lang=en'],
      expect: { signedInAs: 'A', cleared: false },
    },
    {
      name: 'HTTP/2 style with an empty line first',
      lines: () => ['', A()],
      expect: { signedInAs: 'A', cleared: false },
    },
    { name: 'one line, a single pb_auth (control)', lines: () => [A()], expect: { signedInAs: 'A', cleared: false } },
  ]

  for (const c of pageCases) {
    it(`GET / with ${c.name}: 200, ${c.expect.signedInAs ? 'signed in as A' : 'signed out, cookie cleared'}`, async () => {
      const names = c.name.startsWith("lines named 'cookie'") ? ['cookie', 'COOKIE'] : ['Cookie']
      const lines = c.lines()
      const res = await rawRequest(pb.url, {
        path: '/',
        headers: lines.map((line, i) => [names[Math.min(i, names.length - 1)]!, line]),
      })
      assert.ok(res.status < 500, `HTTP ${res.status}`)
      assert.equal(res.status, 200)
      const set = sessionCookie(res)
      if (c.expect.signedInAs === 'A') {
        assert.equal(field(res.body, 'user-id'), a.record.id, 'not signed in as A')
        assert.ok(!set || !isDeletion(set), 'a single valid cookie was cleared')
      } else {
        assert.match(res.body, /id="signed-out"/, `signed in as ${field(res.body, 'user-id')}`)
        assert.ok(set && isDeletion(set), `the cookie was not cleared (${set?.raw ?? 'no Set-Cookie'})`)
        assert.match(set.raw, /^pb_auth=;/)
        assert.match(set.raw, /Max-Age=0/i)
      }
    })
  }

  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()

  it("POST /upgrade with A's and B's cookies on two lines: 401, neither guest changes", async () => {
    // Fresh guests: each test of a state change stands alone.
    const [a, b] = [await signInAsGuest(pb), await signInAsGuest(pb)]
    const [A, B] = [() => a.cookie, () => b.cookie]
    const before = [rawUser(pb.dataDir, a.record.id), rawUser(pb.dataDir, b.record.id)]
    const res = await rawRequest(pb.url, {
      method: 'POST',
      path: '/upgrade',
      headers: [
        ['Content-Type', 'application/x-www-form-urlencoded'],
        ['Cookie', A()],
        ['Cookie', B()],
      ],
      body: form({ email: 'tossed@example.org', password: 'tossed-password-1', passwordConfirm: 'tossed-password-1' }),
    })
    assert.equal(res.status, 401, res.body.slice(0, 300))
    assert.deepEqual([rawUser(pb.dataDir, a.record.id), rawUser(pb.dataDir, b.record.id)], before)
  })

  it("POST /logout with A's and B's cookies on two lines: 302, cookie cleared, neither guest is ended", async () => {
    // Fresh guests: each test of a state change stands alone.
    const [a, b] = [await signInAsGuest(pb), await signInAsGuest(pb)]
    const [A, B] = [() => a.cookie, () => b.cookie]
    const before = [rawUser(pb.dataDir, a.record.id), rawUser(pb.dataDir, b.record.id)]
    const res = await rawRequest(pb.url, {
      method: 'POST',
      path: '/logout',
      headers: [
        ['Content-Type', 'application/x-www-form-urlencoded'],
        ['Cookie', A()],
        ['Cookie', B()],
      ],
      body: '',
    })
    assert.equal(res.status, 302)
    const set = sessionCookie(res)
    assert.ok(set && isDeletion(set), 'the cookie was not cleared')
    assert.deepEqual([rawUser(pb.dataDir, a.record.id), rawUser(pb.dataDir, b.record.id)], before)
  })

  it('POST /login mode=anonymous with two pb_auth lines: a new guest (the request was signed out), never 5xx', async () => {
    const res = await rawRequest(pb.url, {
      method: 'POST',
      path: '/login',
      headers: [
        ['Content-Type', 'application/x-www-form-urlencoded'],
        ['Cookie', A()],
        ['Cookie', B()],
      ],
      body: form({ mode: 'anonymous' }),
    })
    assert.equal(res.status, 302, res.body.slice(0, 300))
    const set = sessionCookie(res)
    assert.ok(set && !isDeletion(set), 'no new session')
    const id = (JSON.parse(decodeURIComponent(set.value)) as { record: { id: string } }).record.id
    assert.ok(id !== a.record.id && id !== b.record.id, 'handed out one of the tossed sessions')
  })
})
