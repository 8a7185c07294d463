// @ts-check
// The benchmark's entry (npm run bench = build, then `node --import tsx bench/run.mjs`; tsx loads
// the TypeScript harness in test/support). Each phase of bench/scenarios.mjs starts its servers
// and runs its scenarios side by side on them (bench/phase.mjs); then the cleanup phase
// (bench/cleanup.mjs); bench/report.mjs writes the results and checks them against the targets.
//
// Usage: npm run bench [-- --quick]
//   --quick   smoke run: 2 s per scenario, 1 round, data fills at a tenth; results go to a temp dir
//             (unless BENCH_OUT_DIR is set)
// Env: BENCH_CONCURRENCY (16), BENCH_SECONDS (8), BENCH_ROUNDS (2), BENCH_WARMUP_SECONDS (2),
//      BENCH_PHASES (site,guests,window,order,vm,cleanup), BENCH_DIAGNOSTICS (1: also the diagnostic
//      scenarios and the order phase), BENCH_CLEANUP_DRAIN (0:
//      time one cleanup run; 1: run it until the backlog is gone), BENCH_OUT_DIR (bench/),
//      POCKETBASE_VERSION (the newest in package.json)

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { newestVersion, repoRoot } from '../scripts/pocketbase.mjs'
import { runCleanupPhase, serverInfo } from './cleanup.mjs'
import { pageMicro } from './page-micro.mjs'
import { round, runScenarios } from './phase.mjs'
import { writeReport } from './report.mjs'
import { CLEANUP, PHASES, SCENARIOS } from './scenarios.mjs'
import { startServer } from './servers.mjs'
import { evaluateTargets } from './targets.mjs'

/**
 * @typedef {import('./scenarios.mjs').Scenario} Scenario
 * @typedef {import('./phase.mjs').Summary & { diagnostic?: boolean }} Summary
 * @typedef {import('./servers.mjs').BenchServer} BenchServer
 */

const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
for (const arg of argv) {
  if (arg !== '--quick') {
    console.error(`bench/run.mjs: unknown argument ${arg} (only --quick)`)
    process.exit(2)
  }
}

