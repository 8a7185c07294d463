// Request bodies as real apps meet them (issue 15.6). In PocketPages 0.22.3 `body()` is
// `e.requestInfo().body`: a body PocketBase refuses (a urlencoded body over Go's 10 MB; on 0.40
// more than 1,000 fields; a malformed multipart) makes it throw, and a page that does not catch
// that answers PocketPages' generic 500 page. The stand-in host now does exactly that, so these
// tests see what apps get: the demo's forms read through _private/read-form.js and answer 400/413;
// and a signed-in request's page meets the same error as a signed-out one (the plugin's session
// read, which enriches the record, must not swallow it and hand the page `{}`).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GuestSession, signInAsGuest } from '../support/guest.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { rawUpload, type UploadResponse, uploadHead } from '../support/raw-http.ts'

const URLENCODED = 'application/x-www-form-urlencoded'
const MULTIPART = 'multipart/form-data; boundary=XX'

function post(
  pb: PocketBaseServer,
  path: string,
  contentType: string,
  body: string | Buffer,
  cookie?: string,
): Promise<UploadResponse> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  const headers: Record<string, string | number> = { 'Content-Type': contentType, 'Content-Length': bytes.length }
  if (cookie) headers.Cookie = cookie
  return rawUpload(pb.port, uploadHead(path, headers), bytes)
}

const fields = (n: number) => Array.from({ length: n }, (_, i) => `f${i}=x`).join('&')
const twentyMegabytes = () => Buffer.from(`mode=anonymous&text=${'a'.repeat(20 * 1024 * 1024)}`)
const malformedMultipart = '--XX\r\nContent-Disposition: form-data; name="name"\r\n\r\nAda\r\n--XX'
const text = (html: string, id: string) => new RegExp(`id="${id}">([^<]*)<`).exec(html)?.[1]

/** PocketBase lines whose form parser refuses more than 1,000 fields (measured: 0.40.6 does, 0.25.9 does not). */
const refusesManyFields = (version: string) => !version.startsWith('0.25.')

