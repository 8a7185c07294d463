// @ts-check
// Load generators and measurement: wrk for the HTTP scenarios, a Node client for the bcrypt path
// (a few dozen requests/s, so the client is no factor), an open-loop paced client for latency under
// light load, and PocketBase's CPU time from /proc around each measured window.

import { execFileSync, spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

const LUA_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'wrk', 'scenario.lua')
const QUANTILE_GRID = 400
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100

/**
 * @typedef {import('./scenarios.mjs').Scenario} Scenario
 * @typedef {{ url: string, pid: number, guestCookie: string }} Target the server a run loads
 * @typedef {{
 *   seconds: number, requests: number, ok: number, counted: number,
 *   status: Record<string, number>, socket: Record<string, number>, q: number[], samples: string[],
 * }} RunResult
 * @typedef {RunResult & { pbCpuSeconds: number, wallSeconds: number, machineBusy: number }} Measured
 */

/** @param {number} ms */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** @param {number} pid CPU seconds (user + system) of a process so far. */
export function processCpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK // utime, stime (fields 14, 15)
  } catch {
    return Number.NaN
  }
}

/** @param {number} pid @returns {Record<string, number>} kB values of /proc/<pid>/status */
export function procStatus(pid) {
  /** @type {Record<string, number>} */
  const out = {}
  try {
    for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const m = /^(Vm\w+|Rss\w+):\s+(\d+) kB/.exec(line)
      if (m?.[1]) out[m[1]] = Number(m[2])
    }
  } catch {
    // process gone
  }
  return out
}

/** Machine-wide CPU ticks: busy and total. */
function machineTicks() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  const idle = (v[3] ?? 0) + (v[4] ?? 0) // idle + iowait
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0)
  return { busy: total - idle, total }
}

/** Quantiles on the uniform grid (k - 0.5) / K of a list of values. @param {number[]} values */
export function gridQuantiles(values) {
  if (values.length === 0) return []
  const sorted = [...values].sort((x, y) => x - y)
  return Array.from(
    { length: QUANTILE_GRID },
    (_, k) => sorted[Math.min(sorted.length - 1, Math.floor(((k + 0.5) / QUANTILE_GRID) * sorted.length))] ?? 0,
  )
}

/**
 * Quantile p (0..1) of runs merged from their grid quantiles (each grid point carries 1/K of its run).
 * @param {{ n: number, q: number[] }[]} runs @param {number} p
 */
export function mergedQuantile(runs, p) {
  /** @type {[number, number][]} */
  const points = []
  for (const run of runs) for (const v of run.q) points.push([v, run.n / run.q.length])
  if (points.length === 0) return Number.NaN
  points.sort((x, y) => x[0] - y[0])
  const total = points.reduce((s, [, w]) => s + w, 0)
  let acc = 0
  for (const [v, w] of points) {
    acc += w
    if (acc >= p * total - 1e-9) return v
  }
  return points[points.length - 1]?.[0] ?? Number.NaN
}

let ipRun = 0
const MAX_IN_FLIGHT = 32

/**
 * One wrk run of a scenario.
 * @param {Scenario} s @param {Target} target @param {{ concurrency: number, seconds: number }} opts
 * @param {{ start: () => void, end: () => void }} window called as the measured window starts and ends
 * @returns {Promise<RunResult>}
 */
