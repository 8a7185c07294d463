// End-to-end harness: starts a real PocketBase binary (from scripts/pocketbase.mjs's cache) with
// this repo's pb_hooks and pb_migrations, each server in its own temp dir on its own free port.
//
//   const pb = await startPocketBase();            // env POCKETBASE_VERSION, else the newest
//   after(() => pb.stop());
//   const res = await pb.fetch('/login');           // plain request, redirects not followed
//   const list = await pb.apiJson('/api/collections'); // as superuser
//
// Servers never outlive the test process: every child is tracked and killed on exit or signal.
// With env KEEP_PB_DATA=1 the temp dirs stay after stop() (their path is printed).

import { type ChildProcess, execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import net, { type AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { customAlphabet } from 'nanoid'
import { ensurePocketBase, newestVersion, repoRoot } from '../../scripts/pocketbase.mjs'

const execFileAsync = promisify(execFile)

export interface StartOptions {
  /** PocketBase version; default: env POCKETBASE_VERSION, else the newest in package.json. */
  version?: string
  /** Files to add or replace, path relative to pb_hooks → content. Runs on a temp copy of pb_hooks. */
  hooksOverlay?: Record<string, string>
  /** Same for pb_migrations. */
  migrationsOverlay?: Record<string, string>
  /** Extra environment for the PocketBase process (added to this process's environment). */
  env?: Record<string, string>
  /** `--hooksPool` (PocketBase's default is 15 prewarmed VMs). */
  hooksPool?: number
  /**
   * `--dev`: PocketBase then also prints every SQL statement (with values: password hashes,
   * token keys, auth secrets) and its app logs to stdout. Default false, like production; the
   * hooks' console.log/console.error output reaches logs() either way.
   */
  dev?: boolean
  /** How long to wait for /api/health; default 30 s. */
  startTimeoutMs?: number
  /**
   * PocketBase's working directory, from which goja's require() resolves node_modules; default the
   * repo root. With it, an app outside the repo (e.g. one that installed the packed package).
   */
  cwd?: string
  /** This pb_hooks dir instead of the repo's (hooksOverlay then applies to a copy of it). */
  hooksDir?: string
  /** This pb_migrations dir instead of the repo's (migrationsOverlay then applies to a copy of it). */
  migrationsDir?: string
}

/** What a PocketBase CLI command printed (stdout and stderr, interleaved as they came) and its exit code. */
export interface CommandResult {
  code: number | null
  output: string
}

export interface PocketBaseServer {
  readonly version: string
  /** http://127.0.0.1:PORT (no trailing slash); changes if restart() had to pick another port. */
  readonly url: string
  readonly port: number
  readonly pid: number
  readonly dataDir: string
  readonly hooksDir: string
  readonly migrationsDir: string
  /** The random superuser made before serve. */
  readonly superuser: { email: string; password: string }
  /** All stdout+stderr of every process of this server so far. */
  logs(): string
  /** SIGTERM, SIGKILL after 5 s; removes the temp dir unless KEEP_PB_DATA=1. Idempotent. */
  stop(): Promise<void>
  /** SIGKILL now (a crash); the data dir stays for restart(). */
  kill9(): Promise<void>
  /** Stops the process if running, starts a new one on the same data dir (same port if free). */
  restart(): Promise<void>
  superuserToken(): Promise<string>
  /** fetch(url + path) with the superuser's Authorization header. */
  api(path: string, init?: RequestInit): Promise<Response>
  /** api() with a JSON body; throws (with status and body) unless 2xx; returns the parsed JSON. */
  apiJson<T = unknown>(path: string, init?: { method?: string; body?: unknown }): Promise<T>
  /** Plain fetch(url + path) with redirect: 'manual'. */
  fetch(path: string, init?: RequestInit): Promise<Response>
  /**
   * Runs a PocketBase CLI command (e.g. `['migrate', 'up']`) on this server's data dir, with its
   * hooks and migrations (PocketBase loads pb_hooks for every command), from its working directory.
   */
  command(args: string[]): Promise<CommandResult>
}

/** The version a test runs against when it does not choose one. */
export function defaultVersion(): string {
  return process.env.POCKETBASE_VERSION || newestVersion()
}

export async function startPocketBase(opts: StartOptions = {}): Promise<PocketBaseServer> {
  const version = opts.version ?? defaultVersion()
  const binary = await ensurePocketBase(version)
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), `pb-${version}-`))
  const server = new Server(version, binary, root, opts)
  try {
    await server.prepare(opts)
    await server.launchWithPortRetry(await freePort())
  } catch (err) {
    await server.stop()
    throw err
  }
  return server
}

