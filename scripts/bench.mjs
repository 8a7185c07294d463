// @ts-check
// Benchmark (npm run bench = build, then `node --import tsx scripts/bench.mjs`; tsx loads the
// TypeScript harness in test/support). ONE PocketBase server (the newest supported version, or
// env POCKETBASE_VERSION), every scenario against it, measured side by side:
//
//   a          guest sign-in through the demo's /login form (POST mode=anonymous); a success is a
//              302 that sets a non-empty pb_auth cookie. A sample of those cookies is checked
//              afterwards: their token must pass PocketBase's own /auth-refresh.
//   b          what the upstream PocketPages auth plugin does today, over REST: per sign-in TWO
//              requests in sequence, create a user with a random 40-digit password, then
//              auth-with-password (two bcrypt computations). One pair = one sign-in.
//   c          the floor: one record insert into a plain base collection (bench-only route).
//   d_with     GET / with a valid guest cookie (reads and verifies the session, renders the user)
//   d_without  GET / without a cookie
//   diagnostics (env BENCH_DIAGNOSTICS=0 skips them) that split what bounds (a) and (d):
//   a_one_ip   (a) with every sign-in from the same client IP
//   a_direct   the plugin's signInAnonymously() from a bare route: no PocketPages page, no EJS
//   a_raw      the same database work written by hand (no plugin code)
//   a_insert   only the guest insert + token + cookie (no transaction, no rate-limit row)
//   d_page_with / d_page_without   a bench-only page whose output is the same signed in or out
//   d_verify / d_noop              PocketBase's findAuthRecordByToken vs an empty route
//   plus micro-timings inside one JS VM (/api/bench/micro) after the load.
// The bench-only routes and page live in bench/hooks/, overlaid on a temp copy of pb_hooks.
//
// Load: wrk (C, one thread) at fixed concurrency for a fixed time; (b) by a Node client loop at
// the same concurrency (its cost is bcrypt, a few dozen requests/s, so the client is no factor).
// The machine is small and shared with the load generator, so only ratios measured here, in one
// run, mean anything. Scenarios run in rounds, the order reversed every round (ABC CBA) so that
// drift cancels, after one warm-up pass.
//
// Rate limits: ANONYMOUS_RATE_LIMIT_PER_IP=100000000, so the limit never refuses anyone. The
// limit's bookkeeping still runs: each sign-in counts its client IP's sign-ins in the window.
// With one client IP that count grows with every sign-in of the run, which a real site never
// sees (30 per IP per hour by default), so the sign-in scenarios send a distinct client IP per
// request in X-Forwarded-For, which the bench server (only) is told to trust; a_one_ip shows
// the single-IP case.
//
// Usage: npm run bench [-- --quick]
//   --quick                 smoke run: 3 s per scenario, 1 round, 1 s warm-up; results go to a
//                           temp dir, not bench/
// Env: BENCH_CONCURRENCY (16), BENCH_SECONDS (10), BENCH_ROUNDS (2), BENCH_WARMUP_SECONDS (3),
//      BENCH_HOOKS_POOL (2 × concurrency, at least 15), BENCH_DIAGNOSTICS (1),
//      BENCH_ONLY (comma list of scenario ids), BENCH_OUT_DIR (bench/),
//      POCKETBASE_VERSION (newest in package.json)
// Output: a table on stdout; bench/results.json, bench/results.md, bench/chart.png (or
// bench/chart.svg when Chromium is missing).

