// @ts-check
// THE test command (npm test runs it after typecheck + build). Phases, in order:
//   1. unit     test/unit/**/*.test.ts
//   2. e2e      test/e2e/**/*.test.ts, once per PocketBase version (env POCKETBASE_VERSION=<v>)
//   3. browser  test/browser/**/*.test.ts, with the newest version
// Usage: node scripts/test.mjs [unit] [e2e] [browser]     (no argument: all phases)
// Env:   POCKETBASE_VERSIONS=a,b   e2e versions (default: all in package.json)
//        TEST_TIMEOUT_MS           node's --test-timeout (default 120 s unit, 600 s e2e, 300 s browser).
//                                  In Node 20 it also caps each test FILE's whole run: a file that
//                                  hangs (e.g. a handle left open) is killed and counted as failed.
//        TEST_RUN_TIMEOUT_MS       per node --test run, the whole group is killed after it (30 min)
// Output: the spec reporter on stdout for humans; a TAP copy per run in a temp file is what we
// count. The last line is `N passed, N failed, N skipped`; exit 1 if anything failed or nothing ran.

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ensurePocketBase, newestVersion, repoRoot, supportedVersions } from './pocketbase.mjs'

/**
 * @typedef {{ label: string, env: Record<string, string> }} Run
 * @typedef {{ name: string, dir: string, concurrency: number, timeoutMs: number, runs: () => Run[] }} Phase
 * @typedef {{ pass: number, fail: number, skipped: number }} Counts
 */

/** @returns {string[]} e2e versions: env POCKETBASE_VERSIONS, else package.json. */
function e2eVersions() {
  const fromEnv = (process.env.POCKETBASE_VERSIONS ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
  return fromEnv.length > 0 ? fromEnv : supportedVersions()
}

const perTestTimeout = (/** @type {number} */ fallback) => Number(process.env.TEST_TIMEOUT_MS) || fallback

/** @type {Phase[]} */
const PHASES = [
  {
    name: 'unit',
    dir: 'test/unit',
    concurrency: 2,
    timeoutMs: perTestTimeout(120_000),
    runs: () => [{ label: 'unit', env: {} }],
  },
  {
    name: 'e2e',
    dir: 'test/e2e',
    // 2 cores: two test files (each with its own PocketBase) at a time.
    concurrency: 2,
    timeoutMs: perTestTimeout(600_000),
    runs: () => e2eVersions().map((v) => ({ label: `e2e, PocketBase ${v}`, env: { POCKETBASE_VERSION: v } })),
  },
  {
    name: 'browser',
    dir: 'test/browser',
    // Chromium is heavy; one file at a time.
    concurrency: 1,
    timeoutMs: perTestTimeout(300_000),
    runs: () => [{ label: `browser, PocketBase ${newestVersion()}`, env: { POCKETBASE_VERSION: newestVersion() } }],
  },
]

const RUN_TIMEOUT_MS = Number(process.env.TEST_RUN_TIMEOUT_MS) || 30 * 60_000

/**
 * Recursively lists `*.test.ts` under dir, sorted. Node 20's `--test` does not expand globs.
 * @param {string} dir absolute
 * @returns {string[]} paths relative to the repo root
 */
function findTestFiles(dir) {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.relative(repoRoot, path.join(dir, f)))
    .sort()
}

/** @param {string} title */
function header(title) {
  console.log(`\n${'='.repeat(78)}\n== ${title}\n${'='.repeat(78)}`)
}

/**
 * Reads the closing summary of a TAP report (`# pass N` ... at column 0; nested ones are indented).
 * @param {string} tapFile
 * @returns {Counts & { found: boolean }}
 */
function readTapCounts(tapFile) {
  const text = fs.existsSync(tapFile) ? fs.readFileSync(tapFile, 'utf8') : ''
  /** @type {Record<string, number>} */
  const last = {}
  for (const m of text.matchAll(/^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm))
    last[/** @type {string} */ (m[1])] = Number(m[2])
  return {
    found: 'pass' in last,
    pass: last.pass ?? 0,
    // A cancelled test (e.g. timed out, or its file crashed) did not pass: count it as failed.
    fail: (last.fail ?? 0) + (last.cancelled ?? 0),
    skipped: (last.skipped ?? 0) + (last.todo ?? 0),
  }
}

/**
 * Kills PocketBase processes that a test left running (the harness registers each in the PID dir;
 * a test process that was itself killed cannot clean up), and removes their temp dirs.
 * @param {string} pidDir
 */
