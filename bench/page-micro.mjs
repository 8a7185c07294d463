// @ts-check
// Micro-timings of the plugins' work on one page view (bench/hooks/page-micro.pb.js), in one JS VM
// without other load on that server, for saved plugin bundles side by side with the current build:
// one demo server per bundle, each case run n times in one call, PocketBase's CPU time (from /proc)
// around the call divided by n; calls alternate between the servers, the median per case.
//
//   node --import tsx bench/page-micro.mjs [before-bundle.js ...]
// Env: BENCH_MICRO_N (views per call, 2000), BENCH_MICRO_CALLS (calls per case and server, 5),
//      BENCH_MICRO_CASES (a comma-separated subset of PAGE_CASES)

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { newestVersion, repoRoot } from '../scripts/pocketbase.mjs'
import { processCpuSeconds } from './load.mjs'
import { PHASES } from './scenarios.mjs'
import { startServer } from './servers.mjs'

export const PAGE_CASES = [
  'emptyView',
  'emptyViewSignedOut',
  'anonymousSignedOut',
  'anonymousSignedIn',
  'authPluginSignedOut',
  'authPluginSignedIn',
  'bothSignedOut',
  'bothSignedIn',
  'authFirstSignedOut',
  'authFirstSignedIn',
  'signInPlugin',
  'signInByHand',
  'findAuthRecordByToken',
  'parseUnverifiedJWT',
  'enrichRecord',
  'cookieLines',
  'recordCollection',
  'responseHeaderValues',
  'decodeCookie',
  'recordReads',
  'newRecordHandle',
  'runAnonymousBundle',
  'runAuthBundle',
  'runHostBundle',
]

/**
 * µs of PocketBase CPU per page view of one case.
 * @param {{ url: string, pid: number, guestCookie: string }} target @param {string} name @param {number} n
 */
export async function pageCaseCpuUs(target, name, n) {
  const before = processCpuSeconds(target.pid)
  const res = await fetch(`${target.url}/api/bench/page-micro?case=${name}&n=${n}`, {
    headers: { cookie: target.guestCookie },
  })
  if (!res.ok) throw new Error(`page-micro ${name}: HTTP ${res.status} ${await res.text()}`)
  await res.json()
  return ((processCpuSeconds(target.pid) - before) * 1e6) / n
}

/**
 * Every case on every target, calls alternating; the median per case and target, in µs.
 * @param {{ name: string, target: { url: string, pid: number, guestCookie: string } }[]} targets
 * @param {{ n: number, calls: number, cases?: string[] }} opts
 */
export async function pageMicro(targets, { n, calls, cases = PAGE_CASES }) {
  /** @type {Record<string, Record<string, number[]>>} */
  const all = {}
  for (const { target } of targets) await pageCaseCpuUs(target, cases[0] ?? 'emptyView', Math.min(n, 200)) // warm up
  for (let i = 0; i < calls; i++) {
    for (const name of cases) {
      for (const { name: server, target } of i % 2 ? [...targets].reverse() : targets) {
        all[server] ??= {}
        const byCase = all[server]
        byCase[name] ??= []
        // Running a whole bundle or a sign-in costs ten page views: fewer runs, the same CPU time.
        const count = name.startsWith('run') || name.startsWith('signIn') ? Math.max(20, Math.round(n / 10)) : n
        byCase[name].push(await pageCaseCpuUs(target, name, count))
      }
    }
  }
  /** @type {Record<string, Record<string, number>>} */
  const out = {}
  for (const [server, cases] of Object.entries(all)) {
    out[server] = {}
    for (const [name, list] of Object.entries(cases)) {
      const sorted = [...list].sort((a, b) => a - b)
      out[server][name] = Math.round(sorted[Math.floor(sorted.length / 2)] ?? Number.NaN)
    }
  }
  return out
}

async function main() {
  const bundles = process.argv.slice(2)
  const n = Number(process.env.BENCH_MICRO_N || 2000)
  const calls = Number(process.env.BENCH_MICRO_CALLS || 5)
  const settings = { version: process.env.POCKETBASE_VERSION || newestVersion(), concurrency: 16 }
  const spec = PHASES.flatMap((p) => p.servers).find((s) => s.id === 'site')
  if (!spec) throw new Error('no site server')
  const bundle = path.join(repoRoot, 'pb_hooks', 'lib', 'pocketpages-plugin-anonymous.js')
  const current = fs.readFileSync(bundle)
  /** @type {{ name: string, server: import('./servers.mjs').BenchServer }[]} */
  const servers = []
  try {
    for (const file of bundles) {
      fs.writeFileSync(bundle, fs.readFileSync(file))
      try {
        servers.push({ name: path.basename(file), server: await startServer({ ...spec, hooksPool: 2 }, settings) })
      } finally {
        fs.writeFileSync(bundle, current)
      }
    }
    servers.push({ name: 'current build', server: await startServer({ ...spec, hooksPool: 2 }, settings) })
    const load = os.loadavg()[0]
    const table = await pageMicro(
      servers.map(({ name, server }) => ({ name, target: server.target })),
      { n, calls, cases: process.env.BENCH_MICRO_CASES?.split(',') ?? PAGE_CASES },
    )
    console.log(
      `µs of PocketBase CPU per page view, median of ${calls} calls of ${n} views; load average ${load} → ${os.loadavg()[0]}`,
    )
    console.table(table)
  } finally {
    for (const { server } of servers) await server.pb.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
