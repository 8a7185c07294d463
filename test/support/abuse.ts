// Helpers for the abuse e2e tests (test/e2e/abuse-*.test.ts): client IPs through PocketBase's
// trusted-proxy setting, bursts of requests with a tally of their outcomes, reading the demo's
// counting records and sign-in log rows, and forging PocketBase tokens.
//
// All traffic goes to 127.0.0.1; "client IPs" are only X-Forwarded-For header values
// (203.0.113.0/24 is TEST-NET-3), which PocketBase believes once trustProxy() has run.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { COUNTERS_TABLE } from '../../src/core/constants.ts'
import type { PocketBaseServer } from './pocketbase.ts'
import { sqlite } from './sqlite.ts'

// ---------------------------------------------------------------------------------------------
// Client IPs

/**
 * Makes PocketBase take the client IP from the rightmost X-Forwarded-For entry, checking the
 * setting's field names (trustedProxy.headers / useLeftmostIP) on the running version.
 */
export async function trustProxy(pb: PocketBaseServer): Promise<void> {
  const before = await pb.apiJson<{ trustedProxy?: { headers?: unknown; useLeftmostIP?: unknown } }>('/api/settings')
  assert.ok(before.trustedProxy, `PocketBase ${pb.version} settings have no trustedProxy: ${Object.keys(before)}`)
  assert.ok(Array.isArray(before.trustedProxy.headers), 'trustedProxy.headers is not an array')
  assert.equal(typeof before.trustedProxy.useLeftmostIP, 'boolean', 'trustedProxy.useLeftmostIP is not a boolean')
  const after = await pb.apiJson<{ trustedProxy: { headers: string[]; useLeftmostIP: boolean } }>('/api/settings', {
    method: 'PATCH',
    body: { trustedProxy: { headers: ['X-Forwarded-For'], useLeftmostIP: false } },
  })
  assert.deepEqual(after.trustedProxy, { headers: ['X-Forwarded-For'], useLeftmostIP: false })
}

/** The header that makes a request come from 203.0.113.n (after trustProxy()). */
export function fromIp(n: number): Record<string, string> {
  assert.ok(Number.isInteger(n) && n >= 1 && n <= 254, `no test IP ${n}`)
  return { 'x-forwarded-for': `203.0.113.${n}` }
}

// ---------------------------------------------------------------------------------------------
// Bursts

/** Runs fn(0..count-1) with at most `concurrency` in flight; results in index order. */
export async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count)
  let next = 0
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++
      if (i >= count) return
      results[i] = await fn(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return results
}

/** What one request of a burst came back with: an HTTP answer, or a connection error. */
export type Outcome =
  | { kind: 'response'; status: number; headers: Headers; body: string }
  | { kind: 'error'; error: string }

/** Sends one request and reads its body; a network failure becomes { kind: 'error' }. */
export async function attempt(send: () => Promise<Response>): Promise<Outcome> {
  try {
    const res = await send()
    const body = await res.text()
    return { kind: 'response', status: res.status, headers: res.headers, body }
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } }
    return { kind: 'error', error: e.cause?.code ?? e.cause?.message ?? e.message }
  }
}

export interface Tally {
  requests: number
  s302: number
  s429: number
  s403: number
  s5xx: number
  /** Any other status, by status. */
  other: Record<number, number>
  /** Connection errors (no HTTP answer at all), by error code. */
  errors: Record<string, number>
}

export function tally(outcomes: Outcome[]): Tally {
  const t: Tally = { requests: outcomes.length, s302: 0, s429: 0, s403: 0, s5xx: 0, other: {}, errors: {} }
  for (const o of outcomes) {
    if (o.kind === 'error') {
      t.errors[o.error] = (t.errors[o.error] ?? 0) + 1
    } else if (o.status === 302) t.s302++
    else if (o.status === 429) t.s429++
    else if (o.status === 403) t.s403++
    else if (o.status >= 500) t.s5xx++
    else t.other[o.status] = (t.other[o.status] ?? 0) + 1
  }
  return t
}

/** Prints the one-line figure of a scenario: requests, 302s, 429s, 403s, 5xx, records created. */
export function report(pb: PocketBaseServer, scenario: string, t: Tally, recordsCreated: number, extra = ''): void {
  const other = Object.keys(t.other).length ? ` other=${JSON.stringify(t.other)}` : ''
  const errors = Object.keys(t.errors).length ? ` connErrors=${JSON.stringify(t.errors)}` : ''
  console.log(
    `[abuse ${pb.version}] ${scenario}: requests=${t.requests} 302=${t.s302} 429=${t.s429} 403=${t.s403} 5xx=${t.s5xx}${other}${errors} recordsCreated=${recordsCreated}${extra ? ` ${extra}` : ''}`,
  )
}

// ---------------------------------------------------------------------------------------------
// Database facts (sqlite3 CLI on the data dir)

/** Rows of a collection's table (optionally filtered by a SQL condition); 0 if the table is missing. */
export function countRows(pb: PocketBaseServer, table: string, where = ''): number {
  const exists = sqlite(
    pb.dataDir,
    `SELECT name FROM sqlite_master WHERE type = 'table' AND name = '${table.replace(/'/g, "''")}'`,
  )
  if (exists.length === 0) return 0
  const [row] = sqlite<{ n: number }>(
    pb.dataDir,
    `SELECT COUNT(*) AS n FROM [${table}]${where ? ` WHERE ${where}` : ''}`,
  )
  return Number(row?.n ?? 0)
}

/** Guests in `users` (anonymous = true). */
export function countGuests(pb: PocketBaseServer, collection = 'users'): number {
  return countRows(pb, collection, 'anonymous = 1')
}

/** Guest sign-ins the per-network rate limit has counted (the sum of its counters). */
export function countedSignIns(pb: PocketBaseServer): number {
  const [row] = sqlite<{ n: number }>(
    pb.dataDir,
    `SELECT COALESCE(SUM(count), 0) AS n FROM ${COUNTERS_TABLE} WHERE bucket LIKE 'signin:%' AND bucket != 'signin:*'`,
  )
  return Number(row?.n ?? 0)
}

// ---------------------------------------------------------------------------------------------
// Tokens

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url')
}

/**
 * A JWT built by hand, so any header can be forged: HS256/HS384/HS512 are signed with `key`,
 * 'none' gets an empty signature.
 */
export function forgeJwt(
  payload: Record<string, unknown>,
  key: string,
  header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' },
): string {
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`
  const alg = String(header.alg)
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg]
  const signature = hash ? createHmac(hash, key).update(signingInput).digest('base64url') : ''
  return `${signingInput}.${signature}`
}

/** Seconds since the epoch, `offset` seconds from now. */
export function epoch(offsetSeconds = 0): number {
  return Math.floor(Date.now() / 1000) + offsetSeconds
}
