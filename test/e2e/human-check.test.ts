// The `beforeGuestSignIn` hook with the demo's captcha check (pb_hooks/pages/_private/human-check.js),
// which is also the README's example: PocketBase asks a siteverify endpoint, here a fake one on
// 127.0.0.1 in this test process, whether the form's token is good. A refusal is HUMAN_CHECK_FAILED
// (403, message in <mark>), creates no guest and counts nothing; an endpoint that is down refuses.
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { countedSignIns, countGuests } from '../support/abuse.ts'
import { markText } from '../support/guest.ts'
import { getSetCookie, postForm } from '../support/http.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

const SECRET = 'test-captcha-secret'
const GOOD_TOKEN = 'token-of-a-person'

interface Verification {
  secret: string | null
  response: string | null
  remoteip: string | null
}

/** A siteverify endpoint: `{ success: true }` for GOOD_TOKEN with the right secret, else false. */
async function fakeSiteverify(): Promise<{ url: string; seen: Verification[]; close(): Promise<void> }> {
  const seen: Verification[] = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => {
      const form = new URLSearchParams(body)
      const entry = { secret: form.get('secret'), response: form.get('response'), remoteip: form.get('remoteip') }
      seen.push(entry)
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ success: entry.secret === SECRET && entry.response === GOOD_TOKEN }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/siteverify`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

function signIn(pb: PocketBaseServer, token?: string): Promise<Response> {
  const fields: Record<string, string> = { mode: 'anonymous' }
  if (token !== undefined) fields['cf-turnstile-response'] = token
  return postForm(`${pb.url}/login`, fields)
}

describe('beforeGuestSignIn: a captcha check against a siteverify endpoint', () => {
  let pb: PocketBaseServer
  let endpoint: Awaited<ReturnType<typeof fakeSiteverify>>

  before(async () => {
    endpoint = await fakeSiteverify()
    pb = await startPocketBase({ env: { CAPTCHA_VERIFY_URL: endpoint.url, CAPTCHA_SECRET: SECRET } })
  })
  after(async () => {
    await pb?.stop()
    await endpoint?.close()
  })

  const refusals: [string, string | undefined][] = [
    ['no token in the form', undefined],
    ['an empty token', ''],
    ['a token the endpoint says no to', 'token-of-a-script'],
  ]
  for (const [name, token] of refusals) {
    it(`refuses ${name}: 403, the message in <mark>, no guest, nothing counted`, async () => {
      const guests = countGuests(pb)
      const counted = countedSignIns(pb)
      const res = await signIn(pb, token)
      assert.equal(res.status, 403)
      assert.match(String(markText(await res.text())), /could not confirm that you are a person/)
      assert.equal(getSetCookie(res, 'pb_auth'), undefined)
      assert.equal(countGuests(pb), guests)
      assert.equal(countedSignIns(pb), counted, 'a refused check must not use up the rate limit')
    })
  }

  it('lets a person in, after asking the endpoint with the secret, the token and the client IP', async () => {
    const before = endpoint.seen.length
    const res = await signIn(pb, GOOD_TOKEN)
    assert.equal(res.status, 302, `sign-in refused: ${markText(await res.text())}`)
    assert.ok(getSetCookie(res, 'pb_auth')?.value, 'no session cookie')
    assert.deepEqual(endpoint.seen.slice(before), [{ secret: SECRET, response: GOOD_TOKEN, remoteip: '127.0.0.1' }])
  })

  it('refuses everyone while the endpoint is down, and logs why', async () => {
    await endpoint.close()
    const res = await signIn(pb, GOOD_TOKEN)
    assert.equal(res.status, 403)
    assert.match(String(markText(await res.text())), /could not confirm that you are a person/)
    assert.doesNotMatch(pb.logs(), /panic|goroutine \d+/i)
  })
})