/** @param {string} name @param {number} fallback */
function envNumber(name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0, got ${JSON.stringify(raw)}`)
  return value
}

const ALL_PHASES = [...PHASES.map((p) => p.id), 'cleanup']
const settings = {
  quick,
  concurrency: Math.round(envNumber('BENCH_CONCURRENCY', 16)),
  seconds: Math.max(1, Math.round(envNumber('BENCH_SECONDS', quick ? 2 : 8))),
  rounds: Math.max(1, Math.round(envNumber('BENCH_ROUNDS', quick ? 1 : 2))),
  warmupSeconds: Math.max(1, Math.round(envNumber('BENCH_WARMUP_SECONDS', quick ? 1 : 2))),
  diagnostics: process.env.BENCH_DIAGNOSTICS !== '0',
  drainCleanup: process.env.BENCH_CLEANUP_DRAIN === '1',
  phases: (process.env.BENCH_PHASES || ALL_PHASES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  /** Data fills are scaled down in a smoke run. */
  fillScale: quick ? 0.1 : 1,
  version: process.env.POCKETBASE_VERSION || newestVersion(),
}
for (const id of settings.phases) {
  if (!ALL_PHASES.includes(id)) throw new Error(`BENCH_PHASES: unknown phase ${id} (${ALL_PHASES.join(', ')})`)
}
const outDir = process.env.BENCH_OUT_DIR
  ? path.resolve(process.env.BENCH_OUT_DIR)
  : quick
    ? fs.mkdtempSync(path.join(os.tmpdir(), 'bench-quick-'))
    : path.join(repoRoot, 'bench')

const log = (/** @type {string} */ line) => process.stderr.write(`[bench] ${line}\n`)

/** @param {import('./scenarios.mjs').ServerSpec} spec */
function scaled(spec) {
  if (!spec.fill) return spec
  /** @type {Record<string, number>} */
  const fill = {}
  for (const [k, v] of Object.entries(spec.fill)) fill[k] = Math.max(1, Math.round(v * settings.fillScale))
  return { ...spec, fill }
}

/**
 * Runs a phase: starts its servers, runs its scenarios side by side on them, stops them.
 * @param {import('./scenarios.mjs').Phase} phase
 * @param {{ results: Record<string, Summary>, samples: { cookies: string[], tokens: string[] }, servers: any[] }} out
 * @param {(server: BenchServer) => Promise<void>} [afterLoad] runs on each server before it stops
 */
async function runPhase(phase, out, afterLoad) {
  const diagnostics = settings.diagnostics ? (phase.diagnostics ?? []) : []
  const scenarios = [...phase.scenarios, ...diagnostics].map((id) => /** @type {Scenario} */ (SCENARIOS[id]))
  if (scenarios.length === 0) return
  /** @type {BenchServer[]} */
  const servers = []
  try {
    for (const spec of phase.servers) {
      log(`${phase.id}: starting server ${spec.id} (${spec.title})`)
      servers.push(await startServer(scaled(spec), settings))
    }
    const loaded = servers.map((server) => ({ id: server.spec.id, target: server.target }))
    const results = await runScenarios(scenarios, loaded, settings, (s, _server, m) => {
      if (s.id === 'signin' && phase.id === 'site') out.samples.cookies.push(...m.samples)
      if (s.id === 'upstream') out.samples.tokens.push(...m.samples)
    })
    for (const [key, result] of Object.entries(results)) {
      out.results[key] = { ...result, diagnostic: diagnostics.includes(result.scenario) }
    }
    for (const server of servers) if (afterLoad) await afterLoad(server)
  } finally {
    for (const server of servers) {
      out.servers.push(serverInfo(phase.id, server, settings))
      await server.pb.stop()
    }
  }
}

/**
 * Micro-timings in one JS VM of the site server, without load (median of 3 calls of the route).
 * @param {BenchServer} server
 */
async function microTimings(server) {
  /** @type {Record<string, number[]>} */
  const all = {}
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${server.target.url}/api/bench/micro?n=${quick ? 100 : 400}`, {
      headers: { cookie: server.target.guestCookie },
    })
    if (!res.ok) throw new Error(`micro-timings: HTTP ${res.status} ${await res.text()}`)
    for (const [k, v] of Object.entries(/** @type {Record<string, number>} */ (await res.json()))) {
      all[k] ??= []
      all[k].push(v)
    }
  }
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, [...v].sort((x, y) => x - y)[1] ?? v[0] ?? 0]))
}

/** Checks sampled cookies and tokens with PocketBase's own auth-refresh. @param {BenchServer} server @param {{ cookies: string[], tokens: string[] }} samples */
async function verifySamples(server, samples) {
  /** @param {string} token */
  const valid = async (token) =>
    (
      await fetch(`${server.target.url}/api/collections/users/auth-refresh`, {
        method: 'POST',
        headers: { authorization: token },
      })
    ).status === 200
  let cookiesValid = 0
  for (const value of samples.cookies.slice(0, 8)) {
    try {
      if (await valid(JSON.parse(decodeURIComponent(value)).token)) cookiesValid++
    } catch {
      // invalid
    }
  }
  let tokensValid = 0
  for (const token of samples.tokens.slice(0, 4)) if (await valid(token)) tokensValid++
  return {
    cookiesChecked: Math.min(8, samples.cookies.length),
    cookiesValid,
    tokensChecked: Math.min(4, samples.tokens.length),
    tokensValid,
  }
}

