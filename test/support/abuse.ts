// Helpers for the abuse e2e tests (test/e2e/abuse-*.test.ts): client IPs through PocketBase's
// trusted-proxy setting, bursts of requests with a tally of their outcomes, reading the demo's
// error <mark>, counting records and sign-in log rows, and forging PocketBase tokens.
//
// All traffic goes to 127.0.0.1; "client IPs" are only X-Forwarded-For header values
// (203.0.113.0/24 is TEST-NET-3), which PocketBase believes once trustProxy() has run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import type { PocketBaseServer } from './pocketbase.ts';
import { sqlite } from './sqlite.ts';

/** The plugin's sign-in log table (one row per guest created; see pb_migrations). */
export const SIGN_IN_LOG_TABLE = 'pocketpages_anonymous_signins';

// ---------------------------------------------------------------------------------------------
// Client IPs

/**
 * Makes PocketBase take the client IP from the rightmost X-Forwarded-For entry, checking the
 * setting's field names (trustedProxy.headers / useLeftmostIP) on the running version.
 */
export async function trustProxy(pb: PocketBaseServer): Promise<void> {
  const before = await pb.apiJson<{ trustedProxy?: { headers?: unknown; useLeftmostIP?: unknown } }>('/api/settings');
  assert.ok(before.trustedProxy, `PocketBase ${pb.version} settings have no trustedProxy: ${Object.keys(before)}`);
  assert.ok(Array.isArray(before.trustedProxy.headers), 'trustedProxy.headers is not an array');
  assert.equal(typeof before.trustedProxy.useLeftmostIP, 'boolean', 'trustedProxy.useLeftmostIP is not a boolean');
  const after = await pb.apiJson<{ trustedProxy: { headers: string[]; useLeftmostIP: boolean } }>('/api/settings', {
    method: 'PATCH',
    body: { trustedProxy: { headers: ['X-Forwarded-For'], useLeftmostIP: false } },
  });
  assert.deepEqual(after.trustedProxy, { headers: ['X-Forwarded-For'], useLeftmostIP: false });
}

/** The header that makes a request come from 203.0.113.n (after trustProxy()). */
export function fromIp(n: number): Record<string, string> {
  assert.ok(Number.isInteger(n) && n >= 1 && n <= 254, `no test IP ${n}`);
  return { 'x-forwarded-for': `203.0.113.${n}` };
}

// ---------------------------------------------------------------------------------------------
// Bursts

/** Runs fn(0..count-1) with at most `concurrency` in flight; results in index order. */
export async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      results[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** What one request of a burst came back with: an HTTP answer, or a connection error. */
export type Outcome =
  | { kind: 'response'; status: number; headers: Headers; body: string }
  | { kind: 'error'; error: string };

/** Sends one request and reads its body; a network failure becomes { kind: 'error' }. */
export async function attempt(send: () => Promise<Response>): Promise<Outcome> {
  try {
    const res = await send();
    const body = await res.text();
    return { kind: 'response', status: res.status, headers: res.headers, body };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return { kind: 'error', error: e.cause?.code ?? e.cause?.message ?? e.message };
  }
}

export interface Tally {
  requests: number;
  s302: number;
  s429: number;
  s403: number;
  s5xx: number;
  /** Any other status, by status. */
  other: Record<number, number>;
  /** Connection errors (no HTTP answer at all), by error code. */
  errors: Record<string, number>;
}

export function tally(outcomes: Outcome[]): Tally {
  const t: Tally = { requests: outcomes.length, s302: 0, s429: 0, s403: 0, s5xx: 0, other: {}, errors: {} };
  for (const o of outcomes) {
    if (o.kind === 'error') {
      t.errors[o.error] = (t.errors[o.error] ?? 0) + 1;
    } else if (o.status === 302) t.s302++;
    else if (o.status === 429) t.s429++;
    else if (o.status === 403) t.s403++;
    else if (o.status >= 500) t.s5xx++;
    else t.other[o.status] = (t.other[o.status] ?? 0) + 1;
  }
  return t;
}

/** Prints the one-line figure of a scenario: requests, 302s, 429s, 403s, 5xx, records created. */
export function report(pb: PocketBaseServer, scenario: string, t: Tally, recordsCreated: number, extra = ''): void {
  const other = Object.keys(t.other).length ? ` other=${JSON.stringify(t.other)}` : '';
  const errors = Object.keys(t.errors).length ? ` connErrors=${JSON.stringify(t.errors)}` : '';
  console.log(
    `[abuse ${pb.version}] ${scenario}: requests=${t.requests} 302=${t.s302} 429=${t.s429} 403=${t.s403} 5xx=${t.s5xx}${other}${errors} recordsCreated=${recordsCreated}${extra ? ` ${extra}` : ''}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Pages

/** Minimal HTML entity decoding (what EJS's <%= %> escapes, plus numeric references). */
export function htmlDecode(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The decoded text of the demo's `<mark id="error">`, or null when the page has none. */
export function markText(html: string): string | null {
  const match = /<mark id="error">([\s\S]*?)<\/mark>/.exec(html);
  return match ? htmlDecode(match[1]!).trim() : null;
}

// ---------------------------------------------------------------------------------------------
// Database facts (sqlite3 CLI on the data dir)

/** Rows of a collection's table (optionally filtered by a SQL condition); 0 if the table is missing. */
export function countRows(pb: PocketBaseServer, table: string, where = ''): number {
  const exists = sqlite(pb.dataDir, `SELECT name FROM sqlite_master WHERE type = 'table' AND name = '${table.replace(/'/g, "''")}'`);
  if (exists.length === 0) return 0;
  const [row] = sqlite<{ n: number }>(pb.dataDir, `SELECT COUNT(*) AS n FROM [${table}]${where ? ` WHERE ${where}` : ''}`);
  return Number(row?.n ?? 0);
}

