// @ts-check
// The cleanup phase: a backlog of stale guests, light paced load (the home page as a guest, and
// guest sign-ins, each at a share of what the server sustains) measured idle and then during one
// cleanup run with the default settings (the cron job's code, through its superuser route).

import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { measure, paced, processCpuSeconds, procStatus } from './load.mjs'
import { round } from './phase.mjs'
import { CLEANUP, SCENARIOS } from './scenarios.mjs'
import { countUsers, staleWhere, startServer } from './servers.mjs'

/**
 * @typedef {import('./scenarios.mjs').Scenario} Scenario
 * @typedef {import('./servers.mjs').BenchServer} BenchServer
 * @typedef {{ version: string, concurrency: number, seconds: number, warmupSeconds: number, drainCleanup: boolean }} CleanupSettings
 */

const log = (/** @type {string} */ line) => process.stderr.write(`[bench] ${line}\n`)

/** What results.json records of a server. @param {string} phase @param {BenchServer} server @param {{ concurrency: number }} settings */
export function serverInfo(phase, server, settings) {
  return {
    phase,
    id: server.spec.id,
    title: server.spec.title,
    hooksPool: server.spec.hooksPool === 1 ? 1 : Math.max(15, 2 * settings.concurrency),
    fill: server.spec.fill ?? null,
    fillSeconds: round(server.fillSeconds, 1),
    peakRssMb: round((procStatus(server.pb.pid).VmHWM ?? 0) / 1024, 1),
  }
}

/**
 * Runs the cleanup once through its superuser route (what the cron job runs), without a client
 * timeout (a slow run must be measured, not cut off).
 * @param {import('./servers.mjs').PocketBaseServer} pb @returns {Promise<{ deleted: number, failed: number, skipped: number }>}
 */
async function runCleanup(pb) {
  const token = await pb.superuserToken()
  return new Promise((resolve, reject) => {
    const req = http.request(`${pb.url}/api/pocketpages-anonymous/cleanup`, {
      method: 'POST',
      headers: { authorization: token },
    })
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d) => {
        body += d
      })
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(JSON.parse(body))
          : reject(new Error(`cleanup: HTTP ${res.statusCode} ${body}`)),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

/**
 * @param {import('./scenarios.mjs').ServerSpec} spec its fill holds the stale backlog
 * @param {CleanupSettings} settings @param {{ servers: any[] }} out
 */
export async function runCleanupPhase(spec, settings, out) {
  log(`cleanup: starting server with ${spec.fill?.staleGuests} stale guests`)
  const server = await startServer(spec, settings)
  try {
    const { url, guestCookie, pid } = server.target
    // Light load: a tenth of this server's capacity, measured now (the machine may be shared).
    const capacity = { concurrency: settings.concurrency, seconds: Math.max(2, settings.warmupSeconds) }
    const homeIn = /** @type {Scenario} */ (SCENARIOS.home_in)
    const signIn = /** @type {Scenario} */ (SCENARIOS.signin)
    const pageCapacity = (await measure(homeIn, server.target, capacity)).ok / capacity.seconds
    const signInCapacity = (await measure(signIn, server.target, capacity)).ok / capacity.seconds
    const rates = {
      page: Math.max(1, Math.round(pageCapacity * CLEANUP.loadShare)),
      signin: Math.max(1, Math.round(signInCapacity * CLEANUP.loadShare)),
    }
    let ip = 0
    const streams = [
      {
        name: 'page',
        rate: rates.page,
        send: async () => {
          const res = await fetch(`${url}/`, { headers: { cookie: guestCookie } })
          return res.status === 200 && (await res.text()).includes('id="user-id"')
        },
      },
      {
        name: 'signin',
        rate: rates.signin,
        send: async () => {
          ip++
          const res = await fetch(`${url}/login`, {
            method: 'POST',
            redirect: 'manual',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              origin: url,
              'x-forwarded-for': `10.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip & 255}`,
            },
            body: 'mode=anonymous',
          })
          await res.arrayBuffer()
          return res.status === 302
        },
      },
    ]
    const backlog = countUsers(server.pb.dataDir, staleWhere())
    log(
      `cleanup: idle, ${Math.max(10, settings.seconds)} s of paced load (${rates.page} pages/s, ${rates.signin} sign-ins/s)`,
    )
    const idle = await paced(streams, { seconds: Math.max(10, settings.seconds) })
    log('cleanup: one cleanup run under the same load')
    const cpu0 = processCpuSeconds(pid)
    const t0 = performance.now()
    const run = runCleanup(server.pb)
    const [during, report] = await Promise.all([paced(streams, { until: run }), run])
    const runSeconds = (performance.now() - t0) / 1000
    const runCpu = processCpuSeconds(pid) - cpu0
    const runs = [{ deleted: report.deleted, seconds: round(runSeconds, 2) }]
    if (settings.drainCleanup) {
      while (runs[runs.length - 1]?.deleted && countUsers(server.pb.dataDir, staleWhere()) > 0) {
        const t = performance.now()
        const next = await runCleanup(server.pb)
        runs.push({ deleted: next.deleted, seconds: round((performance.now() - t) / 1000, 2) })
        log(`cleanup: drain run ${runs.length}: ${next.deleted} deleted`)
      }
    }
    const left = countUsers(server.pb.dataDir, staleWhere())
    // Hourly runs: the backlog is gone once the last needed run finishes.
    const runsNeeded = settings.drainCleanup
      ? runs.length
      : report.deleted > 0
        ? Math.ceil(backlog / report.deleted)
        : null
    const ratio = (/** @type {number | null | undefined} */ a, /** @type {number | null | undefined} */ b) =>
      a && b ? round(a / b, 2) : null
    return {
      backlog,
      deletedInRun: report.deleted,
      failed: report.failed,
      skipped: report.skipped,
      runSeconds: round(runSeconds, 2),
      runPbCpuSeconds: round(runCpu, 2),
      deletionRate: round(report.deleted / runSeconds, 1),
      leftAfter: left,
      drained: settings.drainCleanup,
      runs,
      runsNeeded,
      hoursToClear: runsNeeded === null ? null : round(runsNeeded - 1 + runSeconds / 3600, 2),
      load: { pagePerSecond: rates.page, signInPerSecond: rates.signin, share: CLEANUP.loadShare },
      idle: idle.streams,
      during: { seconds: round(during.seconds, 2), ...during.streams },
      pageP99Ratio: ratio(during.streams.page?.p99Ms, idle.streams.page?.p99Ms),
      signInP99Ratio: ratio(during.streams.signin?.p99Ms, idle.streams.signin?.p99Ms),
    }
  } finally {
    out.servers.push(serverInfo('cleanup', server, settings))
    await server.pb.stop()
  }
}