async function main() {
  const started = performance.now()
  const loadAverageAtStart = os.loadavg().map((v) => round(v, 2))
  /** @type {{ results: Record<string, Summary>, samples: { cookies: string[], tokens: string[] }, servers: any[] }} */
  const out = { results: {}, samples: { cookies: [], tokens: [] }, servers: [] }
  /** @type {{ micro: Record<string, number> | null, pageMicro: Record<string, number> | null, verification: Awaited<ReturnType<typeof verifySamples>> | null }} */
  const site = { micro: null, pageMicro: null, verification: null }
  for (const phase of PHASES) {
    if (!settings.phases.includes(phase.id)) continue
    await runPhase(phase, out, async (server) => {
      if (phase.id !== 'site') return
      site.verification = await verifySamples(server, out.samples)
      site.micro = await microTimings(server)
      // The plugins' CPU per page view, by case (bench/page-micro.mjs): the profile behind the targets.
      const table = await pageMicro([{ name: 'site', target: server.target }], {
        n: quick ? 500 : 2000,
        calls: quick ? 1 : 3,
      })
      site.pageMicro = table.site ?? null
    })
  }
  const { micro, verification } = site
  const pageMicroUs = site.pageMicro
  const bundleKb = round(
    fs.statSync(path.join(repoRoot, 'pb_hooks', 'lib', 'pocketpages-plugin-anonymous.js')).size / 1024,
    1,
  )
  const cleanup = settings.phases.includes('cleanup')
    ? await runCleanupPhase(scaled(CLEANUP.server), settings, out)
    : null

  /** Running the plugin's bundle once in a JS VM, ms: by CPU time when measured, else wall time. */
  const bundleMs = () => {
    const us = pageMicroUs?.runAnonymousBundle ?? micro?.runAnonymousBundle
    return us === undefined ? null : round(us / 1000, 2)
  }
  const cold = out.results['cold_page@cold']
  const pooled = out.results['cold_page@pooled']
  const coldVm =
    cold && pooled
      ? {
          coldShare: cold.countedShare ?? null,
          extraCpuMsPerRequest: round((cold.pbCpuMsPerOp ?? 0) - (pooled.pbCpuMsPerOp ?? 0), 3),
          msPerVm:
            cold.countedShare && cold.pbCpuMsPerOp !== null && pooled.pbCpuMsPerOp !== null
              ? round((cold.pbCpuMsPerOp - pooled.pbCpuMsPerOp) / cold.countedShare, 2)
              : null,
          anonymousBundleMs: bundleMs(),
        }
      : micro || pageMicroUs
        ? { anonymousBundleMs: bundleMs(), msPerVm: null }
        : null

  const targets = evaluateTargets({ scenarios: out.results, cleanup, coldVm, pageMicroUs, bundleKb })
  await writeReport(
    {
      generatedAt: new Date().toISOString(),
      kind: quick ? 'smoke' : 'full',
      command: quick ? 'npm run bench -- --quick' : 'npm run bench',
      settings: {
        ...settings,
        loadGenerator: 'wrk 1 thread (upstream: Node fetch clients; cleanup: Node paced clients)',
      },
      machine: {
        nproc: os.cpus().length,
        cpuModel: os.cpus()[0]?.model?.replace(/\s+/g, ' ').trim() ?? 'unknown',
        memTotalMb: Math.round(os.totalmem() / 1024 / 1024),
        node: process.version,
        pocketbase: settings.version,
        loadAverageAtStart,
        loadAverageAtEnd: os.loadavg().map((v) => round(v, 2)),
      },
      targets,
      results: out.results,
      scenarios: Object.fromEntries(
        Object.values(SCENARIOS).map((s) => [s.id, { title: s.title, what: s.what, unit: s.unit }]),
      ),
      servers: out.servers,
      cleanup,
      coldVm,
      microTimingsUs: micro,
      pageMicroUs,
      bundleKb,
      verification,
      totalSeconds: round((performance.now() - started) / 1000, 1),
    },
    outDir,
  )
  const v = verification
  if (v && (v.cookiesValid !== v.cookiesChecked || v.tokensValid !== v.tokensChecked)) {
    process.stdout.write('WARNING: some sampled sessions did not pass /auth-refresh (results.json "verification")\n')
    process.exitCode = 1
  }
}

main().catch((err) => {
  console.error(`bench/run.mjs: ${err instanceof Error ? (err.stack ?? err.message) : err}`, err?.cause ?? '')
  process.exit(1)
})
