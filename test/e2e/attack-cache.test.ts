// Attack suite, issue 8 class 9: pages rendered for a session could be stored by a shared cache
// (a CDN, a company proxy): with no Cache-Control, or with a page's own `public, max-age=600`,
// the next visitor could be served someone else's signed-in page, or the Set-Cookie with their
// session. Now a response that read a session is `private` with `Vary: Cookie`, one that sets or
// clears the cookie is `no-store`, whatever the page asked for; signed-out pages are left alone.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { epoch } from '../support/abuse.ts'
import { getPage, signInAsGuest } from '../support/guest.ts'
import { getSetCookie, isDeletion, postForm } from '../support/http.ts'
import { cookieForToken, forgeAuthToken } from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

/** A page that asks shared caches to keep it for 10 minutes, and shows who it was rendered for. */
const PUBLIC_PAGE = `<script server>
  response.header('Cache-Control', 'public, max-age=600')
</script><p id="who"><%= request.auth ? request.auth.id : 'nobody' %></p>
`
/** The same, after signing a guest in on POST (it renders instead of redirecting). */
const PUBLIC_SIGN_IN_PAGE = `<script server>
  if (request.method === 'POST') signInAnonymously()
  response.header('Cache-Control', 'public, max-age=600')
</script><p id="who"><%= request.auth ? request.auth.id : 'nobody' %></p>
`

/** A page that sets its own Vary header (replacing any other). */
const VARY_PAGE = `<script server>
  response.header('Vary', 'Accept-Encoding')
</script><p id="who"><%= request.auth ? request.auth.id : 'nobody' %></p>
`

interface Seen {
  status: number
  cacheControl: string
  vary: string
  setsCookie: boolean
}

async function seen(res: Response): Promise<Seen> {
  await res.text()
  return {
    status: res.status,
    cacheControl: res.headers.get('cache-control') ?? '',
    vary: res.headers.get('vary') ?? '',
    setsCookie: getSetCookie(res, 'pb_auth') !== undefined,
  }
}

const has = (header: string, token: string) =>
  header
    .toLowerCase()
    .split(',')
    .map((t) => t.trim())
    .includes(token)

/** Not storable by a shared cache: private or no-store, never public; and keyed on the cookie. */
function assertPrivate(s: Seen, what: string): void {
  assert.ok(
    has(s.cacheControl, 'private') || has(s.cacheControl, 'no-store'),
    `${what}: Cache-Control '${s.cacheControl}'`,
  )
  assert.ok(!has(s.cacheControl, 'public'), `${what}: still public ('${s.cacheControl}')`)
  assert.ok(has(s.vary, 'cookie'), `${what}: Vary '${s.vary}'`)
}

function assertNoStore(s: Seen, what: string): void {
  assert.ok(s.setsCookie, `${what}: the response was expected to set or clear pb_auth`)
  assert.ok(has(s.cacheControl, 'no-store'), `${what}: Cache-Control '${s.cacheControl}' lacks no-store`)
  assertPrivate(s, what)
}

describe('issue 8.9: responses for a session stay out of shared caches', () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({
      env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' },
      hooksOverlay: {
        'pages/attack-public.ejs': PUBLIC_PAGE,
        'pages/attack-public-sign-in.ejs': PUBLIC_SIGN_IN_PAGE,
        'pages/attack-vary.ejs': VARY_PAGE,
      },
    })
  })
  after(() => pb?.stop())

  it('signed-in GET /: private (or no-store), Vary: Cookie', async () => {
    const guest = await signInAsGuest(pb)
    const s = await seen(await getPage(pb, '/', guest.cookie))
    assert.equal(s.status, 200)
    assert.equal(s.setsCookie, false)
    assertPrivate(s, 'GET / signed in')
  })

  it('signed-in GET of a page that sets Cache-Control: public, max-age=600 ends up private', async () => {
    const guest = await signInAsGuest(pb)
    const s = await seen(await getPage(pb, '/attack-public', guest.cookie))
    assert.equal(s.status, 200)
    assertPrivate(s, 'public page, signed in')
  })

  it('signed-in GET of a page that sets its own Vary still varies on Cookie', async () => {
    const guest = await signInAsGuest(pb)
    const s = await seen(await getPage(pb, '/attack-vary', guest.cookie))
    assert.equal(s.status, 200)
    assertPrivate(s, 'page with its own Vary, signed in')
    assert.ok(has(s.vary, 'accept-encoding'), `the page's own Vary was dropped: '${s.vary}'`)
  })

  it('signed-out GET of the same page is untouched: public, max-age=600', async () => {
    const s = await seen(await getPage(pb, '/attack-public'))
    assert.equal(s.status, 200)
    assert.equal(s.cacheControl, 'public, max-age=600')
    assert.equal(s.setsCookie, false)
  })

  describe('responses that set or clear the cookie: no-store', () => {
    it('guest sign-in (POST /login, 302 with the new session)', async () => {
      const res = await postForm(`${pb.url}/login`, { mode: 'anonymous' })
      assertNoStore(await seen(res), 'sign-in')
    })

    it('a page that signs a guest in, then asks for public, max-age=600', async () => {
      const res = await postForm(`${pb.url}/attack-public-sign-in`, {})
      const s = await seen(res)
      assert.equal(s.status, 200)
      assertNoStore(s, 'sign-in on a public page')
    })

    it('sign-out (POST /logout clears the cookie)', async () => {
      const guest = await signInAsGuest(pb)
      const res = await postForm(`${pb.url}/logout`, {}, { cookie: guest.cookie })
      const cleared = getSetCookie(res, 'pb_auth')
      assert.ok(cleared && isDeletion(cleared), `sign-out deletes the cookie, got: ${cleared}`)
      assertNoStore(await seen(res), 'sign-out')
    })

    it('a bad cookie cleared on GET /, and on the public page', async () => {
      assertNoStore(await seen(await getPage(pb, '/', 'pb_auth=garbage')), 'bad cookie on /')
      assertNoStore(await seen(await getPage(pb, '/attack-public', 'pb_auth=garbage')), 'bad cookie on a public page')
    })

    it('a token past its refresh point, re-issued on GET / and on the public page', async () => {
      const guest = await signInAsGuest(pb)
      // Expiring in 2 minutes: far past half of the collection's token lifetime.
      const old = cookieForToken(forgeAuthToken(pb.dataDir, guest.record, epoch(120)))
      for (const path of ['/', '/attack-public']) {
        const res = await getPage(pb, path, old)
        const renewed = getSetCookie(res, 'pb_auth')
        assert.ok(renewed && !isDeletion(renewed), `${path}: the token was not re-issued`)
        assertNoStore(await seen(res), `re-issued token on ${path}`)
      }
    })
  })
})
