// What `npm pack` ships: the plugin bundle, the README, the plugin's own migrations and the
// example pages, never the demo app's migrations (named *_demo_*.js), which would create the
// demo's collections in a user's app. The example pages share two files with the demo: the copies
// must stay equal, so what the demo shows is what apps get. And what the bundle holds: the plugin,
// not the benchmark's hooks.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { build } from 'esbuild'
import { gojaOptions, plugin } from '../../scripts/bundles.mjs'
import { repoRoot } from '../../scripts/pocketbase.mjs'

/** The paths `npm pack` would ship. */
function packedPaths(): string[] {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const [pack] = JSON.parse(output) as { files: { path: string }[] }[]
  return pack!.files.map((f) => f.path)
}

/** Files under dir, relative to the repository root. */
function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(path.join(repoRoot, dir), { recursive: true, encoding: 'utf8' })
    .map((f) => `${dir}/${f}`)
    .filter((f) => fs.statSync(path.join(repoRoot, f)).isFile())
}

describe('the npm package', () => {
  it('ships every example page', () => {
    const examples = filesUnder('examples/pages')
    assert.ok(examples.includes('examples/pages/login.ejs'), `examples: ${examples.join(', ')}`)
    const shipped = packedPaths().filter((p) => p.startsWith('examples/'))
    assert.deepEqual(shipped.sort(), examples.sort(), 'package.json "files" must list examples/pages')
  })

  for (const shared of ['_private/upgrade-form.ejs', '_private/guest-form-errors.js', '_private/read-form.js']) {
    it(`examples/pages/${shared} is the demo's own file`, () => {
      const example = fs.readFileSync(path.join(repoRoot, 'examples/pages', shared), 'utf8')
      const demo = fs.readFileSync(path.join(repoRoot, 'pb_hooks/pages', shared), 'utf8')
      assert.equal(example, demo, `copy pb_hooks/pages/${shared} to examples/pages/${shared}`)
    })
  }

  it('ships every plugin migration and no demo migration', () => {
    const shipped = packedPaths().filter((p) => p.startsWith('pb_migrations/'))
    const migrations = fs
      .readdirSync(path.join(repoRoot, 'pb_migrations'))
      .filter((name) => name.endsWith('.js'))
      .map((name) => `pb_migrations/${name}`)
    const demo = migrations.filter((p) => /_demo_/.test(p))
    assert.ok(demo.length > 0, 'no demo migration found: is the naming convention still *_demo_*.js?')
    assert.deepEqual(
      shipped.sort(),
      migrations.filter((p) => !demo.includes(p)).sort(),
      'package.json "files" must list exactly the plugin migrations',
    )
  })
})

describe('the published bundle', () => {
  it('is built from src/ only and carries no benchmark hooks', async () => {
    // The bundle as scripts/build.mjs builds it, in memory.
    const result = await build({
      ...gojaOptions,
      absWorkingDir: repoRoot,
      entryPoints: [path.join(repoRoot, plugin.entry)],
      outfile: path.join(repoRoot, plugin.outfile),
      write: false,
      metafile: true,
      logLevel: 'silent',
    })
    const inputs = Object.keys(result.metafile?.inputs ?? {})
    assert.deepEqual(
      inputs.filter((file) => !file.startsWith('src/') && !file.startsWith('node_modules/')),
      [],
      'every module of the bundle comes from src/ or a package (bench/bench-hooks.ts has its own bundle)',
    )
    const code = result.outputFiles?.[0]?.text ?? ''
    assert.ok(code.length > 10_000, `the bundle was built (${code.length} characters)`)
    for (const name of ['benchmarkHooks', 'bench-hooks', 'createGuest:', 'countGuestSignIn:']) {
      assert.ok(!code.includes(name), `the published bundle mentions ${name}`)
    }
  })
})
