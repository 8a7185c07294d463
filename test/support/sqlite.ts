// Reads a PocketBase data dir's SQLite database with the sqlite3 CLI (installed by .ci/run).
// For facts the HTTP API rightly hides: collection token secrets, token keys, raw timestamps.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Runs one SQL statement against DATA/data.db and returns the rows as objects. */
export function sqlite<T = Record<string, unknown>>(dataDir: string, sql: string): T[] {
  const out = execFileSync('sqlite3', ['-json', '-cmd', '.timeout 5000', join(dataDir, 'data.db'), sql], { encoding: 'utf8' });
  return out.trim() ? (JSON.parse(out) as T[]) : [];
}

/** The HS256 key PocketBase signs a record's auth tokens with: tokenKey + collection secret. */
export function authTokenKey(dataDir: string, collection: string, recordId: string): string {
  const [col] = sqlite<{ secret: string }>(dataDir, `SELECT json_extract(options, '$.authToken.secret') AS secret FROM _collections WHERE name = '${collection}'`);
  const [rec] = sqlite<{ tokenKey: string }>(dataDir, `SELECT tokenKey FROM ${collection} WHERE id = '${recordId.replace(/'/g, "''")}'`);
  if (!col || !rec) throw new Error(`no token key for ${collection}/${recordId}`);
  return rec.tokenKey + col.secret;
}
