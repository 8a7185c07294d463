// Helpers for the attack suite (test/e2e/attack-*.test.ts, issue 8): demo configs with chosen
// plugin options, client addresses of any kind through the trusted proxy header, database dumps
// and the unkeyed hashes an attacker would try against them, and small statistics.
import assert from 'node:assert/strict'
import { createHash, randomInt } from 'node:crypto'
import { postForm } from './http.ts'
import type { PocketBaseServer } from './pocketbase.ts'
import { sqlite } from './sqlite.ts'

// ---------------------------------------------------------------------------------------------
// Configuration

/**
 * A pb_hooks/pages/+config.js with the demo's plugins and these options for the anonymous plugin.
 * pocketpages-plugin-auth (the demo's password sign-in) is listed when it is installed.
 */
export function pagesConfig(anonymousOptions: Record<string, unknown>): string {
  return `const optional = (name) => {
  try {
    require(name)
    return [name]
  } catch (e) {
    return []
  }
}
module.exports = {
  plugins: [
    'pocketpages-plugin-ejs',
    ...optional('pocketpages-plugin-auth'),
    Object.assign({ name: 'pocketpages-plugin-anonymous' }, ${JSON.stringify(anonymousOptions)}),
  ],
}
`
}

/**
 * A page for the merge and sign-in attacks, independent of the demo's /login: after a password
 * check, `how=merge` calls mergeAnonymousUser(account), `how=signIn` calls signIn({ token }).
 * Errors show in <mark id="error"> (the plugin answers with their status).
 */
export const ACCOUNT_PAGE = `<script server>
  let error = ''
  if (request.method === 'POST') {
    const form = body()
    try {
      let user = null
      try {
        user = $app.findAuthRecordByEmail('users', String(form.email || ''))
      } catch (e) {
        user = null
      }
      if (!user || !user.validatePassword(String(form.password || ''))) {
        error = 'Wrong email or password.'
      } else if (form.how === 'signIn') {
        signIn({ token: user.newAuthToken() })
        redirect('/')
      } else {
        mergeAnonymousUser(user)
        redirect('/')
      }
    } catch (e) {
      error = e.message
    }
  }
</script>
<p><mark id="error"><%= error %></mark></p>
`

/** The account page's path when it is overlaid as pages/attack-account.ejs. */
export const ACCOUNT_PAGE_FILE = 'pages/attack-account.ejs'

export function postAccountPage(
  pb: PocketBaseServer,
  cookie: string | undefined,
  fields: { email: string; password: string; how: 'merge' | 'signIn' },
  headers: Record<string, string> = {},
): Promise<Response> {
  return postForm(`${pb.url}/attack-account`, fields, cookie === undefined ? { headers } : { cookie, headers })
}

// ---------------------------------------------------------------------------------------------
// Client addresses

/** The header that makes a request come from `address` (after trustProxy()). */
export function fromAddress(address: string): Record<string, string> {
  return { 'x-forwarded-for': address }
}

/** Enables PocketBase's batch API (off by default). */
export async function enableBatch(pb: PocketBaseServer): Promise<void> {
  const settings = await pb.apiJson<{ batch: { enabled: boolean } }>('/api/settings', {
    method: 'PATCH',
    body: { batch: { enabled: true, maxRequests: 50, timeout: 10, maxBodySize: 0 } },
  })
  assert.equal(settings.batch.enabled, true, 'batch could not be enabled')
}

/**
 * Reopens PocketBase's own sign-up API on `users` (createRule ""), which the demo's migration
 * 1765000200_demo_close_api_signup.js closes: for tests of what that API does when an app keeps it.
 */
export async function openApiSignUp(pb: PocketBaseServer): Promise<void> {
  const users = await pb.apiJson<{ createRule: string | null }>('/api/collections/users', {
    method: 'PATCH',
    body: { createRule: '' },
  })
  assert.equal(users.createRule, '', 'API sign-up could not be reopened')
}

