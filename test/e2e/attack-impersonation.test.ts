// Attack suite, issue 15 class 1: an impersonation token must stay as short as PocketBase made it.
// PocketBase's `POST /api/collections/{c}/impersonate/{id}` mints tokens with `refreshable: false`
// (its auth-refresh refuses to extend them). Put into pb_auth, the plugin's keep-alive used to
// re-issue one as an ordinary token with the collection's full lifetime, on every visit after.
// Now: such a cookie is honoured until the token expires and never renewed, and signIn({ token })
// refuses it. The keep-alive here renews every token at once (refreshAfterFraction: 0), so the
// control case (an ordinary token of the same user) shows the renewal this test would catch.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { pagesConfig } from '../support/attack.ts'
import { claimsOf } from '../support/guest.ts'
import { getSetCookie, isDeletion, postForm } from '../support/http.ts'
import {
  authWithPassword,
  cookieForToken,
  createFullUser,
  type FullUser,
  passwordToken,
  viewHome,
} from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

const SIGN_IN_PAGE = `<script server>
  let error = ''
  if (request.method === 'POST') {
    try {
      signIn({ token: String(body().token || '') })
      redirect('/')
    } catch (e) {
      error = e.code
    }
  }
</script>
<p><mark id="error"><%= error %></mark></p>
`

describe('issue 15.1: an impersonation token in the session cookie', () => {
  let pb: PocketBaseServer
  let user: FullUser

  before(async () => {
    pb = await startPocketBase({
      hooksOverlay: {
        'pages/+config.js': pagesConfig({ keepAlive: { refreshAfterFraction: 0 } }),
        'pages/attack-token-sign-in.ejs': SIGN_IN_PAGE,
      },
    })
    user = await createFullUser(pb)
  })
  after(() => pb?.stop())

  /** A 60-second impersonation token of `user`, minted by PocketBase for the superuser. */
  async function impersonationToken(): Promise<string> {
    const res = await pb.apiJson<{ token: string }>(`/api/collections/users/impersonate/${user.id}`, {
      method: 'POST',
      body: { duration: 60 },
    })
    const claims = claimsOf(res.token) as unknown as { refreshable?: unknown; exp: number }
    assert.equal(claims.refreshable, false, 'PocketBase marks impersonation tokens as not refreshable')
    return res.token
  }

  it('control: an ordinary token of the same user is renewed on a page view', async () => {
    const token = await passwordToken(pb, user.email, user.password)
    const view = await viewHome(pb, cookieForToken(token))
    assert.equal(view.id, user.id, 'signed in by the ordinary token')
    assert.ok(view.setCookie && !isDeletion(view.setCookie), 'the keep-alive renewed the ordinary token')
  })

  it('signs in with it until it expires, and never issues a longer token', async () => {
    const token = await impersonationToken()
    const cookie = cookieForToken(token)
    for (let visit = 1; visit <= 3; visit++) {
      const view = await viewHome(pb, cookie)
      assert.equal(view.id, user.id, `visit ${visit}: the impersonation token still signs in`)
      assert.equal(view.setCookie, undefined, `visit ${visit}: no renewed token, no new cookie`)
    }
  })

  it('signIn({ token }) refuses it: no cookie, no session', async () => {
    const token = await impersonationToken()
    const res = await postForm(`${pb.url}/attack-token-sign-in`, { token })
    const html = await res.text()
    assert.equal(res.status, 400, `INVALID_TOKEN's status, got ${res.status}: ${html.slice(0, 200)}`)
    assert.match(html, /INVALID_TOKEN/, 'the page saw INVALID_TOKEN')
    assert.equal(getSetCookie(res, 'pb_auth'), undefined, 'no session cookie')
  })

  it('control: signIn({ token }) accepts an ordinary token (the page works)', async () => {
    const token = await passwordToken(pb, user.email, user.password)
    const res = await postForm(`${pb.url}/attack-token-sign-in`, { token })
    assert.equal(res.status, 302, 'redirected after signing in')
    assert.ok(getSetCookie(res, 'pb_auth'), 'a session cookie')
  })

  it("PocketBase's own auth-refresh never extends the same token (the rule the plugin follows)", async () => {
    const token = await impersonationToken()
    const res = await pb.fetch('/api/collections/users/auth-refresh', {
      method: 'POST',
      headers: { Authorization: token },
    })
    // 0.25 refuses (403); newer lines answer 200 and hand the same token back, unextended.
    if (res.status !== 403) {
      assert.equal(res.status, 200, `auth-refresh answered ${res.status}`)
      const body = (await res.json()) as { token: string }
      assert.equal(body.token, token, 'auth-refresh handed back the same token, not a longer one')
    }
    assert.equal((await authWithPassword(pb, user.email, user.password)).status, 200, 'the account itself is fine')
  })
})
