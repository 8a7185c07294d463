// Attack suite, issue 8 class 1: the guest flag was client-writable. A guest could PATCH
// `anonymous: false` through PocketBase's record API (and pass `@request.auth.anonymous = false`
// rules), anyone could sign up through the API with `anonymous: true` (and be treated as a guest),
// and the batch API did either. Now `anonymous` is a hidden field: only superusers and server code
// write it, and API rules still read it.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { enableBatch, openApiSignUp } from '../support/attack.ts'
import { type GuestSession, signInAsGuest } from '../support/guest.ts'
import {
  cookieForToken,
  createFullUser,
  type FullUser,
  passwordToken,
  postUpgrade,
  rawUser,
  uid,
  uniqueEmail,
  viewHome,
} from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

/** The README's rule for "full accounts only". */
const GUESTS_OUT_RULE = '@request.auth.id != "" && @request.auth.anonymous = false'
const RULED = 'attack_members_only'
const PASSWORD = 'attack-password-123'

interface Answer {
  status: number
  text: string
}

async function send(pb: PocketBaseServer, path: string, init: RequestInit): Promise<Answer> {
  const res = await fetch(`${pb.url}${path}`, init)
  const answer = { status: res.status, text: await res.text() }
  if (path === '/api/batch' && res.status === 200) {
    // The batch envelope is 200 even when a request inside it was refused: look inside.
    const inner = (JSON.parse(answer.text) as { status: number }[]).map((r) => r.status)
    assert.deepEqual(inner, [200], `a request inside the batch was refused: ${answer.text.slice(0, 300)}`)
  }
  return answer
}

function json(body: unknown, token?: string): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: token } : {}) },
    body: JSON.stringify(body),
  }
}

function multipart(fields: Record<string, string>, token?: string, method = 'POST'): RequestInit {
  const form = new FormData()
  for (const [key, value] of Object.entries(fields)) form.append(key, value)
  return { method, headers: token ? { authorization: token } : {}, body: form }
}