describe('request bodies as PocketPages 0.22.3 hands them to pages', () => {
  let pb: PocketBaseServer
  let guest: GuestSession

  before(async () => {
    pb = await startPocketBase({
      env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' },
      hooksOverlay: {
        // An app's enrich hook: marks every users record PocketBase enriches.
        'test-enrich.pb.js': `onRecordEnrich((e) => { e.record.withCustomData(true); e.record.set('enrichedBy', 'hook'); e.next() }, 'users')`,
        // A page that calls a plugin operation reading a form field (ensureGuest reads guestNonce) before body().
        'pages/ensure-then-body.ejs': `<script server>
          let ensured = 'ok'; try { ensureGuest() } catch (e) { ensured = 'threw: ' + e.message }
          let read; try { read = 'form with ' + Object.keys(body()).length + ' fields' } catch (e) { read = 'threw: ' + e.message }
        </script><p id="first"><%= read %></p><p id="ensured"><%= ensured %></p>`,
        'pages/auth-json.ejs': `<script server>let read = 'none'; try { body(); read = 'read' } catch (e) { read = 'threw' }</script><p id="auth"><%= request.auth ? JSON.stringify(request.auth) : 'signed out' %></p><p id="read"><%= read %></p>`,
        // Test-only pages: one reads the body without a try/catch; the other catches each of two
        // reads and prints what it got.
        'pages/form-echo.ejs': `<script server>const form = body()</script><p id="name"><%= form.name %></p><p id="count"><%= Object.keys(form).length %></p>`,
        'pages/form-caught.ejs': `<script server>
          const read = () => { try { return 'form with ' + Object.keys(body()).length + ' fields' } catch (e) { return 'threw: ' + e.message } }
          const first = read()
          const second = read()
        </script><p id="first"><%= first %></p><p id="second"><%= second %></p><p id="auth"><%= request.auth ? 'signed in' : 'signed out' %></p>`,
      },
    })
    guest = await signInAsGuest(pb)
  })
  after(() => pb?.stop())

  it('reads a normal form, urlencoded and multipart', async () => {
    const urlencoded = await post(pb, '/form-echo', URLENCODED, 'name=Ada+Lovelace&x=1')
    assert.equal(urlencoded.status, 200, urlencoded.body)
    assert.equal(text(urlencoded.body, 'name'), 'Ada Lovelace', 'urlencoded field')
    const multipart = await post(
      pb,
      '/form-echo',
      MULTIPART,
      '--XX\r\nContent-Disposition: form-data; name="name"\r\n\r\nGrace\r\n--XX--\r\n',
    )
    assert.equal(multipart.status, 200, multipart.body)
    assert.equal(text(multipart.body, 'name'), 'Grace', 'multipart field')
  })

  it('a page that does not catch body() answers the generic 500 page (what PocketPages 0.22.3 does)', async () => {
    const large = await post(pb, '/form-echo', URLENCODED, twentyMegabytes())
    assert.equal(large.status, 500, `20 MB: ${large.body.slice(0, 300)}`)
    assert.match(large.body, /<h1>Internal Server Error<\/h1>/, 'the generic page, no details')
    const many = await post(pb, '/form-echo', URLENCODED, fields(20_000))
    if (refusesManyFields(pb.version)) {
      assert.equal(many.status, 500, `20,000 fields on ${pb.version}: ${many.body.slice(0, 300)}`)
    } else {
      assert.equal(many.status, 200, `20,000 fields on ${pb.version} parse: ${many.body.slice(0, 300)}`)
      assert.equal(text(many.body, 'count'), '20000', 'every field reaches the page')
    }
  })

  const hostile: { name: string; contentType: string; body: () => string | Buffer; only?: (v: string) => boolean }[] = [
    { name: 'a 20 MB urlencoded body', contentType: URLENCODED, body: twentyMegabytes },
    { name: '20,000 fields', contentType: URLENCODED, body: () => fields(20_000), only: refusesManyFields },
    { name: 'a malformed multipart body', contentType: MULTIPART, body: () => malformedMultipart },
  ]
  for (const body of hostile) {
    it(`${body.name}: a signed-in page meets the same body() error as a signed-out one`, async (t) => {
      if (body.only && !body.only(pb.version)) return t.skip(`PocketBase ${pb.version} reads it`)
      const signedOut = await post(pb, '/form-caught', body.contentType, body.body())
      const signedIn = await post(pb, '/form-caught', body.contentType, body.body(), guest.cookie)
      assert.equal(text(signedOut.body, 'auth'), 'signed out', signedOut.body.slice(0, 300))
      assert.equal(text(signedIn.body, 'auth'), 'signed in', signedIn.body.slice(0, 300))
      assert.match(text(signedOut.body, 'first') ?? '', /^threw: /, 'signed out: the first read throws')
      assert.equal(text(signedIn.body, 'first'), text(signedOut.body, 'first'), 'signed in: the same error')
      assert.equal(text(signedIn.body, 'second'), text(signedOut.body, 'second'), 'and the same second read')
    })
  }

  it('a plugin operation that reads a form field first (ensureGuest) leaves the body error to the page', async () => {
    const plain = await post(pb, '/form-caught', URLENCODED, twentyMegabytes())
    const ensured = await post(pb, '/ensure-then-body', URLENCODED, twentyMegabytes())
    assert.equal(text(ensured.body, 'ensured'), 'ok', `ensureGuest ran: ${ensured.body.slice(0, 300)}`)
    assert.match(text(plain.body, 'first') ?? '', /^threw: /, 'the plain page meets the error')
    assert.equal(text(ensured.body, 'first'), text(plain.body, 'first'), 'the same error after ensureGuest()')
  })

  it("the session read still runs PocketBase's enrichment (onRecordEnrich) on a GET, a POST and a refused POST", async () => {
    const enriched = (html: string) => (text(html, 'auth') ?? '').includes('enrichedBy&#34;:&#34;hook')
    const get = await fetch(`${pb.url}/auth-json`, { headers: { cookie: guest.cookie } })
    const getHtml = await get.text()
    assert.ok(enriched(getHtml), `GET: ${text(getHtml, 'auth')}`)
    const form = await post(pb, '/auth-json', URLENCODED, 'name=Ada', guest.cookie)
    assert.equal(text(form.body, 'read'), 'read', 'the form was read')
    assert.ok(enriched(form.body), `POST: ${text(form.body, 'auth')}`)
    const refused = await post(pb, '/auth-json', URLENCODED, twentyMegabytes(), guest.cookie)
    assert.equal(text(refused.body, 'read'), 'threw', 'the page met the error')
    assert.ok(enriched(refused.body), `refused POST: ${text(refused.body, 'auth')}`)
  })

  describe("the demo's forms answer a clear 4xx, never 500", () => {
    const pages = [
      { path: '/login', cookie: () => undefined },
      { path: '/login', cookie: () => guest.cookie },
      { path: '/upgrade', cookie: () => guest.cookie },
      { path: '/notes', cookie: () => guest.cookie },
    ]
    const bodies = [
      { name: 'a 20 MB body', contentType: URLENCODED, body: twentyMegabytes, status: 413 },
      { name: '20,000 fields', contentType: URLENCODED, body: () => fields(20_000), status: 400 },
      { name: 'a malformed multipart body', contentType: MULTIPART, body: () => malformedMultipart, status: 400 },
    ]
    for (const { name, contentType, body, status } of bodies) {
      it(`${name}: ${status} with a short page on every form`, async () => {
        for (const page of pages) {
          const who = `${page.path} ${page.cookie() ? 'as a guest' : 'signed out'}`
          const res = await post(pb, page.path, contentType, body(), page.cookie())
          assert.equal(res.status, status, `${who}: ${res.body.slice(0, 300)}`)
          assert.match(res.body, /<h1>The form could not be read<\/h1>/, `${who}: the demo's page`)
          assert.ok(!/set-cookie: pb_auth=/i.test(res.head), `${who}: no session change`)
        }
      })
    }
  })
})