import { execFileSync, spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { startPocketBase } from '../test/support/pocketbase.ts'
import { newestVersion, repoRoot } from './pocketbase.mjs'

// ---------------------------------------------------------------------------------------------
// Settings

const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
for (const arg of argv) {
  if (arg !== '--quick') {
    console.error(`scripts/bench.mjs: unknown argument ${arg} (only --quick)`)
    process.exit(2)
  }
}

/** @param {string} name @param {number} fallback */
function envNumber(name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`)
  return value
}

const RATE_LIMIT_PER_IP = '100000000'
const settings = {
  concurrency: Math.round(envNumber('BENCH_CONCURRENCY', 16)),
  // wrk takes whole seconds.
  seconds: Math.max(1, Math.round(envNumber('BENCH_SECONDS', quick ? 3 : 10))),
  rounds: Math.round(envNumber('BENCH_ROUNDS', quick ? 1 : 2)),
  warmupSeconds: Math.max(1, Math.round(envNumber('BENCH_WARMUP_SECONDS', quick ? 1 : 3))),
  wrkThreads: 1,
  diagnostics: process.env.BENCH_DIAGNOSTICS !== '0',
  only: (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  version: process.env.POCKETBASE_VERSION || newestVersion(),
  hooksPool: 0,
}
// PocketBase runs JS handlers on a pool of prewarmed goja VMs (--hooksPool, default 15). When all
// are busy it builds a throw-away VM for the request (plugins/jsvm/pool.go), which costs far more
// than the request itself. 16 connections against 15 VMs would measure that edge, not the code.
settings.hooksPool = Math.round(envNumber('BENCH_HOOKS_POOL', Math.max(15, 2 * settings.concurrency)))
const outDir = quick
  ? fs.mkdtempSync(path.join(os.tmpdir(), 'bench-quick-'))
  : path.resolve(process.env.BENCH_OUT_DIR || path.join(repoRoot, 'bench'))
const TARGETS = { a_over_b: 50, a_over_c: 0.6, d_with_over_without: 0.8 }
const QUANTILE_GRID = 400
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
const LUA_SCRIPT = path.join(repoRoot, 'bench', 'wrk', 'scenario.lua')
const HOOKS_OVERLAY_DIR = path.join(repoRoot, 'bench', 'hooks')
const FORM = 'application/x-www-form-urlencoded'

// ---------------------------------------------------------------------------------------------
// Scenarios

/**
 * @typedef {{
 *   id: string, title: string, what: string, unit: string, diagnostic: boolean, chart?: string,
 *   kind: 'wrk' | 'rest-pair',
 *   method?: string, path?: string, body?: string, contentType?: string, origin?: boolean,
 *   xff?: boolean, cookie?: boolean, expectStatus?: number, expectCookie?: string, expectBody?: string,
 *   samples?: number,
 * }} Scenario
 */

/** @type {Scenario[]} */
const ALL_SCENARIOS = [
  {
    id: 'a',
    title: 'a. guest sign-in, /login form',
    chart: 'a. guest sign-in (/login)',
    unit: 'sign-ins/s',
    diagnostic: false,
    kind: 'wrk',
    what: 'POST /login mode=anonymous → 302 + pb_auth cookie (one insert, no bcrypt)',
    method: 'POST',
    path: '/login',
    body: 'mode=anonymous',
    contentType: FORM,
    origin: true,
    xff: true,
    expectStatus: 302,
    expectCookie: 'pb_auth',
    samples: 4,
  },
  {
    id: 'b',
    title: 'b. upstream auth plugin path (REST)',
    chart: 'b. upstream: create + auth-with-password',
    unit: 'sign-ins/s',
    diagnostic: false,
    kind: 'rest-pair',
    what: 'POST /api/collections/users/records, then auth-with-password (2 × bcrypt, cost 10)',
  },
  {
    id: 'c',
    title: 'c. floor: one insert',
    chart: 'c. floor: one record insert',
    unit: 'inserts/s',
    diagnostic: false,
    kind: 'wrk',
    what: 'bench-only route: one record into a plain base collection → 204',
    method: 'POST',
    path: '/bench/insert',
    expectStatus: 204,
  },
  {
    id: 'd_with',
    title: 'd. GET / with guest cookie',
    chart: 'd. GET / with guest cookie',
    unit: 'req/s',
    diagnostic: false,
    kind: 'wrk',
    what: 'home page, cookie verified, user rendered → 200',
    method: 'GET',
    path: '/',
    cookie: true,
    expectStatus: 200,
    expectBody: 'id="user-id"',
  },
  {
    id: 'd_without',
    title: 'd. GET / without cookie',
    chart: 'd. GET / without cookie',
    unit: 'req/s',
    diagnostic: false,
    kind: 'wrk',
    what: 'home page, signed out → 200',
    method: 'GET',
    path: '/',
    expectStatus: 200,
    expectBody: 'id="signed-out"',
  },
  {
    id: 'a_one_ip',
    title: '(a) from ONE client IP',
    unit: 'sign-ins/s',
    diagnostic: true,
    kind: 'wrk',
    what: 'as (a), but all sign-ins from 127.0.0.1: the window count grows all run',
    method: 'POST',
    path: '/login',
    body: 'mode=anonymous',
    contentType: FORM,
    origin: true,
    xff: false,
    expectStatus: 302,
    expectCookie: 'pb_auth',
  },
  {
    id: 'a_direct',
    title: 'plugin without page',
    unit: 'sign-ins/s',
    diagnostic: true,
    kind: 'wrk',
    what: "bench route calling the plugin's signInAnonymously(): no PocketPages host, no EJS",
    method: 'POST',
    path: '/bench/guest-direct',
    origin: true,
    xff: true,
    expectStatus: 302,
    expectCookie: 'pb_auth',
  },
  {
    id: 'a_raw',
    title: 'same DB work by hand',
    unit: 'sign-ins/s',
    diagnostic: true,
    kind: 'wrk',
    what: 'bench route, no plugin: 1 transaction (window count + log row + guest insert), token, cookie',
    method: 'POST',
    path: '/bench/guest-raw',
    xff: true,
    expectStatus: 302,
    expectCookie: 'pb_auth',
  },
  {
    id: 'a_insert',
    title: 'guest insert only',
    unit: 'sign-ins/s',
    diagnostic: true,
    kind: 'wrk',
    what: 'bench route: the guest insert + token + cookie, no transaction, no rate-limit row',
    method: 'POST',
    path: '/bench/guest-insert',
    expectStatus: 302,
    expectCookie: 'pb_auth',
  },
  {
    id: 'd_page_with',
    title: 'tiny page, with cookie',
    unit: 'req/s',
    diagnostic: true,
    kind: 'wrk',
    what: 'bench-only page printing only signed-in/out, with the guest cookie',
    method: 'GET',
    path: '/bench-session',
    cookie: true,
    expectStatus: 200,
    expectBody: 'id="bench-session">signed-in<',
  },
  {
    id: 'd_page_without',
    title: 'tiny page, no cookie',
    unit: 'req/s',
    diagnostic: true,
    kind: 'wrk',
    what: 'the same page without a cookie',
    method: 'GET',
    path: '/bench-session',
    expectStatus: 200,
    expectBody: 'id="bench-session">signed-out<',
  },
  {
    id: 'd_verify',
    title: "PocketBase's token check",
    unit: 'req/s',
    diagnostic: true,
    kind: 'wrk',
    what: 'bench route, no plugin: parse the cookie, $app.findAuthRecordByToken → 200',
    method: 'GET',
    path: '/api/bench/verify-token',
    cookie: true,
    expectStatus: 200,
    expectBody: 'verified ',
  },
  {
    id: 'd_noop',
    title: 'empty JS route',
    unit: 'req/s',
    diagnostic: true,
    kind: 'wrk',
    what: 'bench route returning "ok", same cookie sent: the floor for d_verify',
    method: 'GET',
    path: '/api/bench/noop',
    cookie: true,
    expectStatus: 200,
    expectBody: 'ok',
  },
]

const scenarios = ALL_SCENARIOS.filter((s) =>
  settings.only.length > 0 ? settings.only.includes(s.id) : settings.diagnostics || !s.diagnostic,
)
if (scenarios.length === 0)
  throw new Error(
    `BENCH_ONLY=${process.env.BENCH_ONLY} matches no scenario (${ALL_SCENARIOS.map((s) => s.id).join(', ')})`,
  )

// ---------------------------------------------------------------------------------------------
// Small helpers

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const log = (/** @type {string} */ line) => process.stderr.write(`[bench] ${line}\n`)

/** @param {string} cmd @param {string[]} args */
function commandOutput(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
  } catch (err) {
    const e = /** @type {{ stdout?: string, stderr?: string }} */ (err)
    return `${e.stdout ?? ''}${e.stderr ?? ''}`.trim()
  }
}

/** @param {number} pid @returns {Record<string, number>} kB values of /proc/<pid>/status */
function procStatus(pid) {
  /** @type {Record<string, number>} */
  const out = {}
  try {
    for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const m = /^(Vm\w+|Rss\w+):\s+(\d+) kB/.exec(line)
      if (m) out[m[1]] = Number(m[2])
    }
  } catch {
    // process gone
  }
  return out
}

/** @param {number} pid CPU seconds (user + system) of a process so far. */
function processCpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK // utime, stime (fields 14, 15)
  } catch {
    return NaN
  }
}

/** Machine-wide CPU ticks: busy and total. */
function machineTicks() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  const idle = (v[3] ?? 0) + (v[4] ?? 0) // idle + iowait
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0) // without guest (already in user)
  return { busy: total - idle, total }
}

/** Quantiles on the uniform grid (k - 0.5) / K of a list of values. @param {number[]} values */
function gridQuantiles(values) {
  if (values.length === 0) return []
  const sorted = [...values].sort((x, y) => x - y)
  return Array.from(
    { length: QUANTILE_GRID },
    (_, k) => sorted[Math.min(sorted.length - 1, Math.floor(((k + 0.5) / QUANTILE_GRID) * sorted.length))],
  )
}

/**
 * Merges runs given as grid quantiles (each grid point carries 1/K of its run's requests) and
 * returns quantile p (0..1) of the merged distribution.
 * @param {{ n: number, q: number[] }[]} runs @param {number} p
 */
function mergedQuantile(runs, p) {
  /** @type {[number, number][]} */
  const points = []
  for (const run of runs) for (const v of run.q) points.push([v, run.n / run.q.length])
  if (points.length === 0) return NaN
  points.sort((x, y) => x[0] - y[0])
  const total = points.reduce((s, [, w]) => s + w, 0)
  let acc = 0
  for (const [v, w] of points) {
    acc += w
    if (acc >= p * total - 1e-9) return v
  }
  return points[points.length - 1]?.[0] ?? NaN
}

// ---------------------------------------------------------------------------------------------
// Load generators

/**
 * @typedef {{
 *   seconds: number, requests: number, ok: number,
 *   status: { s1xx: number, s2xx: number, s3xx: number, s4xx: number, s5xx: number },
 *   socket: { connect: number, read: number, write: number, timeout: number },
 *   q: number[], samples: string[],
 * }} RunResult
 */

let ipRun = 0

/**
 * @param {Scenario} s @param {{ url: string, guestCookie: string }} ctx @param {number} seconds
 * @param {{ start: () => void, end: () => void }} window called when the measured window starts and ends
 * @returns {Promise<RunResult>}
 */
function runWrk(s, ctx, seconds, window) {
  // A new first octet per run keeps every run's client IPs apart from all earlier ones.
  ipRun = (ipRun % 222) + 1
  /** @type {Record<string, string>} */
  const env = {
    BENCH_METHOD: s.method ?? 'GET',
    BENCH_BODY: s.body ?? '',
    BENCH_CONTENT_TYPE: s.contentType ?? '',
    BENCH_ORIGIN: s.origin ? ctx.url : '',
    BENCH_COOKIE: s.cookie ? ctx.guestCookie : '',
    BENCH_XFF: s.xff ? '1' : '0',
    BENCH_IP_BASE: String(ipRun),
    BENCH_EXPECT_STATUS: String(s.expectStatus ?? 0),
    BENCH_EXPECT_COOKIE: s.expectCookie ?? '',
    BENCH_EXPECT_BODY: s.expectBody ?? '',
    BENCH_SAMPLES: String(s.samples ?? 0),
    BENCH_QUANTILES: String(QUANTILE_GRID),
  }
  const args = [
    `-t${settings.wrkThreads}`,
    `-c${settings.concurrency}`,
    `-d${seconds}s`,
    '--timeout',
    '10s',
    '-s',
    LUA_SCRIPT,
    `${ctx.url}${s.path}`,
  ]
  return new Promise((resolve, reject) => {
    window.start()
    const child = spawn('wrk', args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
    child.once('error', reject)
    child.once('exit', (code) => {
      window.end()
      const line = stdout.split('\n').find((l) => l.startsWith('BENCHJSON '))
      if (code !== 0 || !line) {
        reject(new Error(`wrk ${args.join(' ')} exited with ${code}:\n${stdout}${stderr}`))
        return
      }
      const j = JSON.parse(line.slice('BENCHJSON '.length))
      const sampleBlock = /BENCHSAMPLES\n([\s\S]*?)BENCHSAMPLES END/.exec(stdout)?.[1] ?? ''
      resolve({
        seconds: j.duration_us / 1e6,
        requests: j.requests,
        ok: j.ok,
        status: { s1xx: j.s1xx, s2xx: j.s2xx, s3xx: j.s3xx, s4xx: j.s4xx, s5xx: j.s5xx },
        socket: j.socket,
        q: j.quantiles_us.map((/** @type {number} */ us) => us / 1000),
        samples: sampleBlock.split('\n').filter(Boolean),
      })
    })
  })
}

/** 40 random decimal digits. */
function randomDigits40() {
  let out = ''
  while (out.length < 40) {
    for (const byte of crypto.randomBytes(48)) if (byte < 250 && out.length < 40) out += String(byte % 10)
  }
  return out
}

/**
 * (b): `concurrency` clients, each looping create-user → auth-with-password on keep-alive
 * connections. A pair takes about a second here, so the clients start a ramp (a third of the
 * window, at most 2 s) before the measured window; only pairs that finish inside it count.
 * @param {{ url: string }} ctx @param {number} seconds @param {{ start: () => void, end: () => void }} window
 * @returns {Promise<RunResult>}
 */
async function runRestPairs(ctx, seconds, window) {
  const status = { s1xx: 0, s2xx: 0, s3xx: 0, s4xx: 0, s5xx: 0 }
  const socket = { connect: 0, read: 0, write: 0, timeout: 0 }
  /** @type {number[]} */
  const latencies = []
  /** @type {string[]} */
  const samples = []
  let requests = 0
  let ok = 0
  /** @param {number} code */
  const countStatus = (code) => {
    const key = /** @type {keyof typeof status} */ (`s${Math.floor(code / 100)}xx`)
    if (key in status) status[key]++
  }
  /** @param {string} urlPath @param {unknown} body */
  const post = async (urlPath, body) => {
    const res = await fetch(ctx.url + urlPath, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    })
    const text = await res.text()
    return { status: res.status, text }
  }
  const rampMs = Math.min(2000, (seconds * 1000) / 3)
  const windowStart = performance.now() + rampMs
  const deadline = windowStart + seconds * 1000
  const startTimer = setTimeout(window.start, rampMs)
  const endTimer = setTimeout(window.end, rampMs + seconds * 1000)
  const client = async () => {
    while (performance.now() < deadline) {
      const email = `upstream-${crypto.randomBytes(10).toString('hex')}@example.com`
      const password = randomDigits40()
      const t0 = performance.now()
      try {
        const created = await post('/api/collections/users/records', { email, password, passwordConfirm: password })
        requests++
        countStatus(created.status)
        if (created.status !== 200) continue
        const auth = await post('/api/collections/users/auth-with-password', { identity: email, password })
        requests++
        countStatus(auth.status)
        const t1 = performance.now()
        if (t1 > deadline) break
        if (t1 < windowStart) continue
        const token = auth.status === 200 ? JSON.parse(auth.text)?.token : undefined
        if (typeof token === 'string' && token) {
          ok++
          latencies.push(t1 - t0)
          if (samples.length < 4 && ok % 50 === 1) samples.push(token)
        }
      } catch (err) {
        const name = /** @type {Error} */ (err).name
        if (name === 'TimeoutError') socket.timeout++
        else socket.read++
        await sleep(10)
      }
    }
  }
  await Promise.all(Array.from({ length: settings.concurrency }, client))
  clearTimeout(startTimer)
  clearTimeout(endTimer)
  return { seconds, requests, ok, status, socket, q: gridQuantiles(latencies), samples }
}

// ---------------------------------------------------------------------------------------------
// Measurement bookkeeping

/** Samples PocketBase's VmRSS every 250 ms; `mark` attributes samples to the running scenario. */
function startMemorySampler(/** @type {number} */ pid) {
  let current = ''
  let maxKb = 0
  let count = 0
  /** @type {Record<string, number>} */
  const perScenario = {}
  const startKb = procStatus(pid).VmRSS ?? 0
  const timer = setInterval(() => {
    const rss = procStatus(pid).VmRSS
    if (rss === undefined) return
    count++
    maxKb = Math.max(maxKb, rss)
    if (current) perScenario[current] = Math.max(perScenario[current] ?? 0, rss)
  }, 250)
  return {
    mark: (/** @type {string} */ id) => (current = id),
    stop: () => {
      clearInterval(timer)
      return { startKb, maxKb, count, perScenario }
    },
  }
}

/**
 * Runs one measurement with CPU accounting around it.
 * @param {Scenario} s @param {{ url: string, guestCookie: string, pid: number }} ctx @param {number} seconds
 */
async function measure(s, ctx, seconds) {
  const snapshot = () => ({ cpu: processCpuSeconds(ctx.pid), ticks: machineTicks(), t: performance.now() })
  let first = snapshot()
  /** @type {ReturnType<typeof snapshot> | undefined} */
  let last
  const window = {
    start: () => (first = snapshot()),
    end: () => (last = snapshot()),
  }
  const result =
    s.kind === 'rest-pair' ? await runRestPairs(ctx, seconds, window) : await runWrk(s, ctx, seconds, window)
  last ??= snapshot()
  const wall = (last.t - first.t) / 1000
  const cpu0 = first.cpu
  const cpu1 = last.cpu
  const m0 = first.ticks
  const m1 = last.ticks
  return {
    ...result,
    pbCpuSeconds: cpu1 - cpu0,
    wallSeconds: wall,
    machineBusy: (m1.busy - m0.busy) / Math.max(1, m1.total - m0.total),
  }
}

/** @typedef {Awaited<ReturnType<typeof measure>>} Measured */

/** @param {Scenario} s @param {Measured[]} runs */
function summarize(s, runs) {
  const seconds = runs.reduce((a, r) => a + r.seconds, 0)
  const ok = runs.reduce((a, r) => a + r.ok, 0)
  const requests = runs.reduce((a, r) => a + r.requests, 0)
  /** @type {Record<string, number>} */
  const status = {}
  /** @type {Record<string, number>} */
  const socket = {}
  for (const r of runs) {
    for (const [k, v] of Object.entries(r.status)) status[k] = (status[k] ?? 0) + v
    for (const [k, v] of Object.entries(r.socket)) socket[k] = (socket[k] ?? 0) + v
  }
  const socketErrors = Object.values(socket).reduce((a, b) => a + b, 0)
  const errorResponses = (status.s1xx ?? 0) + (status.s4xx ?? 0) + (status.s5xx ?? 0)
  const rps = ok / seconds
  const pbCpu = runs.reduce((a, r) => a + r.pbCpuSeconds, 0)
  const wall = runs.reduce((a, r) => a + r.wallSeconds, 0)
  const qs = runs.map((r) => ({ n: s.kind === 'rest-pair' ? r.ok : r.requests, q: r.q }))
  return {
    id: s.id,
    title: s.title,
    what: s.what,
    unit: s.unit,
    diagnostic: s.diagnostic,
    rate: round(rps, 1),
    p50Ms: round(mergedQuantile(qs, 0.5), 2),
    p99Ms: round(mergedQuantile(qs, 0.99), 2),
    // A sign-in of (b) is two requests; its latency is the pair's.
    latencyOf: s.kind === 'rest-pair' ? 'pair' : 'request',
    successes: ok,
    requests,
    seconds: round(seconds, 2),
    // Responses that are not a success (wrong status, no cookie, wrong page) + socket errors.
    // (b): a pair fails on its first non-200 answer; pairs in flight at the deadline are neither.
    failed: (s.kind === 'rest-pair' ? nonSuccessStatuses(status) : requests - ok) + socketErrors,
    errorResponses,
    socketErrors,
    status,
    socket,
    pbCpuMsPerOp: round((pbCpu / Math.max(1, ok)) * 1000, 3),
    pbCores: round(pbCpu / wall, 2),
    machineBusy: round(runs.reduce((a, r) => a + r.machineBusy * r.wallSeconds, 0) / wall, 3),
    rounds: runs.map((r) => round(r.ok / r.seconds, 1)),
  }
}

/** @param {Record<string, number>} status */
function nonSuccessStatuses(status) {
  return (status.s1xx ?? 0) + (status.s3xx ?? 0) + (status.s4xx ?? 0) + (status.s5xx ?? 0)
}

/** "b, round 2" for the sampler key with the highest RSS. @param {Record<string, number>} perScenario */
function peakDuring(perScenario) {
  const [key] = Object.entries(perScenario).sort((x, y) => y[1] - x[1])[0] ?? ['?']
  const [id, r] = key.split('#')
  return id?.startsWith('warmup:') ? `the warm-up of ${id.slice(7)}` : `${id}, round ${Number(r) + 1}`
}

/** @param {number} v @param {number} digits */
function round(v, digits) {
  if (!Number.isFinite(v)) return null
  const f = 10 ** digits
  return Math.round(v * f) / f
}

// ---------------------------------------------------------------------------------------------
// Server setup and checks

/** @param {import('../test/support/pocketbase.ts').PocketBaseServer} pb */
async function prepareServer(pb) {
  // (b) needs public sign-up; (c) needs its collection; the sign-in scenarios need the client
  // IP from X-Forwarded-For. All on this throwaway server only.
  await pb.apiJson('/api/collections/users', { method: 'PATCH', body: { createRule: '' } })
  await pb.apiJson('/api/collections', {
    body: { name: 'bench_rows', type: 'base', fields: [{ name: 'value', type: 'text' }] },
  })
  await pb.apiJson('/api/settings', {
    method: 'PATCH',
    body: { trustedProxy: { headers: ['X-Forwarded-For'], useLeftmostIP: false } },
  })
  const users = /** @type {{ fields: { name: string, type: string, cost?: number }[] }} */ (
    await pb.apiJson('/api/collections/users')
  )
  const cost = users.fields.find((f) => f.type === 'password')?.cost
  return { bcryptCost: cost && cost > 0 ? cost : 10 }
}

/** @param {string} url */
async function signInOnce(url) {
  const res = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': FORM, origin: url, 'x-forwarded-for': '198.51.100.7' },
    body: 'mode=anonymous',
  })
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('pb_auth='))
  if (res.status !== 302 || !cookie) {
    throw new Error(
      `guest sign-in through /login failed: HTTP ${res.status}, Set-Cookie ${JSON.stringify(res.headers.getSetCookie())}\n${(await res.text()).slice(0, 500)}`,
    )
  }
  return cookie.split(';')[0] ?? ''
}

/**
 * One request per wrk scenario before any load, with the same success rule: a broken scenario
 * must fail loudly, not produce a fast table of errors.
 * @param {Scenario} s @param {{ url: string, guestCookie: string }} ctx
 */
async function checkScenario(s, ctx) {
  if (s.kind === 'rest-pair') {
    const email = `check-${crypto.randomBytes(6).toString('hex')}@example.com`
    const password = randomDigits40()
    const created = await fetch(`${ctx.url}/api/collections/users/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password, passwordConfirm: password }),
    })
    const auth = await fetch(`${ctx.url}/api/collections/users/auth-with-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity: email, password }),
    })
    if (created.status !== 200 || auth.status !== 200)
      return `create ${created.status} ${await created.text()}, auth ${auth.status} ${await auth.text()}`
    return null
  }
  /** @type {Record<string, string>} */
  const headers = {}
  if (s.contentType) headers['content-type'] = s.contentType
  if (s.origin) headers.origin = ctx.url
  if (s.cookie) headers.cookie = ctx.guestCookie
  if (s.xff) headers['x-forwarded-for'] = '198.51.100.8'
  const res = await fetch(ctx.url + s.path, { method: s.method, headers, body: s.body ?? null, redirect: 'manual' })
  const text = await res.text()
  const problems = []
  if (s.expectStatus && res.status !== s.expectStatus) problems.push(`HTTP ${res.status}, expected ${s.expectStatus}`)
  if (s.expectCookie && !res.headers.getSetCookie().some((c) => new RegExp(`^${s.expectCookie}=[^;]+`).test(c)))
    problems.push(`no ${s.expectCookie} cookie`)
  if (s.expectBody && !text.includes(s.expectBody)) problems.push(`body lacks ${s.expectBody}`)
  return problems.length ? `${problems.join('; ')}: ${text.slice(0, 300)}` : null
}

/**
 * Runs the bench route /api/bench/micro three times (no load) and keeps each timing's median.
 * @param {string} url @param {string} guestCookie @returns {Promise<Record<string, number> | null>}
 */
async function microTimings(url, guestCookie) {
  /** @type {Record<string, number[]>} */
  const all = {}
  try {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url}/api/bench/micro?n=1000`, { headers: { cookie: guestCookie } })
      if (!res.ok) throw new Error(`HTTP ${res.status} ${await res.text()}`)
      for (const [k, v] of Object.entries(/** @type {Record<string, number>} */ (await res.json()))) {
        all[k] ??= []
        all[k].push(v)
      }
    }
  } catch (err) {
    log(`micro-timings failed: ${/** @type {Error} */ (err).message}`)
    return null
  }
  return Object.fromEntries(
    Object.entries(all).map(([k, v]) => [
      k,
      round([...v].sort((x, y) => x - y)[Math.floor(v.length / 2)] ?? NaN, 1) ?? NaN,
    ]),
  )
}

