// One PocketBase process in memory, for scenarios of the session and its operations: the fake backend with a `users` auth
// collection (the plugin's migration applied), a clock the test moves, the shared memory that
// holds the rate limits' keys, and requests made of fake exchanges. A test reads like PocketBase's
// ApiScenario: set up the world, send one request, compare the outcome and what happened.

import { AuthSession } from '../../src/core/auth-session.ts'
import { STORE_PREFIX } from '../../src/core/constants.ts'
import { isAnonymousAuthError } from '../../src/core/errors.ts'
import { guestPasswordHash } from '../../src/core/guest-identity.ts'
import { GuestTrail } from '../../src/core/guest-trail.ts'
import { type ResolvedOptions, resolveOptions } from '../../src/core/options.ts'
import type { AuthRecord } from '../../src/core/ports.ts'
import { PrivateKeys } from '../../src/core/private-keys.ts'
import {
  authFields,
  type CollectionSpec,
  FakeBackend,
  type FakeRecord,
  fakeBcrypt,
  parseUnverifiedClaims,
} from './fake-backend.ts'
import { FakeExchange, type RequestSpec } from './fake-exchange.ts'
import { FakeMemory } from './fake-memory.ts'
import { encodeAuthCookie } from './guest.ts'
import { nodeCrypto } from './node-crypto.ts'
import { PageFunctions } from './page-functions.ts'

/** 2026-11-30 12:00:00 UTC: a fixed start, so dates in assertions are readable. */
export const T0 = Date.UTC(2026, 10, 30, 12, 0, 0)
export const SITE = `http://app.test`

export class FakeClock {
  constructor(public ms = T0) {}
  now(): number {
    return this.ms
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000
  }
}

export interface Visit {
  /** The page functions of this request, on its session (what a page calls). */
  auth: PageFunctions
  exchange: FakeExchange
  /** Every record the request's signed-in user changed to (the adapter's onAuthChange). */
  changes: (AuthRecord | undefined)[]
}

export interface WorldSpec {
  /** Plugin options, as in +config.js. */
  options?: Record<string, unknown>
  /** The `users` collection (default: an auth collection with the plugin's hidden fields). */
  users?: CollectionSpec
}

export class World {
  readonly clock = new FakeClock()
  readonly backend = new FakeBackend(this.clock)
  readonly memory = new FakeMemory()
  readonly options: ResolvedOptions
  readonly keys = new PrivateKeys(this.memory, nodeCrypto, STORE_PREFIX)

  constructor(spec: WorldSpec = {}) {
    this.options = resolveOptions(spec.options ?? {})
    this.backend.addCollection('users', spec.users ?? { fields: authFields() })
  }

  /** A request: its exchange and session; the cookie is read first, as the adapter's onRequest does. */
  visit(
    request: RequestSpec = {},
    options: { load?: boolean; initial?: { record?: AuthRecord; token?: string } } = {},
  ): Visit {
    const exchange = new FakeExchange(request)
    const changes: (AuthRecord | undefined)[] = []
    const now = () => this.clock.now()
    const parseClaims = (token: string) => parseUnverifiedClaims(token, this.clock)
    const trail = new GuestTrail({
      backend: this.backend,
      options: this.options,
      exchange,
      crypto: nodeCrypto,
      parseClaims,
      now,
    })
    const session = new AuthSession(
      {
        backend: this.backend,
        options: this.options,
        exchange,
        parseClaims,
        now,
        onAuthChange: (record) => changes.push(record),
        listener: trail,
      },
      options.initial,
    )
    trail.attach(session)
    const auth = new PageFunctions(session, exchange, {
      session,
      backend: this.backend,
      options: this.options,
      crypto: nodeCrypto,
      keys: this.keys,
      hooks: { onMerge: () => this.options.onMerge, beforeGuestSignIn: () => this.options.beforeGuestSignIn },
      hookRequest: { fake: 'request' },
      now,
      trail,
    })
    if (options.load !== false) auth.loadFromCookie()
    return { auth, exchange, changes }
  }

