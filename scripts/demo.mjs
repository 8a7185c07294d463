// @ts-check
// Local demo (`npm start` runs it after the build): the newest supported PocketBase with this
// repo's pb_hooks and pb_migrations, data in pb_data/ (gitignored), in the foreground.
// Env: PORT (default 8090); DEMO_MAIL=off to leave PocketBase's mail settings alone (by default,
// unless pb_data has a real SMTP server, mails go to a local catcher that prints them here).

import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
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
  const version = newestVersion()
  const bin = await ensurePocketBase(version, { log: (line) => console.log(line) })
  const port = demoPort()
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
  // Printed once the server answers, so it is the last line a person sees after the banner.
  if (await waitForHealth(base, 30_000)) {
    if (process.env.DEMO_MAIL !== 'off') await catchMail(base)
    console.log(`\nDemo: ${base}/login\n`)
  } else console.log(`Demo: ${base}/login (PocketBase is not answering yet; see its output above)`)
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

/** @param {string} base @param {number} timeoutMs @returns {Promise<boolean>} */
async function waitForHealth(base, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(2_000) })
      if (res.ok) return true
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
