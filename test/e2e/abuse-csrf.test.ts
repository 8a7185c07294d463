// Abuse: login CSRF (issue 4). Sign-in, upgrade and merge must refuse forms posted from other
// sites (Origin, else Referer), and do nothing when they refuse.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { attempt, countedSignIns, countRows, type Outcome, report, tally } from '../support/abuse.ts'
import { field, getPage, markText, signInAsGuest } from '../support/guest.ts'
import { getSetCookie, isDeletion, type PostFormOptions, postForm } from '../support/http.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

const EVIL = 'https://evil.example'
const CROSS_SITE_MESSAGE =
  /^This request came from another site and was refused \(.+\)\. Submit the form from this site\.$/

interface Answer {
  status: number
  mark: string | null
  res: Response
  outcome: Outcome
}

async function post(
  pb: PocketBaseServer,
  path: string,
  fields: Record<string, string>,
  opts: PostFormOptions,
): Promise<Answer> {
  const res = await postForm(`${pb.url}${path}`, fields, opts)
  const body = res.status === 302 ? '' : await res.text()
  return {
    status: res.status,
    mark: markText(body),
    res,
    outcome: { kind: 'response', status: res.status, headers: res.headers, body },
  }
}

/** A 403 with the cross-site message in <mark>, and no session handed out. */
function assertRefused(answer: Answer, what: string): void {
  assert.equal(answer.status, 403, `${what}: expected 403, got ${answer.status} (${answer.mark})`)
  assert.match(String(answer.mark), CROSS_SITE_MESSAGE, `${what}: <mark> message`)
  const cookie = getSetCookie(answer.res, 'pb_auth')
  assert.ok(!cookie || isDeletion(cookie), `${what}: a refused request must not set a session`)
}

function users(pb: PocketBaseServer): number {
  return countRows(pb, 'users')
}

describe('login CSRF: guest sign-in (POST /login mode=anonymous)', () => {
  let pb: PocketBaseServer
  const outcomes: Outcome[] = []

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
  })
  after(async () => {
    if (pb) report(pb, 'csrf: sign-in attempts (all cases of this suite)', tally(outcomes), users(pb))
    await pb?.stop()
  })

  const signIn = async (opts: PostFormOptions): Promise<Answer> => {
    const answer = await post(pb, '/login', { mode: 'anonymous' }, opts)
    outcomes.push(answer.outcome)
    return answer
  }

  const refusedCases: [string, PostFormOptions][] = [
    ['Origin: https://evil.example', { origin: EVIL }],
    ['no Origin, Referer: https://evil.example/x', { origin: null, headers: { referer: `${EVIL}/x` } }],
    ['Origin: null', { origin: 'null' }],
    ['Origin: null with a cross-site Referer', { origin: 'null', headers: { referer: `${EVIL}/x` } }],
    ['cross-site Origin with a same-site Referer (Origin wins)', { origin: EVIL, headers: { referer: 'SAME/x' } }],
    ['Origin not a URL', { origin: 'evil' }],
    ['Origin with our host as a prefix of theirs', { origin: 'http://HOST.evil.example' }],
    ['Origin with userinfo', { origin: 'http://HOST@evil.example' }],
  ]

  for (const [name, opts] of refusedCases) {
    it(`refuses ${name} with 403 and creates nothing`, async () => {
      const host = new URL(pb.url).host
      const resolved: PostFormOptions = {
        ...opts,
        origin: typeof opts.origin === 'string' ? opts.origin.replace('HOST', host) : opts.origin,
        headers: Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k, v.replace('SAME', pb.url)])),
      }
      const before = users(pb)
      const logBefore = countedSignIns(pb)
      assertRefused(await signIn(resolved), name)
      assert.equal(users(pb), before, 'no user may be created')
      assert.equal(countedSignIns(pb), logBefore, 'a refused sign-in must not use up the rate limit')
    })
  }

  it('accepts a same-origin Origin (302)', async () => {
    const before = users(pb)
    const answer = await signIn({})
    assert.equal(answer.status, 302)
    assert.ok(getSetCookie(answer.res, 'pb_auth'), 'a same-origin sign-in sets the session cookie')
    assert.equal(users(pb), before + 1)
  })

  it('accepts a same-origin Referer without Origin (302)', async () => {
    const answer = await signIn({ origin: null, headers: { referer: `${pb.url}/login` } })
    assert.equal(answer.status, 302)
  })

  it('accepts a request with neither Origin nor Referer (documented: non-browser clients)', async () => {
    const answer = await signIn({ origin: null })
    assert.equal(answer.status, 302)
    assert.ok(getSetCookie(answer.res, 'pb_auth'), 'a sign-in without Origin or Referer sets the session cookie')
  })
})

