// A fake OpenID Connect provider for e2e tests: an HTTP server on 127.0.0.1 with the two endpoints
// PocketBase's `oidc` provider calls server-side (token and userinfo). With `userInfoURL` set,
// PocketBase reads the user from the userinfo endpoint and never parses an id_token, so no JWKS or
// discovery is needed (tools/auth/oidc.go, 0.25.9 and 0.40). It keeps the email only when
// `email_verified` is true, as PocketBase does.
//
//   const oidc = await startFakeOidc()
//   await enableOidc(pb, oidc)                          // users collection: OAuth2 on, provider 'oidc'
//   const code = oidc.issueCode({ sub: 'u1', email: 'a@b.test' })
//   await authWithOAuth2(pb, code)                        // POST /api/collections/users/auth-with-oauth2
//   oidc.stop()
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { PocketBaseServer } from './pocketbase.ts'

export interface OidcIdentity {
  /** The provider's user id (PocketBase's `providerId`). */
  sub: string
  email?: string
  /** Default true: PocketBase ignores an unverified provider email. */
  emailVerified?: boolean
  name?: string
}

export interface FakeOidc {
  readonly url: string
  readonly clientId: string
  readonly clientSecret: string
  /** A one-time authorization code for `identity` (as the provider's redirect would carry it). */
  issueCode(identity: OidcIdentity, codeChallenge?: string): string
  /** Every token request the provider answered (for assertions). */
  readonly tokenRequests: number
  stop(): Promise<void>
}

interface Grant {
  identity: OidcIdentity
  challenge: string | undefined
}

/** Starts the provider on a free port of 127.0.0.1. */
export async function startFakeOidc(): Promise<FakeOidc> {
  const clientId = `client-${randomBytes(6).toString('hex')}`
  const clientSecret = randomBytes(16).toString('hex')
  const codes = new Map<string, Grant>()
  const accessTokens = new Map<string, OidcIdentity>()
  let tokenRequests = 0

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(body))
      }
      if (req.method === 'POST' && url.pathname === '/token') {
        tokenRequests++
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
        // golang.org/x/oauth2 sends the client credentials as Basic auth or in the body.
        const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')
        const [id, secret] = basic
          ? Buffer.from(basic[1]!, 'base64').toString('utf8').split(':').map(decodeURIComponent)
          : [form.get('client_id'), form.get('client_secret')]
        if (id !== clientId || secret !== clientSecret) return send(401, { error: 'invalid_client' })
        const code = form.get('code') ?? ''
        const grant = codes.get(code)
        codes.delete(code) // one-time, as a real provider's
        if (!grant) return send(400, { error: 'invalid_grant' })
        const verifier = form.get('code_verifier')
        if (grant.challenge && (!verifier || pkceChallenge(verifier) !== grant.challenge)) {
          return send(400, { error: 'invalid_grant', error_description: 'PKCE verification failed' })
        }
        const accessToken = randomBytes(16).toString('hex')
        accessTokens.set(accessToken, grant.identity)
        return send(200, { access_token: accessToken, token_type: 'Bearer', expires_in: 3600 })
      }
      if (req.method === 'GET' && url.pathname === '/userinfo') {
        const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')
        const identity = bearer ? accessTokens.get(bearer[1]!) : undefined
        if (!identity) return send(401, { error: 'invalid_token' })
        return send(200, {
          sub: identity.sub,
          ...(identity.email !== undefined ? { email: identity.email } : {}),
          email_verified: identity.emailVerified ?? true,
          ...(identity.name !== undefined ? { name: identity.name } : {}),
        })
      }
      send(404, { error: 'not_found' })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  server.unref()
  const port = (server.address() as AddressInfo).port

  return {
    url: `http://127.0.0.1:${port}`,
    clientId,
    clientSecret,
    get tokenRequests() {
      return tokenRequests
    },
    issueCode(identity, codeChallenge) {
      const code = randomBytes(12).toString('hex')
      codes.set(code, { identity, challenge: codeChallenge })
      return code
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}

/** Turns OAuth2 on for `collection` with the fake provider as PocketBase's `oidc` (superuser API). */
export async function enableOidc(pb: PocketBaseServer, oidc: FakeOidc, collection = 'users'): Promise<void> {
  await pb.apiJson(`/api/collections/${collection}`, {
    method: 'PATCH',
    body: {
      oauth2: {
        enabled: true,
        providers: [
          {
            name: 'oidc',
            clientId: oidc.clientId,
            clientSecret: oidc.clientSecret,
            authURL: `${oidc.url}/authorize`,
            tokenURL: `${oidc.url}/token`,
            userInfoURL: `${oidc.url}/userinfo`,
            // The tests hand PocketBase a code directly; no browser holds a PKCE verifier.
            pkce: false,
          },
        ],
      },
    },
  })
}

export interface OAuth2Result {
  status: number
  body: { token?: string; record?: Record<string, unknown> & { id: string }; meta?: { isNew?: boolean } } & Record<
    string,
    unknown
  >
}

/**
 * PocketBase's POST /api/collections/{c}/auth-with-oauth2 with a code of the fake provider. With
 * `authToken`, the request carries it as Authorization, as a client SDK holding a session sends it
 * (PocketBase then links a new identity to that record).
 */
export async function authWithOAuth2(
  pb: PocketBaseServer,
  code: string,
  opts: { authToken?: string; collection?: string } = {},
): Promise<OAuth2Result> {
  const res = await fetch(`${pb.url}/api/collections/${opts.collection ?? 'users'}/auth-with-oauth2`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(opts.authToken ? { authorization: opts.authToken } : {}),
    },
    // redirectURL is required by 0.25 (not checked by the fake provider).
    body: JSON.stringify({ provider: 'oidc', code, redirectURL: `${pb.url}/oauth2-redirect` }),
  })
  const body = (await res.json()) as OAuth2Result['body']
  return { status: res.status, body }
}

/** authWithOAuth2 that must succeed; returns the token and record. */
export async function signInWithOidc(
  pb: PocketBaseServer,
  oidc: FakeOidc,
  identity: OidcIdentity,
  authToken?: string,
): Promise<{ token: string; record: Record<string, unknown> & { id: string }; isNew: boolean }> {
  const result = await authWithOAuth2(pb, oidc.issueCode(identity), authToken ? { authToken } : {})
  assert.equal(result.status, 200, `auth-with-oauth2 failed: ${JSON.stringify(result.body)}`)
  assert.ok(result.body.token && result.body.record, 'auth-with-oauth2 answered without token or record')
  return { token: result.body.token, record: result.body.record, isNew: result.body.meta?.isNew === true }
}