describe('issue 8.1: the guest flag cannot be written by clients', () => {
  let pb: PocketBaseServer
  let member: FullUser

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
    await enableBatch(pb)
    // The demo closes API sign-up; an app that keeps it open is what this suite attacks.
    await openApiSignUp(pb)
    await pb.apiJson('/api/collections', {
      body: { name: RULED, type: 'base', fields: [{ name: 'title', type: 'text' }], createRule: GUESTS_OUT_RULE },
    })
    member = await createFullUser(pb)
  })
  after(() => pb?.stop())

  /** A record in the guests-out collection, created with `token`. */
  const createRuled = (token: string) =>
    send(pb, `/api/collections/${RULED}/records`, json({ title: `t-${uid()}` }, token))

  it('has both plugin fields hidden (what the rest of this suite relies on)', async () => {
    const users = await pb.apiJson<{ fields: { name: string; hidden: boolean }[] }>('/api/collections/users')
    const byName = Object.fromEntries(users.fields.map((f) => [f.name, f.hidden]))
    assert.deepEqual({ anonymous: byName.anonymous, lastSeen: byName.lastSeen }, { anonymous: true, lastSeen: true })
  })

  describe('a guest trying to clear its own flag', () => {
    type Scenario = {
      name: string
      send: (guest: GuestSession) => Promise<Answer>
      /** Statuses PocketBase may answer (it drops hidden fields silently: 200). */
      statuses: number[]
    }
    const path = (guest: GuestSession) => `/api/collections/users/records/${guest.record.id}`
    const scenarios: Scenario[] = [
      {
        name: 'PATCH {"anonymous": false} (JSON)',
        send: (g) => send(pb, path(g), { ...json({ anonymous: false }, g.token), method: 'PATCH' }),
        statuses: [200],
      },
      {
        name: 'PATCH anonymous=false (multipart form)',
        send: (g) => send(pb, path(g), multipart({ anonymous: 'false' }, g.token, 'PATCH')),
        statuses: [200],
      },
      {
        name: 'PATCH {"anonymous": 0, "ANONYMOUS": false, "Anonymous": "false"}',
        send: (g) =>
          send(pb, path(g), {
            ...json({ anonymous: 0, ANONYMOUS: false, Anonymous: 'false' }, g.token),
            method: 'PATCH',
          }),
        statuses: [200],
      },
      {
        name: 'batch: PATCH {"anonymous": false}',
        send: (g) =>
          send(
            pb,
            '/api/batch',
            json({ requests: [{ method: 'PATCH', url: path(g), body: { anonymous: false } }] }, g.token),
          ),
        statuses: [200],
      },
    ]

    for (const s of scenarios) {
      it(`${s.name}: answers ${s.statuses.join('/')}, the flag stays set, the guest stays a guest and the rule keeps it out`, async () => {
        const guest = await signInAsGuest(pb)
        const before = rawUser(pb.dataDir, guest.record.id)
        assert.equal(before?.anonymous, 1)
        const answer = await s.send(guest)
        assert.ok(s.statuses.includes(answer.status), `HTTP ${answer.status}: ${answer.text.slice(0, 300)}`)
        assert.doesNotMatch(answer.text, /"anonymous"\s*:/, 'a hidden field must not appear in API answers')
        assert.equal(rawUser(pb.dataDir, guest.record.id)?.anonymous, 1, 'the guest cleared its own flag')
        const home = await viewHome(pb, guest.cookie)
        assert.equal(home.id, guest.record.id)
        assert.equal(home.anonymous, 'yes')
        const ruled = await createRuled(guest.token)
        assert.ok(ruled.status >= 400 && ruled.status < 500, `the guest passed the guests-out rule: ${ruled.status}`)
      })
    }
  })

  describe('signing up through the API with the flag set', () => {
    type Scenario = { name: string; send: (email: string) => Promise<Answer>; statuses: number[] }
    const fields = (email: string) => ({ email, password: PASSWORD, passwordConfirm: PASSWORD })
    const scenarios: Scenario[] = [
      {
        name: 'POST /records {"anonymous": true} (JSON)',
        send: (email) => send(pb, '/api/collections/users/records', json({ ...fields(email), anonymous: true })),
        statuses: [200],
      },
      {
        name: 'POST /records anonymous=true (multipart form)',
        send: (email) => send(pb, '/api/collections/users/records', multipart({ ...fields(email), anonymous: 'true' })),
        statuses: [200],
      },
      {
        name: 'batch: POST /records {"anonymous": true}',
        send: (email) =>
          send(
            pb,
            '/api/batch',
            json({
              requests: [
                { method: 'POST', url: '/api/collections/users/records', body: { ...fields(email), anonymous: true } },
              ],
            }),
          ),
        statuses: [200],
      },
    ]

    for (const s of scenarios) {
      it(`${s.name}: answers ${s.statuses.join('/')}, stores no flag, the account is no guest and cannot "upgrade"`, async () => {
        const email = uniqueEmail('signup')
        const answer = await s.send(email)
        assert.ok(s.statuses.includes(answer.status), `HTTP ${answer.status}: ${answer.text.slice(0, 300)}`)
        assert.doesNotMatch(answer.text, /"anonymous"\s*:/, 'a hidden field must not appear in API answers')
        const token = await passwordToken(pb, email, PASSWORD)
        const id = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { id: string }).id
        assert.equal(rawUser(pb.dataDir, id)?.anonymous, 0, 'the sign-up stored anonymous = true')
        const cookie = cookieForToken(token)
        const home = await viewHome(pb, cookie)
        assert.equal(home.id, id)
        assert.equal(home.anonymous, 'no')
        const upgrade = await postUpgrade(pb, cookie, {
          email: uniqueEmail('other'),
          password: PASSWORD,
          passwordConfirm: PASSWORD,
        })
        assert.equal(upgrade.status, 403, `a self-made account was treated as a guest: ${upgrade.error}`)
        // A full account, so the guests-out rule lets it in.
        assert.equal((await createRuled(token)).status, 200)
      })
    }
  })

  describe(`the README rule ${GUESTS_OUT_RULE}`, () => {
    it('refuses a guest (create rule) and creates nothing', async () => {
      const guest = await signInAsGuest(pb)
      const before = (await pb.apiJson<{ totalItems: number }>(`/api/collections/${RULED}/records`)).totalItems
      const answer = await createRuled(guest.token)
      assert.ok(answer.status >= 400 && answer.status < 500, `HTTP ${answer.status}: ${answer.text}`)
      const after = (await pb.apiJson<{ totalItems: number }>(`/api/collections/${RULED}/records`)).totalItems
      assert.equal(after, before)
    })

    it('allows a full user', async () => {
      const token = await passwordToken(pb, member.email, member.password)
      const answer = await createRuled(token)
      assert.equal(answer.status, 200, answer.text)
    })

    it('refuses a signed-out request', async () => {
      const answer = await send(pb, `/api/collections/${RULED}/records`, json({ title: 'x' }))
      assert.ok(answer.status >= 400 && answer.status < 500, `HTTP ${answer.status}`)
    })
  })
})
