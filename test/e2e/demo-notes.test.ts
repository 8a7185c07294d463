// The demo's notes (pb_migrations/*_demo_notes.js, pb_hooks/pages/notes.ejs and the list on /):
// a signed-in user adds notes by POST only, always as their owner, and sees only their own.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GuestSession, getPage, markText, signInAsGuest } from '../support/guest.ts'
import { getSetCookie, postForm } from '../support/http.ts'
import { listRecords } from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

describe("the demo's notes", () => {
  let pb: PocketBaseServer
  let alice: GuestSession
  let bob: GuestSession

  before(async () => {
    pb = await startPocketBase()
    ;[alice, bob] = [await signInAsGuest(pb), await signInAsGuest(pb)]
  })
  after(() => pb?.stop())

  const scenarios: {
    name: string
    request: () => { method: 'GET' | 'POST'; path: string; cookie?: string; form?: Record<string, string> }
    expectedStatus: number
    expectedLocation?: string
    expectedError?: string
  }[] = [
    {
      name: 'a guest adds a note: redirected home',
      request: () => ({ method: 'POST', path: '/notes', cookie: alice.cookie, form: { text: "alice's note" } }),
      expectedStatus: 302,
      expectedLocation: '/',
    },
    {
      name: "the owner in the form is ignored: the note is the signed-in user's",
      request: () => ({
        method: 'POST',
        path: '/notes',
        cookie: bob.cookie,
        form: { text: "bob's note", owner: alice.record.id },
      }),
      expectedStatus: 302,
      expectedLocation: '/',
    },
    {
      name: 'an empty note is refused with a message',
      request: () => ({ method: 'POST', path: '/notes', cookie: alice.cookie, form: { text: '   ' } }),
      expectedStatus: 200,
      expectedError: 'A note needs some text, at most 1000 characters.',
    },
    {
      name: 'signed out: sent to /login, nothing saved',
      request: () => ({ method: 'POST', path: '/notes', form: { text: 'nobody' } }),
      expectedStatus: 302,
      expectedLocation: '/login',
    },
    {
      name: 'GET changes nothing: sent home',
      request: () => ({ method: 'GET', path: '/notes?text=by-get', cookie: alice.cookie }),
      expectedStatus: 302,
      expectedLocation: '/',
    },
  ]
  for (const s of scenarios) {
    it(s.name, async () => {
      const req = s.request()
      const res =
        req.method === 'POST'
          ? await postForm(`${pb.url}${req.path}`, req.form ?? {}, req.cookie ? { cookie: req.cookie } : {})
          : await getPage(pb, req.path, req.cookie)
      const html = await res.text()
      assert.equal(res.status, s.expectedStatus, markText(html) ?? html.slice(0, 200))
      if (s.expectedLocation) assert.equal(res.headers.get('location'), s.expectedLocation)
      if (s.expectedError) assert.equal(markText(html), s.expectedError)
      assert.equal(getSetCookie(res, 'pb_auth'), undefined, 'the session cookie was touched')
    })
  }

  it('stores exactly the notes above, each with its author as owner', async () => {
    const notes = (await listRecords(pb, 'notes')).map((n) => [n.text, n.owner]).sort()
    assert.deepEqual(notes, [
      ["alice's note", alice.record.id],
      ["bob's note", bob.record.id],
    ])
  })

  it("lists on / only the signed-in user's notes", async () => {
    const html = await (await getPage(pb, '/', alice.cookie)).text()
    assert.match(html, /<li>alice&#39;s note<\/li>/)
    // Bob's note, escaped or not (not bare /bob/: a guest's random email may contain it).
    assert.doesNotMatch(html, /bob(&#39;|')s note/)
  })

  it("lets the API reach only one's own notes (rules: owner = @request.auth.id)", async () => {
    const list = async (token?: string) => {
      const res = await fetch(`${pb.url}/api/collections/notes/records`, {
        headers: token ? { authorization: token } : {},
      })
      return ((await res.json()) as { items: { text: string }[] }).items.map((n) => n.text)
    }
    assert.deepEqual(await list(alice.token), ["alice's note"])
    assert.deepEqual(await list(), [])
  })
})