/** Runs the cleanup once through its superuser route and returns the report. */
export async function runCleanupRoute(pb: PocketBaseServer): Promise<{
  deleted: number
  failed: number
  skipped: number
  byCollection: Record<string, number>
  prunedCounters: number
}> {
  return pb.apiJson('/api/pocketpages-anonymous/cleanup', { method: 'POST' })
}

// ---------------------------------------------------------------------------------------------
// Database dumps and what must not be in them

export interface TableDump {
  file: string
  table: string
  rows: Record<string, unknown>[]
}

/** Every row of every table of DATA/<file>. */
export function dumpDatabase(dataDir: string, file = 'data.db'): TableDump[] {
  const tables = sqlite<{ name: string }>(
    dataDir,
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    file,
  )
  return tables.map(({ name }) => ({ file, table: name, rows: sqlite(dataDir, `SELECT * FROM [${name}]`, file) }))
}

export interface Needle {
  /** What it is, for the failure message. */
  label: string
  /** Searched case-insensitively. */
  text: string
}

/**
 * The text itself and its unkeyed digests an attacker would compute from a guess: SHA-256, SHA-1
 * and MD5, as hex and base64 (standard and URL-safe). Only the first 16 characters of each digest
 * are searched, so a truncated digest is found too.
 */
export function plainAndUnkeyedHashes(text: string): Needle[] {
  const needles: Needle[] = [{ label: `'${text}'`, text }]
  for (const algorithm of ['sha256', 'sha1', 'md5']) {
    const digest = createHash(algorithm).update(text).digest()
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      needles.push({ label: `${algorithm}(${text}) as ${encoding}`, text: digest.toString(encoding).slice(0, 16) })
    }
  }
  return needles
}

/** Every place a needle occurs in the dumps: `file table.column: label`. */
export function findNeedles(dumps: TableDump[], needles: Needle[]): string[] {
  const found: string[] = []
  for (const dump of dumps) {
    for (const row of dump.rows) {
      for (const [column, value] of Object.entries(row)) {
        const haystack = (typeof value === 'string' ? value : JSON.stringify(value)).toLowerCase()
        for (const needle of needles) {
          if (haystack.includes(needle.text.toLowerCase()))
            found.push(`${dump.file} ${dump.table}.${column}: ${needle.label}`)
        }
      }
    }
  }
  return found
}

// ---------------------------------------------------------------------------------------------
// The first plugin version's state

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
/** What bcrypt itself can write last: a salt (16 bytes in 22 characters), a digest (23 bytes in 31). */
const SALT_LAST = '.Oeu'
const DIGEST_LAST = '.CGKOSWaeimquy26'

function randomFrom(alphabet: string, length: number): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('')
}

/**
 * A password hash as the first plugin version wrote for guests: `$2a$10$` and 53 random characters
 * of bcrypt's alphabet. `canonical` forces the rare (1 in 64) case where the salt and digest both
 * end in a character bcrypt itself could write; otherwise at least one of them does not.
 */
export function firstVersionGuestHash(canonical = false): string {
  for (;;) {
    const hash = `$2a$10$${randomFrom(BCRYPT_ALPHABET, 53)}`
    const isCanonical = SALT_LAST.includes(hash[28]!) && DIGEST_LAST.includes(hash[59]!)
    if (!canonical && !isCanonical) return hash
    if (canonical) {
      return `${hash.slice(0, 28)}${randomFrom(SALT_LAST, 1)}${hash.slice(29, 59)}${randomFrom(DIGEST_LAST, 1)}`
    }
  }
}

/** A guest email as the first version made them: `anonymous-` and 20 of [a-z0-9] at example.com. */
export function firstVersionGuestEmail(): string {
  return `anonymous-${randomFrom('abcdefghijklmnopqrstuvwxyz0123456789', 20)}@example.com`
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

// ---------------------------------------------------------------------------------------------
// Statistics

export function median(values: number[]): number {
  assert.ok(values.length > 0, 'median of nothing')
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Milliseconds `fn` took. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now()
  await fn()
  return performance.now() - start
}
