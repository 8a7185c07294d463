// @ts-check
// Before/after of a change to the plugin, measured side by side: two demo servers, one running a
// saved plugin bundle (before), one the current build (after), the same scenarios in ABBA rounds.
// Each PocketBase compiles the bundle once, when it starts, so the file is swapped only meanwhile.
//
//   npm run build && cp pb_hooks/lib/pocketpages-plugin-anonymous.js /tmp/before.js
//   (change src/, then) npm run build
//   node --import tsx bench/compare.mjs /tmp/before.js [signin,session_in,...]
// Env: BENCH_SERVER (site: a server of bench/scenarios.mjs, data fills included), BENCH_CONCURRENCY (16),
//      BENCH_SECONDS (8), BENCH_ROUNDS (4), BENCH_WARMUP_SECONDS (2)

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { newestVersion, repoRoot } from '../scripts/pocketbase.mjs'
import { round, runScenarios } from './phase.mjs'
import { fmtRate } from './report.mjs'
import { PHASES, SCENARIOS } from './scenarios.mjs'
import { startServer } from './servers.mjs'

const [beforeFile, list = 'signin,session_in,home_in'] = process.argv.slice(2)
if (!beforeFile || !fs.existsSync(beforeFile)) {
  console.error('usage: node --import tsx bench/compare.mjs <before-bundle.js> [scenario,...]')
  process.exit(2)
}
const scenarios = list.split(',').map((id) => {
  const s = SCENARIOS[id.trim()]
  if (!s) throw new Error(`unknown scenario ${id} (${Object.keys(SCENARIOS).join(', ')})`)
  return s
})
const number = (/** @type {string} */ name, /** @type {number} */ fallback) => Number(process.env[name] || fallback)
const settings = {
  version: process.env.POCKETBASE_VERSION || newestVersion(),
  concurrency: number('BENCH_CONCURRENCY', 16),
  seconds: number('BENCH_SECONDS', 8),
  rounds: number('BENCH_ROUNDS', 4),
  warmupSeconds: number('BENCH_WARMUP_SECONDS', 2),
}
const serverId = process.env.BENCH_SERVER || 'site'
const spec = PHASES.flatMap((p) => p.servers).find((s) => s.id === serverId)
if (!spec) throw new Error(`BENCH_SERVER: no server ${serverId} in bench/scenarios.mjs`)

const bundle = path.join(repoRoot, 'pb_hooks', 'lib', 'pocketpages-plugin-anonymous.js')
const after = fs.readFileSync(bundle)
/** @type {import('./servers.mjs').BenchServer[]} */
const servers = []
try {
  fs.writeFileSync(bundle, fs.readFileSync(beforeFile))
  try {
    servers.push(await startServer({ ...spec, id: 'before', title: 'before' }, settings))
  } finally {
    fs.writeFileSync(bundle, after)
  }
  servers.push(await startServer({ ...spec, id: 'after', title: 'after' }, settings))
  const results = await runScenarios(
    scenarios,
    servers.map((s) => ({ id: s.spec.id, target: s.target })),
    settings,
  )
  console.log(
    `\n${settings.rounds} rounds × ${settings.seconds} s, ${settings.concurrency} connections; load average now ${os.loadavg()[0]?.toFixed(2)}`,
  )
  console.log('scenario              before rate   after rate  after/before   CPU/op before  after   before/after')
  for (const s of scenarios) {
    const b = results[`${s.id}@before`]
    const a = results[`${s.id}@after`]
    if (!a || !b) continue
    const rateRatio = a.rate && b.rate ? round(a.rate / b.rate, 3) : null
    const cpuRatio = a.pbCpuMsPerOp && b.pbCpuMsPerOp ? round(b.pbCpuMsPerOp / a.pbCpuMsPerOp, 3) : null
    console.log(
      `${s.id.padEnd(20)} ${fmtRate(b.rate).padStart(12)} ${fmtRate(a.rate).padStart(12)} ${String(rateRatio).padStart(13)}   ${String(b.pbCpuMsPerOp).padStart(13)} ${String(a.pbCpuMsPerOp).padStart(6)} ${String(cpuRatio).padStart(14)}`,
    )
  }
} finally {
  for (const s of servers) await s.pb.stop()
}