function sweepLeftovers(pidDir) {
  for (const name of fs.readdirSync(pidDir)) {
    const file = path.join(pidDir, name)
    try {
      const { pid, root } = JSON.parse(fs.readFileSync(file, 'utf8'))
      const cmdline = fs.existsSync(`/proc/${pid}/cmdline`) ? fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') : ''
      // Check the command line so a recycled PID of an unrelated process is never killed.
      if (cmdline.includes('pocketbase')) {
        process.kill(pid, 'SIGKILL')
        console.log(`[test.mjs] killed leftover PocketBase pid ${pid} (a test did not stop it)`)
      }
      if (typeof root === 'string' && root.startsWith(os.tmpdir()) && process.env.KEEP_PB_DATA !== '1') {
        fs.rmSync(root, { recursive: true, force: true })
      }
    } catch (err) {
      console.log(`[test.mjs] could not clean up ${file}: ${err instanceof Error ? err.message : err}`)
    }
    fs.rmSync(file, { force: true })
  }
}

/** @type {import('node:child_process').ChildProcess | undefined} */
let current

/**
 * One `node --test` run; returns its counts.
 * @param {Phase} phase
 * @param {Run} run
 * @param {string[]} files
 * @param {string} workDir
 * @returns {Promise<Counts>}
 */
async function runNodeTest(phase, run, files, workDir) {
  header(`${run.label}: ${files.length} file(s)`)
  const tapFile = path.join(workDir, `${phase.name}-${Object.values(run.env).join('-') || 'all'}.tap`)
  const pidDir = path.join(workDir, 'pids')
  fs.mkdirSync(pidDir, { recursive: true })
  // No --test-force-exit: in Node 20 it exits before the TAP file reporter has written its summary.
  const args = [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${phase.concurrency}`,
    `--test-timeout=${phase.timeoutMs}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ]
  const started = Date.now()
  // detached: its own process group, so a timeout or Ctrl-C can end the test files' processes
  // and their PocketBase servers together.
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, ...run.env, POCKETBASE_PID_DIR: pidDir },
    stdio: 'inherit',
    detached: true,
  })
  current = child
  const timer = setTimeout(() => {
    console.log(`[test.mjs] ${run.label}: still running after ${RUN_TIMEOUT_MS / 1000}s, killing it`)
    killGroup(child, 'SIGKILL')
  }, RUN_TIMEOUT_MS)
  const code = await new Promise((resolve) => child.on('close', (c, signal) => resolve(c ?? signal)))
  clearTimeout(timer)
  current = undefined
  sweepLeftovers(pidDir)

  const counts = readTapCounts(tapFile)
  if (code !== 0 && counts.fail === 0) {
    // e.g. killed by the watchdog or crashed before reporting: never let that look green.
    console.log(
      `[test.mjs] ${run.label}: node --test exited with ${code} without reporting a failure; counting 1 failure`,
    )
    counts.fail += 1
  }
  console.log(
    `[test.mjs] ${run.label}: pass ${counts.pass}, fail ${counts.fail}, skipped ${counts.skipped} (${((Date.now() - started) / 1000).toFixed(1)}s)`,
  )
  return counts
}

/**
 * @param {import('node:child_process').ChildProcess} child
 * @param {NodeJS.Signals} signal
 */
function killGroup(child, signal) {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

/** The test group is detached, so terminal signals do not reach it by themselves: forward them. */
function forwardSignals() {
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    process.on(signal, () => {
      if (current) killGroup(current, signal)
      else process.exit(130)
    })
  }
}

/** @param {string[]} argv */
async function main(argv) {
  const wanted = argv.length > 0 ? argv : PHASES.map((p) => p.name)
  const unknown = wanted.filter((w) => !PHASES.some((p) => p.name === w))
  if (unknown.length > 0)
    throw new Error(`unknown phase(s): ${unknown.join(', ')}; use: ${PHASES.map((p) => p.name).join(' ')}`)
  forwardSignals()

  const plan = PHASES.filter((p) => wanted.includes(p.name)).map((phase) => ({
    phase,
    files: findTestFiles(path.join(repoRoot, phase.dir)),
  }))
  const versions = new Set(
    plan
      .filter(({ phase, files }) => phase.name !== 'unit' && files.length > 0)
      .flatMap(({ phase }) => phase.runs().map((r) => r.env.POCKETBASE_VERSION ?? '')),
  )
  if (versions.size > 0) header('PocketBase binaries')
  for (const v of versions) await ensurePocketBase(v, { log: (line) => console.log(line) })

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pocketpages-test-'))
  const total = { pass: 0, fail: 0, skipped: 0 }
  try {
    for (const { phase, files } of plan) {
      if (files.length === 0) {
        header(`${phase.name}: no test files in ${phase.dir}/, skipped`)
        continue
      }
      for (const run of phase.runs()) {
        const counts = await runNodeTest(phase, run, files, workDir)
        total.pass += counts.pass
        total.fail += counts.fail
        total.skipped += counts.skipped
      }
    }
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true })
  }

  console.log('')
  if (total.pass + total.fail === 0) console.log('[test.mjs] no test ran: failing the run')
  console.log(`${total.pass} passed, ${total.fail} failed, ${total.skipped} skipped`)
  return total.fail === 0 && total.pass + total.fail > 0 ? 0 : 1
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`scripts/test.mjs: ${err instanceof Error ? err.message : err}`)
    process.exit(1)
  },
)