function runWrk(s, target, opts, window) {
  const r = s.request ?? { method: 'GET', path: '/' }
  const x = s.expect ?? {}
  // A new first octet per run keeps every run's client IPs apart from all earlier ones.
  ipRun = (ipRun % 222) + 1
  /** @type {Record<string, string>} */
  const env = {
    BENCH_METHOD: r.method,
    BENCH_BODY: r.body ?? '',
    BENCH_CONTENT_TYPE: r.contentType ?? '',
    BENCH_ORIGIN: r.sameOrigin ? target.url : '',
    BENCH_COOKIE: r.guestCookie ? target.guestCookie : '',
    BENCH_XFF: r.clientIps === 'distinct' ? '1' : '0',
    BENCH_IP_BASE: String(ipRun),
    BENCH_EXPECT_STATUS: String(x.status ?? 0),
    BENCH_EXPECT_COOKIE: x.cookie ?? '',
    BENCH_EXPECT_BODY: x.body ?? '',
    BENCH_EXPECT_HEADER: x.header ?? '',
    BENCH_COUNT_BODY: s.countBody ?? '',
    BENCH_SAMPLES: String(s.samples ?? 0),
    BENCH_QUANTILES: String(QUANTILE_GRID),
  }
  const args = [
    '-t1',
    `-c${opts.concurrency}`,
    `-d${Math.max(1, Math.round(opts.seconds))}s`,
    '--timeout',
    '10s',
    '-s',
    LUA_SCRIPT,
    `${target.url}${r.path}`,
  ]
  return new Promise((resolve, reject) => {
    window.start()
    const child = spawn('wrk', args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d
    })
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
        counted: j.counted,
        status: { s1xx: j.s1xx, s2xx: j.s2xx, s3xx: j.s3xx, s4xx: j.s4xx, s5xx: j.s5xx },
        socket: j.socket,
        q: j.quantiles_us.map((/** @type {number} */ us) => us / 1000),
        samples: sampleBlock.split('\n').filter(Boolean),
      })
    })
  })
}

/** 40 random decimal digits: a password like upstream's anonymous sign-up makes. */
export function randomDigits40() {
  let out = ''
  while (out.length < 40) {
    for (const byte of crypto.randomBytes(48)) if (byte < 250 && out.length < 40) out += String(byte % 10)
  }
  return out
}

/**
 * One sign-in the way upstream's auth plugin does it over REST: create a user with a random
 * password, then auth-with-password (two bcrypt runs). Returns the token, or the failure.
 * @param {string} url
 */
export async function restSignIn(url) {
  /** @param {string} urlPath @param {unknown} body */
  const post = async (urlPath, body) => {
    const res = await fetch(url + urlPath, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    })
    return { status: res.status, text: await res.text() }
  }
  const email = `upstream-${crypto.randomBytes(10).toString('hex')}@example.com`
  const password = randomDigits40()
  const created = await post('/api/collections/users/records', { email, password, passwordConfirm: password })
  if (created.status !== 200) return { statuses: [created.status], token: null, error: created.text }
  const auth = await post('/api/collections/users/auth-with-password', { identity: email, password })
  const token = auth.status === 200 ? JSON.parse(auth.text)?.token : null
  return { statuses: [created.status, auth.status], token: typeof token === 'string' ? token : null, error: auth.text }
}

/**
 * `concurrency` Node clients looping restSignIn on keep-alive connections. A pair takes about a
 * second here, so the clients ramp up (a third of the window, at most 2 s) before the measured
 * window; only pairs that finish inside it count. Its latency is the pair's.
 * @param {Target} target @param {{ concurrency: number, seconds: number }} opts
 * @param {{ start: () => void, end: () => void }} window
 * @returns {Promise<RunResult>}
 */
async function runRestPairs(target, opts, window) {
  /** @type {Record<string, number>} */
  const status = { s1xx: 0, s2xx: 0, s3xx: 0, s4xx: 0, s5xx: 0 }
  const socket = { connect: 0, read: 0, write: 0, timeout: 0 }
  /** @type {number[]} */
  const latencies = []
  /** @type {string[]} */
  const samples = []
  let requests = 0
  let ok = 0
  // A pair takes a second or more: a shorter window would count next to nothing.
  const seconds = Math.max(5, opts.seconds)
  const rampMs = Math.min(2000, (seconds * 1000) / 3)
  const windowStart = performance.now() + rampMs
  const deadline = windowStart + seconds * 1000
  const startTimer = setTimeout(window.start, rampMs)
  const endTimer = setTimeout(window.end, rampMs + seconds * 1000)
  const client = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now()
      try {
        const result = await restSignIn(target.url)
        for (const code of result.statuses) {
          requests++
          const key = `s${Math.floor(code / 100)}xx`
          if (key in status) status[key] = (status[key] ?? 0) + 1
        }
        const t1 = performance.now()
        if (t1 > deadline) break
        if (t1 < windowStart || !result.token) continue
        ok++
        latencies.push(t1 - t0)
        if (samples.length < 4 && ok % 50 === 1) samples.push(result.token)
      } catch (err) {
        if (/** @type {Error} */ (err).name === 'TimeoutError') socket.timeout++
        else socket.read++
        await sleep(10)
      }
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, client))
  clearTimeout(startTimer)
  clearTimeout(endTimer)
  return { seconds, requests, ok, counted: 0, status, socket, q: gridQuantiles(latencies), samples }
}

