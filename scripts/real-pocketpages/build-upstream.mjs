// Builds the real PocketPages and its plugins from a source checkout into an app's node_modules, for
// scripts/real-pocketpages-check.mjs. Not part of npm test: the real packages are not in the npm
// registry this repository's CI reaches.
//
// Upstream builds each package with tsdown to CommonJS `dist/index.js` (its package.json `main`).
// Here esbuild does the same job with the settings of this repository's goja bundles
// (scripts/bundles.mjs), each package into one file: what tsdown leaves external (the
// `pocketbase-*` helpers) is bundled in, and only the packages PocketPages loads by name at run
// time (`pocketpages`, `pocketpages-plugin-*`) stay separate modules.
//
// Where the packages' dependencies come from, in order:
//   1. the checkout's node_modules (after `bun install` or `npm install` in it), if it has them;
//   2. for the four published only by their author (not in every npm registry): source clones in
//      the directory POCKETPAGES_DEPS names (see DEPENDENCY_SOURCES);
//   3. the npm registry, installed once into .cache/real-pocketpages/npm.

import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { build } from 'esbuild'
import { gojaOptions } from '../bundles.mjs'

/** The packages an app's node_modules gets, each from `<checkout>/packages/<dir>/src/index.ts`. */
export const UPSTREAM_PACKAGES = [
  { name: 'pocketpages', dir: 'pocketpages' },
  { name: 'pocketpages-plugin-ejs', dir: 'plugins/ejs' },
  { name: 'pocketpages-plugin-js-sdk', dir: 'plugins/js-sdk' },
  { name: 'pocketpages-plugin-auth', dir: 'plugins/auth' },
]

/** Dependencies from the npm registry (the versions upstream's package.json files ask for). */
const NPM_DEPENDENCIES = [
  '@s-libs/micro-dash@^18.0.0',
  'cookie@^1.0.2',
  'url-parse@^1.5.10',
  'pocketbase-node@^0.0.3',
  // Imported by older PocketPages sources.
  'qs-lite@^1.0.0',
]

/**
 * Dependencies built from their source when the checkout has no node_modules: the clone to make
 * in POCKETPAGES_DEPS (directory name, `git clone` arguments) and the file the package's `main`
 * is built from.
 */
export const DEPENDENCY_SOURCES = {
  'pocketbase-stringify': {
    dir: 'pocketbase-stringify',
    clone: 'https://github.com/benallfree/pocketbase-stringify',
    entry: 'src/index.ts',
  },
  'pocketbase-log': {
    dir: 'pocketbase-log',
    clone: 'https://github.com/benallfree/pocketbase-log',
    entry: 'src/index.ts',
  },
  'pocketbase-ejs': {
    dir: 'pocketbase-ejs',
    clone: '-b pocketbase-release https://github.com/benallfree/pocketbase-ejs',
    entry: 'lib/ejs.js',
  },
  'pocketbase-js-sdk-jsvm': {
    dir: 'pocketbase-js-sdk',
    clone: '-b jsvm https://github.com/benallfree/pocketbase-js-sdk',
    entry: 'src/index.ts',
  },
}

/** The version of each upstream package, read from the checkout. */
/** ` at commit <short hash>` when the checkout is a git work tree (versions can lag behind commits). */
export function commitOf(dir) {
  try {
    const hash = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    return ` at commit ${hash.toString().trim()}`
  } catch {
    return ''
  }
}

export function upstreamVersions(checkout) {
  return Object.fromEntries(
    UPSTREAM_PACKAGES.map(({ name, dir }) => [
      name,
      JSON.parse(fs.readFileSync(path.join(checkout, 'packages', dir, 'package.json'), 'utf8')).version,
    ]),
  )
}

/** Installs the registry dependencies once into `cacheDir/npm`; returns its node_modules. */
function npmDependencies(cacheDir) {
  const dir = path.join(cacheDir, 'npm')
  const marker = path.join(dir, 'installed.json')
  if (!fs.existsSync(marker) || fs.readFileSync(marker, 'utf8') !== JSON.stringify(NPM_DEPENDENCIES)) {
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n')
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', ...NPM_DEPENDENCIES], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    fs.writeFileSync(marker, JSON.stringify(NPM_DEPENDENCIES))
  }
  return path.join(dir, 'node_modules')
}

/** esbuild resolution of the source-built dependencies the checkout's node_modules lacks. */
function sourceDependencies(checkoutModules, depsDir) {
  const entries = {}
  const missing = []
  for (const [name, source] of Object.entries(DEPENDENCY_SOURCES)) {
    if (fs.existsSync(path.join(checkoutModules, name, 'package.json'))) continue
    const entry = depsDir ? path.join(depsDir, source.dir, source.entry) : ''
    if (depsDir && fs.existsSync(entry)) entries[name] = entry
    else missing.push(`git clone ${source.clone} ${source.dir}`)
  }
  if (missing.length > 0) {
    throw new Error(
      'The PocketPages checkout has no node_modules with its dependencies (run `bun install` in it), ' +
        'and POCKETPAGES_DEPS does not name a directory holding these clones; in that directory run:\n  ' +
        missing.join('\n  '),
    )
  }
  const names = Object.keys(entries)
  return {
    name: 'pocketpages-dependency-sources',
    setup(b) {
      if (names.length === 0) return
      const filter = new RegExp(`^(${names.map((n) => n.replace(/[-/]/g, '\\$&')).join('|')})$`)
      b.onResolve({ filter }, (args) => ({ path: entries[args.path] }))
    },
  }
}

/**
 * Builds every UPSTREAM_PACKAGES entry from `checkout` into `<appDir>/node_modules/<name>/index.js`
 * (with a package.json whose main is it).
 */
export async function buildUpstream({ checkout, appDir, cacheDir, depsDir }) {
  const checkoutModules = path.join(checkout, 'node_modules')
  const resolveSources = sourceDependencies(checkoutModules, depsDir)
  const nodePaths = [checkoutModules, npmDependencies(cacheDir)]
  for (const { name, dir } of UPSTREAM_PACKAGES) {
    const packageDir = path.join(checkout, 'packages', dir)
    const outDir = path.join(appDir, 'node_modules', name)
    fs.mkdirSync(outDir, { recursive: true })
    await build({
      ...gojaOptions,
      absWorkingDir: packageDir,
      entryPoints: [path.join(packageDir, 'src/index.ts')],
      outfile: path.join(outDir, 'index.js'),
      // PocketPages loads itself and its plugins by package name at run time.
      external: ['pocketpages', 'pocketpages-plugin-*'],
      nodePaths,
      plugins: [resolveSources],
      banner: { js: `// ${name}, built from ${packageDir} by scripts/real-pocketpages/build-upstream.mjs` },
      logLevel: 'error',
    })
    exportAssignment(path.join(outDir, 'index.js'))
    fs.writeFileSync(path.join(outDir, 'package.json'), JSON.stringify({ name, main: 'index.js' }))
  }
}

/**
 * PocketPages' index.ts ends in TypeScript's `export = {...}` beside ES imports. tsdown turns that
 * into `module.exports = {...}`; esbuild writes `index_module.exports = {...}` without declaring
 * `index_module`, which throws when goja loads the file. Written as tsdown writes it.
 */
function exportAssignment(file) {
  const code = fs.readFileSync(file, 'utf8')
  const fixed = code.replace(/^(\w+)_module\.exports = /m, (whole, prefix) =>
    new RegExp(`\\b(var|let|const) ${prefix}_module\\b`).test(code) ? whole : 'module.exports = ',
  )
  if (fixed !== code) fs.writeFileSync(file, fixed)
}