/**
 * Checks sampled pb_auth cookies of (a) and tokens of (b) with PocketBase's own auth-refresh.
 * @param {string} url @param {string[]} cookies @param {string[]} tokens
 */
async function verifySamples(url, cookies, tokens) {
  /** @param {string} token @param {string | undefined} id */
  const check = async (token, id) => {
    const res = await fetch(`${url}/api/collections/users/auth-refresh`, {
      method: 'POST',
      headers: { authorization: token },
    })
    if (res.status !== 200) return false
    const body = /** @type {{ record?: { id?: string } }} */ (await res.json())
    return id === undefined || body.record?.id === id
  }
  let cookiesValid = 0
  for (const value of cookies) {
    try {
      const parsed = JSON.parse(decodeURIComponent(value))
      if (await check(parsed.token, parsed.record?.id)) cookiesValid++
    } catch {
      // counted as invalid
    }
  }
  let tokensValid = 0
  for (const token of tokens) if (await check(token, undefined)) tokensValid++
  return { cookiesChecked: cookies.length, cookiesValid, tokensChecked: tokens.length, tokensValid }
}

// ---------------------------------------------------------------------------------------------
// Reporting

/** @param {number | null | undefined} v */
function fmtRate(v) {
  if (v === null || v === undefined) return '–'
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1)
}
/** @param {number | null | undefined} v */
function fmtMs(v) {
  if (v === null || v === undefined) return '–'
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)
}
/** @param {number | null | undefined} v */
function fmtRatio(v) {
  if (v === null || v === undefined) return '–'
  return v >= 10 ? `${v.toFixed(0)}×` : `${v.toFixed(2)}×`
}

