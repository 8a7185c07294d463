// Reads a PocketBase data dir's SQLite databases with the sqlite3 CLI (installed by .ci/run).
// For facts the HTTP API rightly hides: collection token secrets, token keys, raw timestamps,
// and the app logs database.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

/** Runs one SQL statement against DATA/<file> (data.db, or auxiliary.db for logs) and returns the rows. */
export function sqlite<T = Record<string, unknown>>(dataDir: string, sql: string, file = 'data.db'): T[] {
  const out = execFileSync('sqlite3', ['-json', '-cmd', '.timeout 5000', join(dataDir, file), sql], {
    encoding: 'utf8',
  })
  return out.trim() ? (JSON.parse(out) as T[]) : []
}

/** `PRAGMA integrity_check` of a database file in the data dir ('ok' when healthy). */
export function integrityCheck(dataDir: string, file = 'data.db'): string {
  return sqlite<{ integrity_check: string }>(dataDir, 'PRAGMA integrity_check', file)
    .map((row) => row.integrity_check)
    .join('\n')
}

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}

/** The token kinds of an auth collection, each with its own secret in `_collections.options`. */
export type TokenKind = 'authToken' | 'fileToken' | 'verificationToken' | 'passwordResetToken' | 'emailChangeToken'

/** A collection's token secret of one kind. */
export function collectionSecret(dataDir: string, collection: string, kind: TokenKind): string {
  const [row] = sqlite<{ secret: string | null }>(
    dataDir,
    `SELECT json_extract(options, '$.${kind}.secret') AS secret FROM _collections WHERE name = ${quote(collection)}`,
  )
  assert.ok(row?.secret, `no ${kind} secret for collection ${collection}`)
  return row.secret
}

/** A record's token key. */
export function recordTokenKey(dataDir: string, collection: string, recordId: string): string {
  const [row] = sqlite<{ tokenKey: string }>(
    dataDir,
    `SELECT tokenKey FROM [${collection}] WHERE id = ${quote(recordId)}`,
  )
  assert.ok(row?.tokenKey, `no token key for ${collection}/${recordId}`)
  return row.tokenKey
}

/** The HS256 key PocketBase signs a record's tokens of `kind` with: token key + collection secret. */
export function signingKey(
  dataDir: string,
  collection: string,
  recordId: string,
  kind: TokenKind = 'authToken',
): string {
  return recordTokenKey(dataDir, collection, recordId) + collectionSecret(dataDir, collection, kind)
}