  /** A same-site form post (Origin of this site), optionally with a session cookie. */
  post(cookie?: string, request: RequestSpec = {}): Visit {
    return this.visit({
      method: 'POST',
      ...request,
      headers: { Origin: SITE, ...request.headers },
      cookies: cookie ? [cookie, ...(request.cookies ?? [])] : request.cookies,
    })
  }

  /** Signs a guest in through signInAnonymously(); returns it and the Cookie line a browser would send back. */
  signInGuest(request: RequestSpec = {}): { record: FakeRecord; token: string; cookie: string } {
    const { auth, exchange } = this.post(undefined, request)
    const { token, record } = auth.signInAnonymously()
    return { record: record as FakeRecord, token, cookie: cookieLine(exchange, this.options.cookie.name) }
  }

  /** A base collection `notes` whose `owner` relates to one user (`cascadeDelete` as asked). */
  addNotes(options: { cascadeDelete?: boolean } = {}): void {
    this.backend.addCollection('notes', {
      type: 'base',
      fields: [
        { name: 'id', type: 'text' },
        { name: 'owner', type: 'relation', collectionId: 'pbc_users', maxSelect: 1, ...options },
      ],
    })
  }

  /** A base collection `boards` whose `members` relate to up to 10 users. */
  addBoards(): void {
    this.backend.addCollection('boards', {
      type: 'base',
      fields: [
        { name: 'id', type: 'text' },
        { name: 'members', type: 'relation', collectionId: 'pbc_users', maxSelect: 10 },
      ],
    })
  }

  /** A guest written straight into the table, as the plugin writes one. */
  insertGuest(data: Record<string, unknown> = {}): FakeRecord {
    return this.backend.insert('users', {
      email: `anonymous-${Math.random().toString(36).slice(2)}@example.com`,
      password: guestPasswordHash(nodeCrypto, 0),
      verified: false,
      anonymous: true,
      lastSeen: '',
      ...data,
    })
  }

  /** A full account with a password (`secret-password` unless given). */
  insertUser(data: Record<string, unknown> = {}, password = 'secret-password'): FakeRecord {
    return this.backend.insert('users', {
      email: `person-${Math.random().toString(36).slice(2)}@mail.test`,
      password: fakeBcrypt(password),
      verified: true,
      anonymous: false,
      lastSeen: '',
      ...data,
    })
  }

  /** The Cookie line carrying a record's fresh auth token (what the plugin would have set). */
  cookieFor(record: FakeRecord, token = record.newAuthToken()): string {
    return `${this.options.cookie.name}=${encodeAuthCookie(token, { id: record.id })}`
  }
}

/** The Cookie line a browser sends back after this response (the last pb_auth Set-Cookie). */
export function cookieLine(exchange: FakeExchange, name = 'pb_auth'): string {
  const cookie = exchange
    .cookiesSet()
    .filter((c) => c.name === name)
    .at(-1)
  if (!cookie) throw new Error('the response set no session cookie')
  return `${name}=${cookie.value}`
}

/** What a request ended in, summarised for tables of scenarios. */
export interface Outcome {
  /** The AnonymousAuthError code thrown, or null. */
  error: string | null
  status: number | null
  /** What the response did to the session cookie (the last Set-Cookie wins, as in a browser). */
  cookie: 'set' | 'cleared' | 'none'
  /** Who the request is signed in as at the end. */
  signedIn: 'guest' | 'user' | null
  cacheControl: string | null
}

export function outcomeOf(visit: Visit, act: (auth: PageFunctions) => unknown = () => {}): Outcome {
  let error: string | null = null
  let status: number | null = null
  try {
    act(visit.auth)
  } catch (thrown) {
    if (!isAnonymousAuthError(thrown)) throw thrown
    error = thrown.code
    status = thrown.status
  }
  const last = visit.exchange.cookiesSet().at(-1)
  const record = visit.auth.currentRecord
  return {
    error,
    status,
    cookie: !last ? 'none' : last.maxAge === 0 ? 'cleared' : 'set',
    signedIn: !record ? null : visit.auth.isAnonymous(record) ? 'guest' : 'user',
    cacheControl: visit.exchange.responseHeader('Cache-Control').at(-1) ?? null,
  }
}
