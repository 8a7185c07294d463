// @ts-check
// The benchmark's PocketBase servers: started with bench/hooks overlaid on a temp copy of pb_hooks,
// prepared for the scenarios, and filled with data where a scenario needs it.

import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { repoRoot } from '../scripts/pocketbase.mjs'
import { guestMarkerHash } from '../test/support/guest.ts'
import { startPocketBase } from '../test/support/pocketbase.ts'

const FORM = 'application/x-www-form-urlencoded'
const HOOKS_OVERLAY_DIR = path.join(repoRoot, 'bench', 'hooks')
const DAY_MS = 86_400_000

/** Every file under bench/hooks, by its path relative to it. @returns {Record<string, string>} */
export function hooksOverlay() {
  /** @type {Record<string, string>} */
  const overlay = {}
  for (const rel of fs.readdirSync(HOOKS_OVERLAY_DIR, { recursive: true, encoding: 'utf8' })) {
    const file = path.join(HOOKS_OVERLAY_DIR, rel)
    if (fs.statSync(file).isFile()) overlay[rel.split(path.sep).join('/')] = fs.readFileSync(file, 'utf8')
  }
  return overlay
}

/**
 * @typedef {import('./scenarios.mjs').ServerSpec} ServerSpec
 * @typedef {import('../test/support/pocketbase.ts').PocketBaseServer} PocketBaseServer
 * @typedef {{ spec: ServerSpec, pb: PocketBaseServer, target: import('./load.mjs').Target, fillSeconds: number }} BenchServer
 */

/**
 * Starts, prepares and fills one server.
 * @param {ServerSpec} spec @param {{ version: string, concurrency: number }} settings
 * @returns {Promise<BenchServer>}
 */
export async function startServer(spec, settings) {
  const overlay = hooksOverlay()
  if (spec.authFirst) overlay['pages/+config.js'] = authFirstConfig()
  const hooksPool =
    spec.hooksPool === 'pooled' || spec.hooksPool === undefined
      ? Math.max(15, 2 * settings.concurrency)
      : spec.hooksPool
  const pb = await startPocketBase({
    version: settings.version,
    env: spec.env ?? {},
    hooksOverlay: overlay,
    hooksPool,
  })
  try {
    // The upstream path needs public sign-up; the plain insert its collection; the sign-ins a
    // client IP per request from X-Forwarded-For. On this throw-away server only.
    await pb.apiJson('/api/collections/users', { method: 'PATCH', body: { createRule: '' } })
    await pb.apiJson('/api/collections', {
      body: { name: 'bench_rows', type: 'base', fields: [{ name: 'value', type: 'text' }] },
    })
    await pb.apiJson('/api/settings', {
      method: 'PATCH',
      body: { trustedProxy: { headers: ['X-Forwarded-For'], useLeftmostIP: false } },
    })
    const started = Date.now()
    if (spec.fill?.guests) insertGuests(pb.dataDir, spec.fill.guests, { minDaysAgo: 0, maxDaysAgo: 29 })
    if (spec.fill?.staleGuests) insertGuests(pb.dataDir, spec.fill.staleGuests, { minDaysAgo: 31, maxDaysAgo: 90 })
    if (spec.fill?.windowSignIns) await fillWindow(pb, '127.0.0.1', spec.fill.windowSignIns)
    const fillSeconds = (Date.now() - started) / 1000
    const guestCookie = await signInOnce(pb.url)
    return { spec, pb, target: { url: pb.url, pid: pb.pid, guestCookie }, fillSeconds }
  } catch (err) {
    await pb.stop()
    throw err
  }
}

/** The demo's +config.js with pocketpages-plugin-auth's entry moved before this plugin's. */
function authFirstConfig() {
  const file = path.join(repoRoot, 'pb_hooks', 'pages', '+config.js')
  const text = fs.readFileSync(file, 'utf8')
  const auth = "      'pocketpages-plugin-auth',\n"
  const ejs = "      'pocketpages-plugin-ejs',\n"
  if (!text.includes(auth) || !text.includes(ejs)) throw new Error(`${file}: cannot move the auth plugin's entry`)
  const moved = text.replace(auth, '').replace(ejs, `${ejs}${auth}`)
  if (moved.indexOf(auth) > moved.indexOf("name: 'pocketpages-plugin-anonymous'")) {
    throw new Error(`${file}: the auth plugin's entry did not move before this plugin's`)
  }
  return moved
}