/** @param {string[][]} rows */
function textTable(rows) {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  return rows
    .map((r, ri) => {
      const line = r
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join('  ')
      return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line
    })
    .join('\n')
}

/** @param {ReturnType<typeof summarize>} r */
function errorCell(r) {
  const parts = []
  if (r.failed === 0) return '0'
  parts.push(String(r.failed))
  const detail = []
  if (r.errorResponses) detail.push(`${r.errorResponses} non-2xx/3xx`)
  if (r.socketErrors) detail.push(`${r.socketErrors} socket`)
  return detail.length ? `${parts[0]} (${detail.join(', ')})` : (parts[0] ?? '')
}

/**
 * @param {Record<string, Summary>} results
 * @param {Record<string, { value: number | null, target: number, met: boolean | null, label: string, byPbCpuPerOp: number | null }>} ratios
 * @param {any} meta @param {Record<string, number> | null} micro
 */
function stdoutReport(results, ratios, meta, micro) {
  const rows = [
    [
      'scenario',
      'rate',
      'unit',
      'p50 ms',
      'p99 ms',
      'successes',
      'errors',
      'PB CPU ms/op',
      'PB cores',
      'machine busy',
      'per round',
    ],
  ]
  for (const r of Object.values(results)) {
    rows.push([
      `${r.diagnostic ? '  ' : ''}${r.id} ${r.title}`,
      fmtRate(r.rate),
      r.unit,
      fmtMs(r.p50Ms),
      fmtMs(r.p99Ms),
      String(r.successes),
      errorCell(r),
      r.pbCpuMsPerOp?.toFixed(2) ?? '–',
      r.pbCores?.toFixed(2) ?? '–',
      `${Math.round((r.machineBusy ?? 0) * 100)}%`,
      r.rounds.map((v) => fmtRate(v)).join(' / '),
    ])
  }
  const ratioRows = [['ratio', 'measured', 'target', '', 'by PB CPU/op']]
  for (const r of Object.values(ratios)) {
    ratioRows.push([
      r.label,
      fmtRatio(r.value),
      `>= ${r.target}×`,
      r.met === null ? 'n/a' : r.met ? 'met' : 'MISSED',
      fmtRatio(r.byPbCpuPerOp),
    ])
  }
  return [
    '',
    `PocketBase ${meta.pocketbase} on ${meta.nproc} CPUs (${meta.cpuModel}), node ${meta.node}, ${meta.wrk}`,
    `${settings.concurrency} connections, ${settings.rounds} round(s) × ${settings.seconds} s per scenario (order reversed each round), ${settings.warmupSeconds} s warm-up each, --hooksPool=${settings.hooksPool}`,
    `ANONYMOUS_RATE_LIMIT_PER_IP=${RATE_LIMIT_PER_IP} (limits never refuse); sign-ins send a distinct X-Forwarded-For client IP each, except a_one_ip`,
    '',
    textTable(rows),
    '',
    textTable(ratioRows),
    '',
    `PocketBase memory: peak RSS (VmHWM) ${meta.vmHwmMb} MB; sampled VmRSS max ${meta.rssMaxMb} MB during ${meta.rssPeakDuring} (at start ${meta.rssStartMb} MB, ${meta.rssSamples} samples)`,
    `Checked with /auth-refresh: ${meta.verify.cookiesValid}/${meta.verify.cookiesChecked} sampled (a) cookies, ${meta.verify.tokensValid}/${meta.verify.tokensChecked} sampled (b) tokens valid`,
    micro
      ? `Micro-timings in one goja VM, µs per call: ${Object.entries(micro)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`
      : '',
    '',
  ].join('\n')
}