/**
 * Runs one measurement of a scenario against a server, with PocketBase's CPU time and the machine's
 * busy share over exactly the measured window.
 * @param {Scenario} s @param {Target} target @param {{ concurrency: number, seconds: number }} opts
 * @returns {Promise<Measured>}
 */
export async function measure(s, target, opts) {
  const snapshot = () => ({ cpu: processCpuSeconds(target.pid), ticks: machineTicks(), t: performance.now() })
  let first = snapshot()
  /** @type {ReturnType<typeof snapshot> | undefined} */
  let last
  const window = {
    start: () => {
      first = snapshot()
    },
    end: () => {
      last = snapshot()
    },
  }
  const result =
    s.load === 'rest-pair' ? await runRestPairs(target, opts, window) : await runWrk(s, target, opts, window)
  const end = last ?? snapshot()
  return {
    ...result,
    pbCpuSeconds: end.cpu - first.cpu,
    wallSeconds: (end.t - first.t) / 1000,
    machineBusy: (end.ticks.busy - first.ticks.busy) / Math.max(1, end.ticks.total - first.ticks.total),
  }
}

/**
 * Open-loop load at a fixed rate until `until` resolves (or `seconds` pass): request i is due at
 * start + i / rate whether or not earlier ones have answered, and its latency counts from when it
 * was due, so a stall shows in full (no coordinated omission). A server that cannot keep up would
 * queue requests without end, so at most MAX_IN_FLIGHT per stream are outstanding: a due request
 * beyond that is skipped and counted.
 * @param {{ name: string, rate: number, send: (i: number) => Promise<boolean> }[]} streams
 * @param {{ seconds?: number, until?: Promise<unknown> }} stop
 */
export async function paced(streams, stop) {
  const started = performance.now()
  let stopped = false
  const timer = stop.seconds !== undefined ? setTimeout(() => (stopped = true), stop.seconds * 1000) : undefined
  stop.until?.then(
    () => (stopped = true),
    () => (stopped = true),
  )
  const results = streams.map((stream) => ({
    name: stream.name,
    latencies: /** @type {number[]} */ ([]),
    failed: 0,
    skipped: 0,
    inFlight: 0,
  }))
  /** @type {Promise<void>[]} */
  const inFlight = []
  const issued = streams.map(() => 0)
  while (!stopped) {
    const now = performance.now()
    streams.forEach((stream, k) => {
      const result = results[k]
      if (!result) return
      while (started + ((issued[k] ?? 0) * 1000) / stream.rate <= now) {
        const due = started + ((issued[k] ?? 0) * 1000) / stream.rate
        const i = issued[k] ?? 0
        issued[k] = i + 1
        if (result.inFlight >= MAX_IN_FLIGHT) {
          result.skipped++
          continue
        }
        result.inFlight++
        inFlight.push(
          stream.send(i).then(
            (ok) => {
              result.inFlight--
              if (ok) result.latencies.push(performance.now() - due)
              else result.failed++
            },
            () => {
              result.inFlight--
              result.failed++
            },
          ),
        )
      }
    })
    await sleep(2)
  }
  if (timer) clearTimeout(timer)
  const seconds = (performance.now() - started) / 1000
  await Promise.all(inFlight)
  return {
    seconds,
    streams: Object.fromEntries(
      results.map((r) => {
        const sorted = [...r.latencies].sort((a, b) => a - b)
        const at = (/** @type {number} */ p) => {
          const v = sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
          return v === undefined ? null : Math.round(v * 100) / 100
        }
        return [
          r.name,
          {
            requests: r.latencies.length + r.failed,
            failed: r.failed,
            skipped: r.skipped,
            p50Ms: at(0.5),
            p99Ms: at(0.99),
          },
        ]
      }),
    ),
  }
}