/** A guest session through the demo's /login form: `pb_auth=<value>`. @param {string} url */
export async function signInOnce(url) {
  const res = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': FORM, origin: url, 'x-forwarded-for': '198.51.100.7' },
    body: 'mode=anonymous',
  })
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('pb_auth='))
  if (res.status !== 302 || !cookie) {
    throw new Error(`guest sign-in through /login failed: HTTP ${res.status}\n${(await res.text()).slice(0, 500)}`)
  }
  return cookie.split(';')[0] ?? ''
}

/**
 * Inserts `count` guest-shaped users with SQL (one statement, through the sqlite3 CLI): random
 * ids, emails and token keys, password marker hashes made by the core (guestPasswordHash), and a
 * last activity spread over [maxDaysAgo, minDaysAgo] days ago.
 * @param {string} dataDir @param {number} count @param {{ minDaysAgo: number, maxDaysAgo: number }} age
 */
export function insertGuests(dataDir, count, age) {
  const markers = Array.from({ length: 64 }, (_, k) => `(${k}, '${guestMarkerHash()}')`)
  const oldestMs = Date.now() - age.maxDaysAgo * DAY_MS
  const stepMs = Math.floor(((age.maxDaysAgo - age.minDaysAgo) * DAY_MS) / Math.max(1, count))
  const sql = `
    CREATE TEMP TABLE markers (k INTEGER PRIMARY KEY, hash TEXT);
    INSERT INTO markers VALUES ${markers.join(',')};
    WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ${count - 1}),
    rows AS (
      SELECT i, strftime('%Y-%m-%d %H:%M:%f', (${oldestMs} + i * ${stepMs}) / 1000.0, 'unixepoch') || 'Z' AS at FROM seq
    )
    INSERT INTO users (id, email, emailVisibility, verified, password, tokenKey, created, updated, anonymous, lastSeen)
    SELECT substr(lower(hex(randomblob(8))), 1, 15), 'anonymous-' || lower(hex(randomblob(10))) || '@example.com',
           0, 0, markers.hash, hex(randomblob(25)), at, at, 1, at
    FROM rows JOIN markers ON markers.k = rows.i % 64;`
  execFileSync('sqlite3', ['-cmd', '.timeout 30000', path.join(dataDir, 'data.db')], { input: sql, encoding: 'utf8' })
}

/** Rows of a SQL count in the server's data.db. @param {string} dataDir @param {string} where */
export function countUsers(dataDir, where) {
  const out = execFileSync(
    'sqlite3',
    ['-cmd', '.timeout 30000', path.join(dataDir, 'data.db'), `SELECT COUNT(*) FROM users WHERE ${where}`],
    { encoding: 'utf8' },
  )
  return Number(out.trim())
}

/**
 * `count` guest sign-ins from `ip` spread over the rate-limit window that ends now, counted by the
 * plugin's own code (bench route /api/bench/fill-window).
 * @param {PocketBaseServer} pb @param {string} ip @param {number} count
 */
export async function fillWindow(pb, ip, count) {
  const res = await pb.api(`/api/bench/fill-window?ip=${encodeURIComponent(ip)}&count=${count}`, { method: 'POST' })
  if (!res.ok) throw new Error(`fill-window: HTTP ${res.status} ${await res.text()}`)
}

/** The stale-guest condition the cleanup uses (lastSeen older than the default 30 days). */
export function staleWhere() {
  const cutoff = new Date(Date.now() - 30 * DAY_MS).toISOString().replace('T', ' ')
  return `anonymous = 1 AND lastSeen != '' AND lastSeen < '${cutoff}'`
}