// ---------------------------------------------------------------------------------------------
// Process tracking: no PocketBase may outlive the test process.

const live = new Set<Server>()
let exitHooksInstalled = false

function installExitHooks(): void {
  if (exitHooksInstalled) return
  exitHooksInstalled = true
  // 'exit' handlers must be synchronous: SIGKILL and a sync rm are all we can do there.
  process.on('exit', () => {
    for (const server of live) server.killSync()
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const server of live) server.killSync()
      // Re-raise for the default behaviour, unless someone else (e.g. the test runner) handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    })
  }
}

/**
 * Optional backstop for the top-level runner (scripts/test.mjs sets POCKETBASE_PID_DIR): one file
 * per running server, so it can kill leftovers even if a test process itself was SIGKILLed.
 */
function pidFile(pid: number): string | undefined {
  const dir = process.env.POCKETBASE_PID_DIR
  return dir ? path.join(dir, String(pid)) : undefined
}

// ---------------------------------------------------------------------------------------------

interface Running {
  child: ChildProcess
  exited: Promise<void>
  hasExited: () => boolean
}

class PortInUseError extends Error {}

const lowerAlnum = customAlphabet('abcdefghijklmnopqrstuvwxyz0123456789', 12)
// Alphanumeric only: nanoid's default alphabet has '-', and a password starting with '-' is
// parsed as a flag by `pocketbase superuser upsert` (0.25 then even exits 0 without a superuser).
const password = customAlphabet('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 32)

class Server implements PocketBaseServer {
  readonly dataDir: string
  hooksDir: string
  migrationsDir: string
  private readonly cwd: string
  readonly superuser = { email: `su-${lowerAlnum()}@example.com`, password: password() }
  port = 0
  private running: Running | undefined
  private readonly logParts: string[] = []
  private token: string | undefined
  private stopped = false

  constructor(
    readonly version: string,
    private readonly binary: string,
    private readonly root: string,
    private readonly opts: StartOptions,
  ) {
    this.dataDir = path.join(root, 'data')
    this.hooksDir = opts.hooksDir ?? path.join(repoRoot, 'pb_hooks')
    this.migrationsDir = opts.migrationsDir ?? path.join(repoRoot, 'pb_migrations')
    this.cwd = opts.cwd ?? repoRoot
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get pid(): number {
    return this.running?.child.pid ?? -1
  }

  logs(): string {
    return this.logParts.join('')
  }

  /** Temp hooks/migrations copies (only with overlays) and the superuser. */
  async prepare(opts: StartOptions): Promise<void> {
    await fsp.mkdir(this.dataDir)
    if (opts.hooksOverlay) {
      this.hooksDir = await copyWithOverlay(this.hooksDir, path.join(this.root, 'hooks'), opts.hooksOverlay)
    }
    if (opts.migrationsOverlay) {
      this.migrationsDir = await copyWithOverlay(
        this.migrationsDir,
        path.join(this.root, 'migrations'),
        opts.migrationsOverlay,
      )
    }
    // Without this PocketBase prints a one-time superuser "install" URL (a token) on start, and
    // we need the credentials anyway. The CLI runs without hooks: it only needs the system tables.
    let output: string
    try {
      const res = await execFileAsync(
        this.binary,
        ['superuser', 'upsert', this.superuser.email, this.superuser.password, '--dir', this.dataDir],
        {
          cwd: this.cwd,
          env: this.childEnv(),
          timeout: 60_000,
        },
      )
      output = res.stdout + res.stderr
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string }
      throw new Error(
        `pocketbase ${this.version} superuser upsert failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`,
      )
    }
    // Exit code 0 is not enough: 0.25 exits 0 on CLI argument errors.
    if (!output.includes('Successfully saved superuser')) {
      throw new Error(`pocketbase ${this.version} superuser upsert did not confirm:\n${output}`)
    }
  }

  private childEnv(): NodeJS.ProcessEnv {
    return { ...process.env, ...this.opts.env }
  }

  private serveArgs(port: number): string[] {
    const args = [
      'serve',
      '--dir',
      this.dataDir,
      '--hooksDir',
      this.hooksDir,
      '--migrationsDir',
      this.migrationsDir,
      '--hooksWatch=false',
      // Otherwise every collection a test creates through the API is written as a new JS
      // migration file into --migrationsDir, i.e. into the repo's pb_migrations.
      '--automigrate=false',
      `--dev=${this.opts.dev ?? false}`,
      '--http',
      `127.0.0.1:${port}`,
    ]
    if (this.opts.hooksPool !== undefined) args.push(`--hooksPool=${this.opts.hooksPool}`)
    return args
  }

  /** The port came from binding :0 and closing it, so another process may grab it first: retry. */
  async launchWithPortRetry(firstPort: number): Promise<void> {
    let port = firstPort
    for (let attempt = 1; ; attempt++) {
      try {
        await this.launch(port)
        return
      } catch (err) {
        if (!(err instanceof PortInUseError) || attempt >= 5) throw err
        port = await freePort()
      }
    }
  }

  private async launch(port: number): Promise<void> {
    installExitHooks()
    const logStart = this.logParts.length
    // cwd = repo root by default: goja's require() resolves node_modules from the working directory.
    const child = spawn(this.binary, this.serveArgs(port), {
      cwd: this.cwd,
      env: this.childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let exited = false
    const exitedPromise = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exited = true
        this.logParts.push(`[harness] pocketbase pid ${child.pid} exited (${signal ?? `code ${code}`})\n`)
        this.untrack(child.pid)
        resolve()
      })
      child.once('error', (err) => {
        exited = true
        this.logParts.push(`[harness] spawn failed: ${err.message}\n`)
        resolve()
      })
    })
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8')
      stream?.on('data', (chunk: string) => this.logParts.push(chunk))
      // A forgotten server must not keep the test process alive; the exit hook kills it.
      ;(stream as unknown as net.Socket | null)?.unref()
    }
    child.unref()
    this.running = { child, exited: exitedPromise, hasExited: () => exited }
    this.port = port
    this.track(child.pid)

    const ok = await this.waitForHealth(this.running, logStart, this.opts.startTimeoutMs ?? 30_000)
    if (ok) return
    const log = this.logParts.slice(logStart).join('')
    if (this.running.hasExited() && /address already in use/i.test(log)) throw new PortInUseError(`port ${port} in use`)
    await this.terminate()
    throw new Error(
      `pocketbase ${this.version} did not become healthy on ${this.url} (${this.running.hasExited() ? 'process exited' : 'timeout'}). Log:\n${log}`,
    )
  }

  /**
   * Healthy = our process printed its "Server started at" banner (it has bound the port) and
   * /api/health answers. The banner matters: if another process took the port between freePort()
   * and bind, /api/health could be answered by that other server.
   */
  private async waitForHealth(run: Running, logStart: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    const banner = `Server started at ${this.url}`
    while (Date.now() < deadline && !run.hasExited()) {
      if (!this.logParts.slice(logStart).join('').includes(banner)) {
        await sleep(50)
        continue
      }
      try {
        const res = await fetch(`${this.url}/api/health`, { signal: AbortSignal.timeout(2_000) })
        await res.body?.cancel()
        if (res.ok) return true
      } catch {
        // not listening yet
      }
      await sleep(50)
    }
    return false
  }

  private track(pid: number | undefined): void {
    live.add(this)
    const file = pid ? pidFile(pid) : undefined
    if (file) fs.writeFileSync(file, JSON.stringify({ pid, root: this.root, binary: this.binary }))
  }

  private untrack(pid: number | undefined): void {
    const file = pid ? pidFile(pid) : undefined
    if (file) fs.rmSync(file, { force: true })
  }

  /** Sends `signal`, escalates to SIGKILL after `graceMs`, resolves once the process is gone. */
  private async signalAndWait(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const run = this.running
    if (!run || run.hasExited()) return
    const pid = run.child.pid
    if (pid !== undefined) safeKill(pid, signal)
    // This timer is ref'd on purpose: it keeps the event loop alive while we wait for 'exit'.
    let timer: NodeJS.Timeout | undefined
    const escalate = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (pid !== undefined) safeKill(pid, 'SIGKILL')
        resolve()
      }, graceMs)
    })
    await Promise.race([run.exited, escalate])
    await run.exited
    clearTimeout(timer)
  }

  private terminate(): Promise<void> {
    return this.signalAndWait('SIGTERM', 5_000)
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await this.terminate()
    live.delete(this)
    await this.removeRoot()
  }

  async kill9(): Promise<void> {
    await this.signalAndWait('SIGKILL', 5_000)
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error('restart() after stop(): the data dir is gone')
    await this.terminate()
    this.logParts.push(`[harness] restarting pocketbase ${this.version}\n`)
    const port = (await isPortFree(this.port)) ? this.port : await freePort()
    await this.launchWithPortRetry(port)
  }

  /** For the exit/signal hooks only: synchronous best effort. */
  killSync(): void {
    const run = this.running
    if (run && !run.hasExited() && run.child.pid !== undefined) {
      safeKill(run.child.pid, 'SIGKILL')
      this.untrack(run.child.pid)
    }
    if (process.env.KEEP_PB_DATA !== '1') fs.rmSync(this.root, { recursive: true, force: true })
  }

  private async removeRoot(): Promise<void> {
    if (process.env.KEEP_PB_DATA === '1') {
      console.error(`[harness] KEEP_PB_DATA=1: kept ${this.root}`)
      return
    }
    await fsp.rm(this.root, { recursive: true, force: true })
  }

  async superuserToken(): Promise<string> {
    if (this.token) return this.token
    const res = await fetch(`${this.url}/api/collections/_superusers/auth-with-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity: this.superuser.email, password: this.superuser.password }),
    })
    const body = await res.text()
    if (!res.ok)
      throw new Error(
        `superuser auth failed: HTTP ${res.status} ${body}\nServer log (end):\n${this.logs().slice(-2000)}`,
      )
    const token = (JSON.parse(body) as { token?: unknown }).token
    if (typeof token !== 'string' || token === '') throw new Error(`superuser auth: no token in ${body}`)
    this.token = token
    return token
  }

  async api(urlPath: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    headers.set('Authorization', await this.superuserToken())
    return fetch(this.url + urlPath, { ...init, headers })
  }

  async apiJson<T = unknown>(urlPath: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const hasBody = init.body !== undefined
    const res = await this.api(urlPath, {
      method: init.method ?? (hasBody ? 'POST' : 'GET'),
      headers: hasBody ? { 'content-type': 'application/json' } : {},
      body: hasBody ? JSON.stringify(init.body) : null,
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${init.method ?? (hasBody ? 'POST' : 'GET')} ${urlPath}: HTTP ${res.status} ${text}`)
    return (text === '' ? undefined : JSON.parse(text)) as T
  }

  fetch(urlPath: string, init: RequestInit = {}): Promise<Response> {
    return fetch(this.url + urlPath, { redirect: 'manual', ...init })
  }

  command(args: string[]): Promise<CommandResult> {
    const dirs = ['--dir', this.dataDir, '--hooksDir', this.hooksDir]
    // --hooksWatch=false as for serve: then a pb_hooks file that throws stops the command (a panic).
    dirs.push('--migrationsDir', this.migrationsDir, '--hooksWatch=false', '--automigrate=false')
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, [...args, ...dirs], {
        cwd: this.cwd,
        env: this.childEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      })
      const parts: string[] = []
      for (const stream of [child.stdout, child.stderr]) {
        stream.setEncoding('utf8')
        stream.on('data', (chunk: string) => parts.push(chunk))
      }
      child.once('error', reject)
      child.once('close', (code) => resolve({ code, output: parts.join('') }))
    })
  }
}

// ---------------------------------------------------------------------------------------------

async function copyWithOverlay(src: string, dest: string, overlay: Record<string, string>): Promise<string> {
  if (fs.existsSync(src)) await fsp.cp(src, dest, { recursive: true })
  else await fsp.mkdir(dest, { recursive: true })
  for (const [rel, content] of Object.entries(overlay)) {
    const file = path.resolve(dest, rel)
    // Overlay keys are relative paths inside the copied dir; refuse anything that escapes it.
    if (path.isAbsolute(rel) || !file.startsWith(dest + path.sep))
      throw new Error(`overlay path escapes ${dest}: ${rel}`)
    await fsp.mkdir(path.dirname(file), { recursive: true })
    await fsp.writeFile(file, content)
  }
  return dest
}

/** A port the OS just handed out for 127.0.0.1:0 (free now; launch retries if it is taken). */
async function freePort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', resolve)
  })
  const { port } = srv.address() as AddressInfo
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return port
}

async function isPortFree(port: number): Promise<boolean> {
  const srv = net.createServer()
  return new Promise<boolean>((resolve) => {
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

function safeKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