describe('login CSRF: upgrade and merge of a signed-in guest', () => {
  let pb: PocketBaseServer
  const account = { email: 'owner@example.org', password: 'correct horse battery staple' }
  const outcomes: Outcome[] = []

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
    await pb.apiJson('/api/collections/users/records', {
      body: { email: account.email, password: account.password, passwordConfirm: account.password, anonymous: false },
    })
  })
  after(async () => {
    if (pb)
      report(
        pb,
        'csrf: upgrade/merge attempts (all cases of this suite)',
        tally(outcomes),
        users(pb) - 1,
        '(users besides the account; guests signed in by the test itself)',
      )
    await pb?.stop()
  })

  const record = (id: string) =>
    pb.apiJson<{ id: string; email: string; anonymous: boolean }>(`/api/collections/users/records/${id}`)

  it('refuses a cross-site /upgrade: 403, the guest stays an anonymous guest', async () => {
    const guest = await signInAsGuest(pb)
    for (const opts of [
      { origin: EVIL },
      { origin: null, headers: { referer: `${EVIL}/x` } },
      { origin: 'null' },
    ] as PostFormOptions[]) {
      const answer = await post(
        pb,
        '/upgrade',
        { email: 'attacker@evil.example', password: 'attacker-pass-1', passwordConfirm: 'attacker-pass-1' },
        { ...opts, cookie: guest.cookie },
      )
      outcomes.push(answer.outcome)
      assertRefused(answer, `upgrade with ${JSON.stringify(opts)}`)
    }
    const after = await record(guest.record.id)
    assert.equal(after.anonymous, true)
    assert.equal(after.email, guest.record.email)
    // The guest's session still works: nothing rotated its token key.
    const html = await (await getPage(pb, '/', guest.cookie)).text()
    assert.equal(field(html, 'user-id'), guest.record.id)
    assert.equal(field(html, 'user-anonymous'), 'yes')
    const byPassword = await fetch(`${pb.url}/api/collections/users/auth-with-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity: 'attacker@evil.example', password: 'attacker-pass-1' }),
    })
    assert.equal(byPassword.status, 400, "the attacker's credentials must not work")
  })

  it('accepts a same-origin /upgrade (control)', async () => {
    const guest = await signInAsGuest(pb)
    const answer = await post(
      pb,
      '/upgrade',
      { email: 'saved@example.org', password: 'saved-pass-123', passwordConfirm: 'saved-pass-123' },
      { cookie: guest.cookie },
    )
    outcomes.push(answer.outcome)
    assert.equal(answer.status, 302, String(answer.mark))
    assert.equal((await record(guest.record.id)).anonymous, false)
  })

  it('refuses a cross-site merge (/login mode=password as a guest): 403, the guest is not deleted', async () => {
    const guest = await signInAsGuest(pb)
    const answer = await post(pb, '/login', { mode: 'password', ...account }, { origin: EVIL, cookie: guest.cookie })
    outcomes.push(answer.outcome)
    assertRefused(answer, 'merge')
    const after = await record(guest.record.id)
    assert.equal(after.anonymous, true)
    const html = await (await getPage(pb, '/', guest.cookie)).text()
    assert.equal(field(html, 'user-id'), guest.record.id, 'the guest must still be signed in')
  })

  // A guest's cookie is its only credential: a sign-out forced by another site's form loses the
  // guest's account for good. (SameSite=Lax keeps the cookie off that POST, but the browser still
  // applies the response's deleting Set-Cookie to a top-level navigation.)
  it('refuses a cross-site sign-out (POST /logout) of a guest: the cookie is not cleared', async () => {
    // What the browser sends for another site's auto-submitted form: no (Lax) cookie.
    const answer = await post(pb, '/logout', {}, { origin: EVIL })
    outcomes.push(answer.outcome)
    const cleared = getSetCookie(answer.res, 'pb_auth')
    assert.ok(
      !cleared || !isDeletion(cleared),
      `a cross-site POST /logout cleared the session cookie (status ${answer.status})`,
    )
    assert.equal(answer.status, 403)
  })

  it('accepts a same-origin merge (control): the guest is merged away', async () => {
    const guest = await signInAsGuest(pb)
    const answer = await post(pb, '/login', { mode: 'password', ...account }, { cookie: guest.cookie })
    outcomes.push(answer.outcome)
    assert.equal(answer.status, 302, String(answer.mark))
    const res = await pb.api(`/api/collections/users/records/${guest.record.id}`)
    assert.equal(res.status, 404, 'the guest should be gone after a merge')
  })
})

describe('login CSRF: csrf.allowedOrigins', () => {
  let pb: PocketBaseServer
  const outcomes: Outcome[] = []

  before(async () => {
    pb = await startPocketBase({
      hooksOverlay: {
        'pages/+config.js': `module.exports = { plugins: ['pocketpages-plugin-ejs', {
          name: 'pocketpages-plugin-anonymous',
          rateLimit: { perNetwork: 1000 },
          csrf: { allowedOrigins: ['https://partner.example'] },
        }] }`,
      },
    })
  })
  after(async () => {
    if (pb) report(pb, 'csrf: allowedOrigins cases', tally(outcomes), users(pb))
    await pb?.stop()
  })

  it('accepts the allowed origin', async () => {
    for (const origin of ['https://partner.example', 'https://PARTNER.example', 'https://partner.example:443']) {
      const answer = await attempt(() => postForm(`${pb.url}/login`, { mode: 'anonymous' }, { origin }))
      outcomes.push(answer)
      assert.equal(answer.kind === 'response' && answer.status, 302, `Origin ${origin}`)
    }
    const viaReferer = await attempt(() =>
      postForm(
        `${pb.url}/login`,
        { mode: 'anonymous' },
        { origin: null, headers: { referer: 'https://partner.example/page?x=1' } },
      ),
    )
    outcomes.push(viaReferer)
    assert.equal(viaReferer.kind === 'response' && viaReferer.status, 302, 'Referer of the allowed origin')
  })

  it('still refuses other origins, and the allowed host on another scheme or port', async () => {
    const before = users(pb)
    for (const origin of [
      EVIL,
      'http://partner.example',
      'https://partner.example:8443',
      'https://sub.partner.example',
      'https://partner.example.evil.example',
    ]) {
      const answer = await post(pb, '/login', { mode: 'anonymous' }, { origin })
      outcomes.push(answer.outcome)
      assertRefused(answer, `Origin ${origin}`)
    }
    assert.equal(users(pb), before)
  })
})