/** @param {string} s */
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Horizontal bar chart of the five main scenarios. @param {ReturnType<typeof summarize>[]} bars @param {string} subtitle */
function chartSvg(bars, subtitle) {
  const width = 760
  const rowH = 34
  const top = 62
  const left = 270
  const right = 110
  const height = top + bars.length * rowH + 28
  const max = Math.max(...bars.map((b) => b.rate ?? 0), 1)
  const colors = { a: '#2f6fdf', b: '#d9534f', c: '#6c757d', d_with: '#2a9d8f', d_without: '#8ab17d' }
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Liberation Sans, DejaVu Sans, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="26" font-size="17" font-weight="bold" fill="#222">Requests per second on one PocketBase server (higher is better)</text>`,
    `<text x="16" y="46" font-size="12" fill="#555">${esc(subtitle)}</text>`,
  ]
  bars.forEach((b, i) => {
    const y = top + i * rowH
    const w = Math.max(2, ((b.rate ?? 0) / max) * (width - left - right))
    const color = /** @type {Record<string, string>} */ (colors)[b.id] ?? '#888'
    const label = b.id === 'b' || b.id === 'a' ? `${fmtRate(b.rate)} sign-ins/s` : `${fmtRate(b.rate)}/s`
    parts.push(
      `<text x="${left - 10}" y="${y + 18}" font-size="13" text-anchor="end" fill="#222">${esc(ALL_SCENARIOS.find((s) => s.id === b.id)?.chart ?? b.title)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 12}" rx="3" fill="${color}"/>`,
      `<text x="${(left + w + 6).toFixed(1)}" y="${y + 18}" font-size="13" fill="#222">${esc(label)}</text>`,
    )
  })
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + bars.length * rowH}" stroke="#999"/>`, '</svg>')
  return parts.join('\n')
}

