// pocketpages-plugin-auth 0.2.2 as released (upstream commit 36dcd3c; fixed after it, unreleased,
// by upstream's #108) answers every request that carries no pb_auth cookie with `Set-Cookie:
// pb_auth=; Path=/`, from its onRequest. A browser's session cookie is SameSite=Lax, so another
// site's form post arrives without it, and that line then replaces the session in the browser: any
// site could sign a user out, and a guest out of its account for good. Measured in the real
// PocketPages by scripts/real-pocketpages-check.mjs. The stand-in auth plugin copies the fixed
// version, so here a small plugin in its place writes what the released one writes; both orders.
//
// The anonymous plugin, the one writer of the session cookie, drops a clearing of pb_auth written
// before the page runs when the request carried no pb_auth: there was nothing to clear, except a
// session the browser withheld. A clearing of a cookie that was sent still goes out.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { getPage, signInAsGuest } from '../support/guest.ts'
import { isDeletion, parseSetCookies, postForm } from '../support/http.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

/** What the released auth plugin's onRequest does with the cookie, alone. */
const RELEASED_AUTH_COOKIE = `{
  fn: () => ({
    name: 'released-auth-0.2.2-cookie',
    onRequest: ({ request, response }) => {
      if (!request.cookies('pb_auth')) response.cookie('pb_auth', '')
    },
  }),
}`

function pagesConfig(releasedFirst: boolean): string {
  const anonymous = JSON.stringify({
    name: 'pocketpages-plugin-anonymous',
    collection: 'users',
    upgrade: { sendVerificationEmail: false },
  })
  const plugins = releasedFirst ? [RELEASED_AUTH_COOKIE, anonymous] : [anonymous, RELEASED_AUTH_COOKIE]
  return `module.exports = { plugins: ['pocketpages-plugin-ejs', ${plugins.join(', ')}] }\n`
}

const ORDERS = [
  { name: 'that plugin first', releasedFirst: true },
  { name: 'anonymous plugin first', releasedFirst: false },
]

/** The pb_auth Set-Cookie lines of a response. */
function sessionLines(res: Response): string[] {
  return parseSetCookies(res)
    .filter((c) => c.name === 'pb_auth')
    .map((c) => c.raw)
}

for (const order of ORDERS) {
  describe(`beside a plugin that clears pb_auth on every request without it, ${order.name}`, () => {
    let pb: PocketBaseServer

    before(async () => {
      pb = await startPocketBase({ hooksOverlay: { 'pages/+config.js': pagesConfig(order.releasedFirst) } })
    })
    after(() => pb?.stop())

    it("another site's form posts, which arrive without the Lax session cookie, write no pb_auth", async () => {
      for (const [path, fields] of [
        ['/login', { mode: 'anonymous' }],
        ['/notes', { text: 'x' }],
        ['/logout', {}],
      ] as const) {
        const res = await postForm(`${pb.url}${path}`, fields, { origin: 'https://evil.example' })
        await res.body?.cancel()
        assert.deepEqual(sessionLines(res), [], `POST ${path} from another site touched the browser's session`)
      }
    })

    it('a page view without the cookie writes no pb_auth', async () => {
      const res = await getPage(pb, '/')
      await res.body?.cancel()
      assert.equal(res.status, 200, 'GET /')
      assert.deepEqual(sessionLines(res), [], 'GET / without a session cookie wrote one')
    })

    it('a cookie that was sent and cannot be read is still cleared', async () => {
      const res = await getPage(pb, '/', 'pb_auth=%7Bnot-json')
      await res.body?.cancel()
      const lines = parseSetCookies(res).filter((c) => c.name === 'pb_auth')
      assert.ok(lines.length > 0 && lines.every(isDeletion), `not cleared: ${lines.map((c) => c.raw).join(' | ')}`)
    })

    it('a guest still signs in, and its session reads back', async () => {
      const guest = await signInAsGuest(pb)
      const html = await (await getPage(pb, '/', guest.cookie)).text()
      assert.match(html, new RegExp(`<dd id="user-id">${guest.record.id}</dd>`), 'the guest session did not read back')
    })
  })
}
