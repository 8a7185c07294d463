// @ts-check
// Local demo (`npm start` runs it after the build): the newest supported PocketBase with this
// repo's pb_hooks and pb_migrations, data in pb_data/ (gitignored), in the foreground.
// Env: PORT (default 8090): a port already in use stops it before PocketBase starts, and the
// "Demo:" line is printed only once the PocketBase it started (checked by PID) answers there.
// DEMO_MAIL=off leaves PocketBase's mail settings alone (by default, unless pb_data has a real
// SMTP server, mails go to a local catcher that prints them here).

import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { startMailCatcher, useMailCatcher } from './demo-mail.mjs'
import { ensurePocketBase, newestVersion, repoRoot } from './pocketbase.mjs'

// Fixed, public credentials: this is a local demo bound to 127.0.0.1, never a deployment.
const DEMO_SUPERUSER = { email: 'demo@example.com', password: 'demo-password-1234' }

/** @returns {number} */
function demoPort() {
  const port = Number(process.env.PORT ?? 8090)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid PORT: ${process.env.PORT}`)
  return port
}

/** @param {string} bin @param {string} dataDir */
function upsertSuperuser(bin, dataDir) {
  const res = spawnSync(bin, ['superuser', 'upsert', DEMO_SUPERUSER.email, DEMO_SUPERUSER.password, '--dir', dataDir], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
  // Check the message too: PocketBase 0.25 exits 0 on CLI argument errors.
  if (res.status !== 0 || !`${res.stdout}`.includes('Successfully saved superuser')) {
    throw new Error(`superuser upsert failed:\n${res.stdout}${res.stderr}${res.error?.message ?? ''}`)
  }
}

async function main() {
  const port = demoPort()
  if (!(await portIsFree(port))) {
    console.error(
      `scripts/demo.mjs: port ${port} on 127.0.0.1 is already in use (another PocketBase or demo?). ` +
        `Stop that program, or choose another port: PORT=8091 npm start`,
    )
    process.exit(1)
  }
  const version = newestVersion()
  const bin = await ensurePocketBase(version, { log: (line) => console.log(line) })
  const dataDir = path.join(repoRoot, 'pb_data')
  fs.mkdirSync(dataDir, { recursive: true })
  upsertSuperuser(bin, dataDir)

  const base = `http://127.0.0.1:${port}`
  console.log(`PocketBase ${version}, data in ${path.relative(repoRoot, dataDir)}/`)
  console.log(
    `Demo superuser (local demo only, not a secret): ${DEMO_SUPERUSER.email} / ${DEMO_SUPERUSER.password}  ->  ${base}/_/`,
  )

  // cwd = repo root: goja's require() resolves node_modules from the working directory.
  const child = spawn(
    bin,
    [
      'serve',
      '--dir',
      dataDir,
      '--hooksDir',
      path.join(repoRoot, 'pb_hooks'),
      '--migrationsDir',
      path.join(repoRoot, 'pb_migrations'),
      '--hooksWatch=false',
      // Collections created in the dashboard must not turn into migration files in the repo.
      '--automigrate=false',
      '--http',
      `127.0.0.1:${port}`,
    ],
    { cwd: repoRoot, stdio: 'inherit' },
  )
  // A terminal's Ctrl-C reaches PocketBase too (same process group); forwarding covers `kill <node pid>`.
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    })
  }
  child.on('error', (err) => {
    console.error(`demo: could not start ${bin}: ${err.message}`)
    process.exit(1)
  })
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)))
  // Printed once the server answers, so it is the last line a person sees after the banner; never
  // for a server that is not the one started here (it exited, or another program took the port).
  const up = await waitForHealth(base, 30_000, () => child.exitCode === null && child.signalCode === null)
  if (up && child.pid !== undefined && listensOn(child.pid, port) !== false) {
    if (process.env.DEMO_MAIL !== 'off') await catchMail(base)
    console.log(`\nDemo: ${base}/login\n`)
  } else if (child.exitCode === null && child.signalCode === null)
    console.log(`PocketBase is not answering on ${base} yet; see its output above.`)
}

/**
 * "Email me a code" needs a mail server: without one configured, the demo's mails (the codes) are
 * printed here instead.
 * @param {string} base
 */
async function catchMail(base) {
  try {
    const catcher = await startMailCatcher((text) => console.log(text))
    if (await useMailCatcher(base, DEMO_SUPERUSER, catcher.port)) {
      console.log(`Mail: no SMTP server configured, so mails (the upgrade codes) are printed here.`)
    } else catcher.close()
  } catch (err) {
    console.log(`Mail: could not set up the local mail catcher (${err instanceof Error ? err.message : err})`)
  }
}

/** True when nothing listens on 127.0.0.1:port (we could bind it). @param {number} port @returns {Promise<boolean>} */
function portIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)))
  })
}

/**
 * Whether process `pid` holds the listening TCP socket of `port` (Linux /proc); null where /proc
 * cannot tell (another OS), and the caller then trusts that its child is still running.
 * @param {number} pid @param {number} port @returns {boolean | null}
 */
function listensOn(pid, port) {
  try {
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
    const inodes = new Set()
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      if (!fs.existsSync(table)) continue
      for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/)
        // local_address is ADDR:PORT in hex; state 0A is LISTEN; column 9 is the socket's inode.
        if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A') inodes.add(`socket:[${cols[9]}]`)
      }
    }
    const fdDir = `/proc/${pid}/fd`
    return fs.readdirSync(fdDir).some((fd) => {
      try {
        return inodes.has(fs.readlinkSync(path.join(fdDir, fd)))
      } catch {
        return false
      }
    })
  } catch {
    return null
  }
}

/**
 * Waits until /api/health answers, while `alive()` holds.
 * @param {string} base @param {number} timeoutMs @param {() => boolean} alive @returns {Promise<boolean>}
 */
async function waitForHealth(base, timeoutMs, alive) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && alive()) {
    try {
      const res = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(2_000) })
      if (res.ok) return alive()
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return false
}

main().catch((err) => {
  console.error(`scripts/demo.mjs: ${err instanceof Error ? err.message : err}`)
  process.exit(1)
})