/** Renders the SVG to PNG with headless Chromium; returns the file written. @param {string} svg @param {string} dir */
async function writeChart(svg, dir) {
  const pngPath = path.join(dir, 'chart.png')
  const svgPath = path.join(dir, 'chart.svg')
  const executablePath = '/usr/bin/chromium'
  try {
    if (!fs.existsSync(executablePath)) throw new Error(`${executablePath} not found`)
    const { chromium } = await import('playwright-core')
    const browser = await chromium.launch({
      executablePath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
    try {
      const m = /width="(\d+)" height="(\d+)"/.exec(svg)
      const width = Number(m?.[1] ?? 760)
      const height = Number(m?.[2] ?? 300)
      const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1 })
      await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`)
      await page.screenshot({ path: pngPath, clip: { x: 0, y: 0, width, height } })
    } finally {
      await browser.close()
    }
    fs.rmSync(svgPath, { force: true })
    return { file: pngPath, note: null }
  } catch (err) {
    fs.writeFileSync(svgPath, svg)
    fs.rmSync(pngPath, { force: true })
    return {
      file: svgPath,
      note: `Chromium rendering failed (${/** @type {Error} */ (err).message.split('\n')[0]}); kept the SVG`,
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Main

/**
 * The JS VM pool side check: (a) and (c) on a SECOND server with PocketBase's default
 * --hooksPool (15), ABBA in half-length segments, to show what the pool size does to them.
 * @param {Record<string, string>} overlay
 */
async function runPoolCheck(overlay) {
  const a = ALL_SCENARIOS.find((s) => s.id === 'a')
  const c = ALL_SCENARIOS.find((s) => s.id === 'c')
  if (!a || !c || !settings.diagnostics || settings.only.length > 0 || settings.hooksPool === 15) return null
  log(`JS VM pool check: a and c on a second server with PocketBase's default --hooksPool (15)`)
  const pb = await startPocketBase({
    version: settings.version,
    env: { ANONYMOUS_RATE_LIMIT_PER_IP: RATE_LIMIT_PER_IP, ANONYMOUS_RATE_LIMIT_GLOBAL: '0' },
    hooksOverlay: overlay,
  })
  try {
    await prepareServer(pb)
    const ctx = { url: pb.url, pid: pb.pid, guestCookie: '' }
    for (const s of [a, c]) await measure(s, ctx, settings.warmupSeconds)
    /** @type {Record<string, Measured[]>} */
    const runs = { a: [], c: [] }
    const half = Math.max(1, Math.round(settings.seconds / 2)) // wrk takes whole seconds
    for (const s of [a, c, c, a]) runs[s.id]?.push(await measure(s, ctx, half))
    const sa = summarize(a, runs.a ?? [])
    const sc = summarize(c, runs.c ?? [])
    log(`pool check (--hooksPool=15): a ${fmtRate(sa.rate)}/s, c ${fmtRate(sc.rate)}/s`)
    return {
      hooksPool: 15,
      secondsEach: 2 * half,
      a: { rate: sa.rate, pbCpuMsPerOp: sa.pbCpuMsPerOp, failed: sa.failed },
      c: { rate: sc.rate, pbCpuMsPerOp: sc.pbCpuMsPerOp, failed: sc.failed },
      a_over_c: sa.rate && sc.rate ? round(sa.rate / sc.rate, 3) : null,
    }
  } finally {
    await pb.stop()
  }
}

async function main() {
  const started = performance.now()
  const loadAtStart = os.loadavg().map((v) => round(v, 2))
  /** @type {Record<string, string>} every file under bench/hooks, by its path relative to it */
  const overlay = {}
  for (const rel of fs.readdirSync(HOOKS_OVERLAY_DIR, { recursive: true, encoding: 'utf8' })) {
    const file = path.join(HOOKS_OVERLAY_DIR, rel)
    if (fs.statSync(file).isFile()) overlay[rel.split(path.sep).join('/')] = fs.readFileSync(file, 'utf8')
  }
  log(
    `starting PocketBase ${settings.version} (--hooksPool=${settings.hooksPool}; bench/hooks overlaid on a temp copy of pb_hooks: ${Object.keys(overlay).join(', ')}; ANONYMOUS_RATE_LIMIT_PER_IP=${RATE_LIMIT_PER_IP})`,
  )
  const pb = await startPocketBase({
    version: settings.version,
    env: { ANONYMOUS_RATE_LIMIT_PER_IP: RATE_LIMIT_PER_IP, ANONYMOUS_RATE_LIMIT_GLOBAL: '0' },
    hooksOverlay: overlay,
    hooksPool: settings.hooksPool,
  })
  try {
    const { bcryptCost } = await prepareServer(pb)
    const guestCookie = await signInOnce(pb.url)
    const ctx = { url: pb.url, pid: pb.pid, guestCookie }

    // Fail fast on a broken scenario (main ones abort; diagnostics are dropped with a note).
    /** @type {Record<string, string>} */
    const skipped = {}
    for (const s of scenarios) {
      const problem = await checkScenario(s, ctx)
      if (!problem) continue
      if (!s.diagnostic)
        throw new Error(`scenario ${s.id} does not work: ${problem}\nServer log (end):\n${pb.logs().slice(-3000)}`)
      skipped[s.id] = problem
      log(`skipping diagnostic ${s.id}: ${problem}`)
    }
    const active = scenarios.filter((s) => !skipped[s.id])

    const memory = startMemorySampler(pb.pid)
    const setupSeconds = (performance.now() - started) / 1000

    log(`warm-up: ${settings.warmupSeconds} s per scenario`)
    for (const s of active) {
      memory.mark(`warmup:${s.id}`)
      await measure(s, ctx, settings.warmupSeconds)
    }

    /** @type {Record<string, Measured[]>} */
    const runs = Object.fromEntries(active.map((s) => [s.id, []]))
    /** @type {string[]} */
    const cookieSamples = []
    /** @type {string[]} */
    const tokenSamples = []
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? active : [...active].reverse()
      for (const s of order) {
        memory.mark(`${s.id}#${round}`)
        const r = await measure(s, ctx, settings.seconds)
        runs[s.id]?.push(r)
        if (s.id === 'a') cookieSamples.push(...r.samples)
        if (s.id === 'b') tokenSamples.push(...r.samples)
        log(
          `round ${round + 1}/${settings.rounds} ${s.id.padEnd(9)} ${fmtRate(r.ok / r.seconds).padStart(7)} ${s.unit}`,
        )
      }
    }
    memory.mark('')
    const mem = memory.stop()
    const status = procStatus(pb.pid)
    const verify = await verifySamples(pb.url, cookieSamples.slice(0, 12), tokenSamples.slice(0, 4))
    const micro = settings.diagnostics || settings.only.length > 0 ? await microTimings(pb.url, guestCookie) : null
    const poolCheck = await runPoolCheck(overlay)

    /** @type {Record<string, Summary>} */
    const results = {}
    for (const s of active) {
      const byRound = Array.from({ length: settings.rounds }, (_, i) =>
        round((mem.perScenario[`${s.id}#${i}`] ?? 0) / 1024, 1),
      )
      results[s.id] = {
        ...summarize(s, runs[s.id] ?? []),
        rssMaxMb: Math.max(...byRound.map((v) => v ?? 0)),
        rssMaxMbByRound: byRound,
      }
    }

    /** @param {string} x @param {string} y */
    const ratio = (x, y) => {
      const a = results[x]?.rate
      const b = results[y]?.rate
      return a && b ? a / b : null
    }
    // The same ratio from PocketBase's CPU time per operation, which other load on the machine
    // disturbs less than rates do (it ignores the load generator's share, though).
    /** @param {string} x @param {string} y */
    const cpuRatio = (x, y) => {
      const a = results[x]?.pbCpuMsPerOp
      const b = results[y]?.pbCpuMsPerOp
      return a && b ? b / a : null
    }
    /** @param {string} label @param {string} x @param {string} y @param {number} target */
    const ratioEntry = (label, x, y, target) => {
      const value = ratio(x, y)
      return {
        label,
        value: value === null ? null : round(value, 3),
        target,
        met: value === null ? null : value >= target,
        byPbCpuPerOp: round(cpuRatio(x, y) ?? NaN, 3),
      }
    }
    const ratios = {
      a_over_b: ratioEntry('a/b  guest sign-in vs upstream REST sign-in', 'a', 'b', TARGETS.a_over_b),
      a_over_c: ratioEntry('a/c  guest sign-in vs one-insert floor', 'a', 'c', TARGETS.a_over_c),
      d_with_over_without: ratioEntry(
        'd    GET / with cookie vs without',
        'd_with',
        'd_without',
        TARGETS.d_with_over_without,
      ),
    }

    const meta = {
      pocketbase: pb.version,
      nproc: Number(commandOutput('nproc', [])) || os.cpus().length,
      cpuModel: os.cpus()[0]?.model?.replace(/\s+/g, ' ').trim() ?? 'unknown',
      memTotalMb: Math.round(os.totalmem() / 1024 / 1024),
      kernel: `${os.type()} ${os.release()}`,
      node: process.version,
      wrk: (commandOutput('wrk', ['-v']).split('\n')[0] ?? '').replace(/ Copyright.*$/, '').trim(),
      vmHwmMb: round((status.VmHWM ?? 0) / 1024, 1),
      rssMaxMb: round(mem.maxKb / 1024, 1),
      rssStartMb: round(mem.startKb / 1024, 1),
      rssSamples: mem.count,
      rssPeakDuring: peakDuring(mem.perScenario),
      verify,
    }
    const totalSeconds = round((performance.now() - started) / 1000, 1)

    const report = {
      generatedAt: new Date().toISOString(),
      quick,
      command: quick ? 'npm run bench -- --quick' : 'npm run bench',
      settings: {
        concurrency: settings.concurrency,
        secondsPerScenarioPerRound: settings.seconds,
        rounds: settings.rounds,
        order: 'scenario order reversed every round',
        warmupSeconds: settings.warmupSeconds,
        loadGenerator: `wrk (${settings.wrkThreads} thread) for all but b; b: Node fetch client loop, ${settings.concurrency} clients`,
        env: { ANONYMOUS_RATE_LIMIT_PER_IP: RATE_LIMIT_PER_IP },
        clientIps:
          'a, a_direct, a_raw: a distinct X-Forwarded-For client IP per request (the bench server trusts that header); a_one_ip: all from 127.0.0.1',
        usersPasswordBcryptCost: bcryptCost,
      },
      machine: {
        nproc: meta.nproc,
        cpuModel: meta.cpuModel,
        memTotalMb: meta.memTotalMb,
        kernel: meta.kernel,
        node: meta.node,
        wrk: meta.wrk,
        pocketbase: meta.pocketbase,
        loadAverageAtStart: loadAtStart,
        loadAverageAtEnd: os.loadavg().map((v) => round(v, 2)),
      },
      scenarios: results,
      skipped,
      ratios,
      memory: {
        vmHwmMb: meta.vmHwmMb,
        vmRssMaxSampledMb: meta.rssMaxMb,
        vmRssMaxDuring: meta.rssPeakDuring,
        vmRssAtStartMb: meta.rssStartMb,
        samples: mem.count,
        sampleIntervalMs: 250,
      },
      verification: verify,
      microTimingsUs: micro,
      poolCheck,
      durations: { setupSeconds: round(setupSeconds, 1), totalSeconds },
    }

    const text = stdoutReport(results, ratios, meta, micro)
    process.stdout.write(text)

    fs.mkdirSync(outDir, { recursive: true })
    fs.writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`)
    const subtitle = `PocketBase ${meta.pocketbase}, ${meta.nproc} CPUs shared with the load generator, ${settings.concurrency} connections, ${settings.rounds} × ${settings.seconds} s each`
    const chart = await writeChart(
      chartSvg(
        ['a', 'b', 'c', 'd_with', 'd_without'].map((id) => results[id]).filter((r) => r !== undefined),
        subtitle,
      ),
      outDir,
    )
    fs.writeFileSync(
      path.join(outDir, 'results.md'),
      markdownReport(report, results, ratios, meta, path.basename(chart.file), micro, poolCheck),
    )
    process.stdout.write(
      `Wrote ${path.relative(process.cwd(), path.join(outDir, 'results.json'))}, results.md, ${path.basename(chart.file)}${chart.note ? ` (${chart.note})` : ''} in ${totalSeconds} s total\n`,
    )
    if (verify.cookiesValid !== verify.cookiesChecked || verify.tokensValid !== verify.tokensChecked) {
      process.stdout.write(
        'WARNING: some sampled sessions did not pass /auth-refresh (see results.json "verification")\n',
      )
      process.exitCode = 1
    }
  } finally {
    await pb.stop()
  }
}

/**
 * The markdown the README embeds.
 * @param {any} report @param {Record<string, Summary>} results @param {any} ratios @param {any} meta
 * @param {string} chartFile @param {Record<string, number> | null} micro @param {any} poolCheck
 */
function markdownReport(report, results, ratios, meta, chartFile, micro, poolCheck) {
  const main = Object.values(results).filter((r) => !r.diagnostic)
  const lines = [
    '<!-- Generated by scripts/bench.mjs (npm run bench). Do not edit by hand: re-run the benchmark. -->',
    '',
    `PocketBase ${meta.pocketbase} · ${meta.nproc} CPUs (${meta.cpuModel}) shared with the load generator · Node ${meta.node} · ${meta.wrk} · ` +
      `${settings.concurrency} connections · ${settings.rounds} round(s) × ${settings.seconds} s per scenario, order reversed each round, after ${settings.warmupSeconds} s warm-up · ` +
      `\`--hooksPool=${settings.hooksPool}\` · \`ANONYMOUS_RATE_LIMIT_PER_IP=${RATE_LIMIT_PER_IP}\` · load average ${report.machine.loadAverageAtStart[0]} before the run · ${report.generatedAt.slice(0, 10)}`,
    '',
    '| Scenario | One operation | Rate | p50 | p99 | Errors | PocketBase CPU per op |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...main.map(mdRow),
    '',
    '| Ratio | Measured | Target | Same ratio from CPU per op |',
    '| --- | ---: | ---: | ---: |',
    ...Object.values(ratios).map(
      (/** @type {any} */ r) =>
        `| ${r.label.replace(/\s+/, ' ')} | **${fmtRatio(r.value)}** ${r.met === null ? '' : r.met ? '✅' : '❌'} | ≥ ${r.target}× | ${fmtRatio(r.byPbCpuPerOp)} |`,
    ),
    '',
    `![Requests per second by scenario](${chartFile})`,
    '',
    `PocketBase's memory: peak RSS ${meta.vmHwmMb} MB (VmHWM at the end; ${settings.hooksPool} JS VMs), sampled VmRSS up to ${meta.rssMaxMb} MB during ${meta.rssPeakDuring} (${meta.rssStartMb} MB before the load). ` +
      `(b)'s latency is the whole pair (create + auth-with-password); the others are one request. ` +
      `Errors are requests that were not a success (for sign-ins: not a 302 with a pb_auth cookie) or failed on the socket. ` +
      `${meta.verify.cookiesValid}/${meta.verify.cookiesChecked} sampled guest cookies from (a) and ${meta.verify.tokensValid}/${meta.verify.tokensChecked} tokens from (b) pass PocketBase's \`/auth-refresh\`. ` +
      `Each sign-in of (a) comes from its own client IP (\`X-Forwarded-For\`, trusted on the bench server only), as on a real site. ` +
      `The load generator runs on the same CPUs and takes a larger share at higher rates, which pulls rate ratios towards 1; the CPU-per-op column does not have that bias.`,
  ]
  lines.push('', ...whatBoundsIt(results, micro, poolCheck))
  const minutes = Math.ceil(report.durations.totalSeconds / 60)
  lines.push(
    '',
    `Run it: \`npm run bench\` (about ${minutes} minute${minutes === 1 ? '' : 's'}; \`npm run bench -- --quick\` for a smoke run). All figures: [results.json](results.json).`,
    '',
  )
  return lines.join('\n')
}

/** @typedef {ReturnType<typeof summarize> & { rssMaxMb?: number | null, rssMaxMbByRound?: (number | null)[] }} Summary */

/** @param {Summary} r */
function mdRow(r) {
  return `| ${r.title} | ${r.what} | **${fmtRate(r.rate)}** ${r.unit} | ${fmtMs(r.p50Ms)} ms | ${fmtMs(r.p99Ms)} ms | ${errorCell(r)} | ${fmtCpu(r.pbCpuMsPerOp)} |`
}

/** @param {number | null | undefined} v milliseconds */
function fmtCpu(v) {
  if (v === null || v === undefined) return '–'
  return v >= 10 ? `${v.toFixed(0)} ms` : `${v.toFixed(2)} ms`
}

/**
 * "What bounds it": the diagnostics and what they say, all from this run's numbers.
 * @param {Record<string, Summary>} results @param {Record<string, number> | null} micro @param {any} poolCheck
 */
function whatBoundsIt(results, micro, poolCheck) {
  const out = ['### What bounds it', '']
  const diag = Object.values(results).filter((r) => r.diagnostic)
  if (diag.length === 0) {
    out.push('The diagnostics were not run (`BENCH_DIAGNOSTICS=0`).')
    return out
  }
  const r = (/** @type {string} */ id) => results[id]
  const cpu = (/** @type {string} */ id) => r(id)?.pbCpuMsPerOp ?? null
  const rate = (/** @type {string} */ id) => r(id)?.rate ?? null
  const ms = (/** @type {number | null} */ v) => (v === null || !Number.isFinite(v) ? '–' : `${v.toFixed(2)} ms`)
  const diff = (/** @type {string} */ x, /** @type {string} */ y) => {
    const a = cpu(x)
    const b = cpu(y)
    return a !== null && b !== null ? a - b : null
  }
  const ratioText = (/** @type {number | null} */ x, /** @type {number | null} */ y) => (x && y ? fmtRatio(x / y) : '–')
  const busy = ['a', 'c', 'd_with', 'd_without'].map((id) => r(id)?.machineBusy).filter((v) => typeof v === 'number')
  out.push(
    `Every scenario keeps the machine busy (${busy.length ? `${Math.round(Math.min(...busy) * 100)}–${Math.round(Math.max(...busy) * 100)} %` : '–'} CPU), so a rate is about ` +
      `the CPU left after the load generator divided by PocketBase's CPU time per operation. The diagnostics split that time:`,
    '',
    '| Diagnostic | One operation | Rate | p50 | p99 | Errors | PocketBase CPU per op |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  )
  for (const id of [
    'c',
    'a_insert',
    'a_raw',
    'a_direct',
    'a',
    'a_one_ip',
    'd_noop',
    'd_verify',
    'd_page_without',
    'd_page_with',
    'd_without',
    'd_with',
  ]) {
    const row = r(id)
    if (row) out.push(mdRow(row))
  }
  out.push('')

  // a / c
  if (r('a') && r('c')) {
    const steps = []
    if (r('a_insert'))
      steps.push(
        `the guest row itself, an auth record (unique email and tokenKey indexes, the anonymous/lastSeen index, auth field validation) plus a signed token and the cookie: **${ms(cpu('a_insert'))}** against ${ms(cpu('c'))} for the floor's insert into a one-field table`,
      )
    if (r('a_raw') && r('a_insert'))
      steps.push(
        `the rate-limit bookkeeping (one transaction with the window count and the log row): +${ms(diff('a_raw', 'a_insert'))}`,
      )
    if (r('a_direct') && r('a_raw'))
      steps.push(
        `the plugin's own code around the same work (CSRF check, options, error handling, cookie): +${ms(diff('a_direct', 'a_raw'))}`,
      )
    if (r('a_direct'))
      steps.push(
        `PocketPages' page around it (routing, form parsing, the EJS page up to its \`redirect()\`): ${diff('a', 'a_direct') !== null && (diff('a', 'a_direct') ?? 0) >= 0 ? '+' : ''}${ms(diff('a', 'a_direct'))}`,
      )
    out.push(
      `**a/c (guest sign-in vs one insert).** A sign-in through /login costs ${ms(cpu('a'))} of PocketBase CPU, the floor ${ms(cpu('c'))}. Where it goes:`,
      '',
      ...steps.map((t) => `- ${t}.`),
      '',
    )
    if (r('a_insert')) {
      const ceiling = (cpu('c') ?? 0) / (cpu('a_insert') ?? 1)
      out.push(
        `The guest insert alone reaches ${ratioText(rate('a_insert'), rate('c'))} of the floor's rate (${fmtRatio(ceiling)} by CPU): ` +
          `${ceiling < TARGETS.a_over_c ? `below the ${TARGETS.a_over_c}× target before any plugin code runs. Against a one-field base collection, a/c ≥ ${TARGETS.a_over_c} is out of reach for anything that creates an auth record through PocketBase's record API; a/a_insert = **${ratioText(rate('a'), rate('a_insert'))}** is the share of the achievable rate that (a) keeps.` : `the plugin keeps ${ratioText(rate('a'), rate('a_insert'))} of it.`}`,
        '',
      )
    }
  }
  if (r('a_one_ip') && r('a')) {
    const rounds = r('a_one_ip')?.rounds ?? []
    out.push(
      `**One client IP.** With every sign-in from 127.0.0.1, each one counts all earlier sign-ins of that IP in the window inside the write transaction: ` +
        `${fmtRate(rate('a_one_ip'))}/s (${ratioText(rate('a_one_ip'), rate('a'))} of (a); per round ${rounds.map((v) => fmtRate(v)).join(' → ')}), falling as the log grows. ` +
        `A real site caps that count at \`perIp\` rows (30 by default) per IP; a \`global\` limit counts every sign-in of the site in the window the same way.`,
      '',
    )
  }
  const poolText = poolCheck
    ? `On a second server with the default 15 (same ${settings.concurrency} connections, a and c only, ${poolCheck.secondsEach} s each): ` +
      `a ${fmtRate(poolCheck.a.rate)}/s (${fmtCpu(poolCheck.a.pbCpuMsPerOp)} CPU per sign-in), c ${fmtRate(poolCheck.c.rate)}/s (${fmtCpu(poolCheck.c.pbCpuMsPerOp)}), a/c ${fmtRatio(poolCheck.a_over_c)}, ` +
      `against a ${fmtRate(rate('a'))}/s and c ${fmtRate(rate('c'))}/s here.`
    : ''
  out.push(
    `**JS VM pool.** PocketBase runs JS handlers on a pool of prewarmed VMs (\`--hooksPool\`, default 15) and builds a throw-away VM for a request that finds them all busy ` +
      `(plugins/jsvm/pool.go), which costs more than the request itself. The bench runs with \`--hooksPool=${settings.hooksPool}\` so that its ${settings.concurrency} connections never hit that. ${poolText} ` +
      `An app expecting more concurrent JS-handled requests (every page is one) than its pool should raise \`--hooksPool\`.`,
    '',
  )

  // d
  if (r('d_with') && r('d_without')) {
    const session = diff('d_page_with', 'd_page_without')
    const extraRender =
      session !== null && diff('d_with', 'd_without') !== null ? (diff('d_with', 'd_without') ?? 0) - session : null
    out.push(
      `**d (GET / with a guest cookie vs without).** A signed-in view costs ${ms(cpu('d_with'))} against ${ms(cpu('d_without'))} (+${ms(diff('d_with', 'd_without'))}).`,
      '',
    )
    const items = []
    if (session !== null)
      items.push(
        `reading the session: +${ms(session)} on a page that prints the same thing signed in or out (${ratioText(rate('d_page_with'), rate('d_page_without'))} of its rate)`,
      )
    if (extraRender !== null)
      items.push(`the signed-in home page renders more (user details, the upgrade form): +${ms(extraRender)}`)
    if (r('d_verify') && r('d_noop'))
      items.push(
        `PocketBase's own token check (\`findAuthRecordByToken\`: JWT, one record read, signature) measured on its own route: +${ms(diff('d_verify', 'd_noop'))}`,
      )
    out.push(...items.map((t) => `- ${t}.`))
    if (micro) {
      const session = micro.sessionRead ?? NaN
      const pocketbase = micro.findAuthRecordByToken ?? NaN
      const pluginShare = Number.isFinite(session) && session > 0 ? (session - pocketbase) / session : NaN
      out.push(
        '',
        `Micro-timings in one VM without load (µs per call): the plugin's whole session read ${micro.sessionRead ?? '–'}, of which PocketBase's \`findAuthRecordByToken\` ${micro.findAuthRecordByToken ?? '–'}; ` +
          `the plugin factory, which PocketPages runs for every request (the floor's and /api/ ones too), ${micro.pluginFactory ?? '–'}. ` +
          `For scale: decoding a token's header and payload byte by byte in JS takes ${micro.jwtDecodeJs ?? '–'}, PocketBase's Go \`$security.parseUnverifiedJWT\` ${micro.parseUnverifiedJWT ?? '–'}. ` +
          (Number.isFinite(pluginShare)
            ? `The plugin's own JavaScript is ${Math.round(pluginShare * 100)} % of the session read. `
            : '') +
          `d ≥ ${TARGETS.d_with_over_without} needs the session read and the extra rendering within a quarter of a signed-out view (${ms((cpu('d_without') ?? 0) * 0.25)} here).`,
      )
    }
  }
  return out
}

main().catch((err) => {
  console.error(`scripts/bench.mjs: ${err instanceof Error ? (err.stack ?? err.message) : err}`)
  process.exit(1)
})