/** Guests in `users` (anonymous = true). */
export function countGuests(pb: PocketBaseServer, collection = 'users'): number {
  return countRows(pb, collection, 'anonymous = 1');
}

/** Rows of the plugin's sign-in log. */
export function countSignInLog(pb: PocketBaseServer): number {
  return countRows(pb, SIGN_IN_LOG_TABLE);
}

/** Runs a statement against DATA/auxiliary.db (PocketBase's logs database). */
export function auxSqlite<T = Record<string, unknown>>(dataDir: string, sql: string): T[] {
  const out = execFileSync('sqlite3', ['-json', '-cmd', '.timeout 5000', join(dataDir, 'auxiliary.db'), sql], { encoding: 'utf8' });
  return out.trim() ? (JSON.parse(out) as T[]) : [];
}

/** `PRAGMA integrity_check` of a database file in the data dir ('ok' when healthy). */
export function integrityCheck(dataDir: string, file = 'data.db'): string {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(dataDir, file), 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim();
}

// ---------------------------------------------------------------------------------------------
// Tokens

export type TokenKind = 'authToken' | 'fileToken' | 'verificationToken' | 'passwordResetToken' | 'emailChangeToken';

/** A collection's token secret of one kind (from `_collections.options`, hidden by the API). */
export function collectionSecret(pb: PocketBaseServer, collection: string, kind: TokenKind): string {
  const [row] = sqlite<{ secret: string | null }>(
    pb.dataDir,
    `SELECT json_extract(options, '$.${kind}.secret') AS secret FROM _collections WHERE name = '${collection.replace(/'/g, "''")}'`,
  );
  assert.ok(row?.secret, `no ${kind} secret for collection ${collection}`);
  return row.secret;
}

/** A record's token key. */
export function recordTokenKey(pb: PocketBaseServer, collection: string, id: string): string {
  const [row] = sqlite<{ tokenKey: string }>(pb.dataDir, `SELECT tokenKey FROM [${collection}] WHERE id = '${id.replace(/'/g, "''")}'`);
  assert.ok(row?.tokenKey, `no token key for ${collection}/${id}`);
  return row.tokenKey;
}

/** The key PocketBase signs a record's tokens of `kind` with: the record's token key + the collection's secret. */
export function signingKey(pb: PocketBaseServer, collection: string, id: string, kind: TokenKind): string {
  return recordTokenKey(pb, collection, id) + collectionSecret(pb, collection, kind);
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * A JWT built by hand, so any header can be forged: HS256/HS384/HS512 are signed with `key`,
 * 'none' gets an empty signature.
 */
export function forgeJwt(payload: Record<string, unknown>, key: string, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const alg = String(header.alg);
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  const signature = hash ? createHmac(hash, key).update(signingInput).digest('base64url') : '';
  return `${signingInput}.${signature}`;
}

/** Seconds since the epoch, `offset` seconds from now. */
export function epoch(offsetSeconds = 0): number {
  return Math.floor(Date.now() / 1000) + offsetSeconds;
}

/** A pb_auth cookie value in the SDK's format (URL-encoded JSON {token, record}). */
export function authCookieValue(token: unknown, record: unknown = {}): string {
  return encodeURIComponent(JSON.stringify({ token, record }));
}

/** The claims of a JWT, unverified. */
export function jwtClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  assert.ok(part, 'not a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * Waits until PocketBase has written its buffered logs (app and request logs go to
 * auxiliary.db in batches, every few seconds) up to now, and returns the `_logs` rows: it sends a
 * request to a unique path and polls until that request's log row appears.
 */
export async function flushedLogs(pb: PocketBaseServer, timeoutMs = 15_000): Promise<{ level: number; message: string; data: string }[]> {
  const marker = `/abuse-log-marker-${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
  await (await pb.fetch(marker)).body?.cancel();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = auxSqlite<{ level: number; message: string; data: string }>(pb.dataDir, 'SELECT level, message, data FROM _logs ORDER BY rowid');
    if (rows.some((r) => r.data.includes(marker))) return rows;
    if (Date.now() > deadline) throw new Error(`the request log of ${marker} did not reach _logs within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
