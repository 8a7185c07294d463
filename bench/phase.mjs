// @ts-check
// Running scenarios side by side on a set of servers: a check that each scenario works, a warm-up,
// then rounds whose scenario order is reversed every round and whose server order alternates (ABBA),
// so that drift on a shared machine cancels; and the summary of each scenario on each server.

import { measure, mergedQuantile, restSignIn } from './load.mjs'

/**
 * @typedef {import('./scenarios.mjs').Scenario} Scenario
 * @typedef {import('./load.mjs').Measured} Measured
 * @typedef {{ id: string, target: import('./load.mjs').Target }} Loaded a server under load
 * @typedef {{ concurrency: number, seconds: number, warmupSeconds: number, rounds: number }} Timing
 */

const log = (/** @type {string} */ line) => process.stderr.write(`[bench] ${line}\n`)

/** @param {number} v @param {number} digits */
export function round(v, digits) {
  if (!Number.isFinite(v)) return null
  const f = 10 ** digits
  return Math.round(v * f) / f
}

/**
 * One request with the scenario's success rule before any load: a broken scenario must fail
 * loudly, not produce a fast table of errors.
 * @param {Scenario} s @param {Loaded} server
 */
export async function checkScenario(s, server) {
  const { url, guestCookie } = server.target
  if (s.load === 'rest-pair') {
    const result = await restSignIn(url)
    return result.token ? null : `HTTP ${result.statuses.join(', ')}: ${result.error.slice(0, 300)}`
  }
  const r = s.request ?? { method: 'GET', path: '/' }
  /** @type {Record<string, string>} */
  const headers = {}
  if (r.contentType) headers['content-type'] = r.contentType
  if (r.sameOrigin) headers.origin = url
  if (r.guestCookie) headers.cookie = guestCookie
  if (r.clientIps === 'distinct') headers['x-forwarded-for'] = '198.51.100.8'
  const res = await fetch(url + r.path, { method: r.method, headers, body: r.body ?? null, redirect: 'manual' })
  const text = await res.text()
  const x = s.expect ?? {}
  const problems = []
  if (x.status && res.status !== x.status) problems.push(`HTTP ${res.status}, expected ${x.status}`)
  if (
    x.cookie &&
    !res.headers.getSetCookie().some((c) => c.startsWith(`${x.cookie}=`) && !c.startsWith(`${x.cookie}=;`))
  )
    problems.push(`no ${x.cookie} cookie`)
  if (x.body && !text.includes(x.body)) problems.push(`body lacks ${x.body}`)
  if (x.header) {
    const [name = '', value = ''] = x.header.split(/:\s*/, 2)
    if (!(res.headers.get(name) ?? '').includes(value)) problems.push(`no header ${x.header}`)
  }
  return problems.length ? `${problems.join('; ')}: ${text.slice(0, 300)}` : null
}

/** @param {Scenario} s @param {Measured[]} runs */
function summarize(s, runs) {
  const seconds = runs.reduce((a, r) => a + r.seconds, 0)
  const ok = runs.reduce((a, r) => a + r.ok, 0)
  const requests = runs.reduce((a, r) => a + r.requests, 0)
  /** @type {Record<string, number>} */
  const status = {}
  let socketErrors = 0
  for (const r of runs) {
    for (const [k, v] of Object.entries(r.status)) status[k] = (status[k] ?? 0) + v
    for (const v of Object.values(r.socket)) socketErrors += v
  }
  const pbCpu = runs.reduce((a, r) => a + r.pbCpuSeconds, 0)
  const wall = runs.reduce((a, r) => a + r.wallSeconds, 0)
  const qs = runs.map((r) => ({ n: s.load === 'rest-pair' ? r.ok : r.requests, q: r.q }))
  const counted = runs.reduce((a, r) => a + r.counted, 0)
  return {
    rate: round(ok / seconds, 1),
    p50Ms: round(mergedQuantile(qs, 0.5), 2),
    p99Ms: round(mergedQuantile(qs, 0.99), 2),
    successes: ok,
    // Not a success (wrong status, no cookie, wrong page) or failed on the socket. A REST pair
    // fails on its first non-200; pairs in flight at the deadline are neither.
    failed: (s.load === 'rest-pair' ? requests - (status.s2xx ?? 0) : requests - ok) + socketErrors,
    pbCpuMsPerOp: ok > 0 ? round((pbCpu / ok) * 1000, 3) : null,
    pbCores: round(pbCpu / wall, 2),
    machineBusy: round(runs.reduce((a, r) => a + r.machineBusy * r.wallSeconds, 0) / wall, 3),
    perRound: runs.map((r) => round(r.ok / r.seconds, 1)),
    ...(s.countBody ? { countedShare: round(counted / Math.max(1, ok), 4) } : {}),
  }
}

/** @typedef {ReturnType<typeof summarize> & { scenario: string, server: string }} Summary */

/**
 * Runs every scenario on every server (each must pass its check first), side by side.
 * @param {Scenario[]} scenarios @param {Loaded[]} servers @param {Timing} timing
 * @param {(s: Scenario, server: Loaded, m: Measured) => void} [onRun] sees every measured run
 * @returns {Promise<Record<string, Summary>>} keyed scenario@server
 */
export async function runScenarios(scenarios, servers, timing, onRun) {
  for (const s of scenarios) {
    for (const server of servers) {
      const problem = await checkScenario(s, server)
      if (problem) throw new Error(`scenario ${s.id} on ${server.id} does not work: ${problem}`)
    }
  }
  const warmup = { concurrency: timing.concurrency, seconds: timing.warmupSeconds }
  for (const s of scenarios) for (const server of servers) await measure(s, server.target, warmup)

  /** @type {Record<string, Measured[]>} */
  const runs = {}
  const opts = { concurrency: timing.concurrency, seconds: timing.seconds }
  for (let r = 0; r < timing.rounds; r++) {
    const order = r % 2 === 0 ? scenarios : [...scenarios].reverse()
    for (const [k, s] of order.entries()) {
      for (const server of (r + k) % 2 === 0 ? servers : [...servers].reverse()) {
        const m = await measure(s, server.target, opts)
        const key = `${s.id}@${server.id}`
        runs[key] ??= []
        runs[key].push(m)
        onRun?.(s, server, m)
        log(
          `round ${r + 1}/${timing.rounds} ${key.padEnd(30)} ${String(round(m.ok / m.seconds, 1)).padStart(8)} ${s.unit}`,
        )
      }
    }
  }
  /** @type {Record<string, Summary>} */
  const results = {}
  for (const s of scenarios) {
    for (const server of servers) {
      const key = `${s.id}@${server.id}`
      results[key] = { scenario: s.id, server: server.id, ...summarize(s, runs[key] ?? []) }
    }
  }
  return results
}
