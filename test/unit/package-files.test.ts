// What `npm pack` ships: the plugin bundle, the README and the plugin's own migrations, never the
// demo app's migrations (named *_demo_*.js), which would create the demo's collections in a
// user's app.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { repoRoot } from '../../scripts/pocketbase.mjs'

describe('the npm package', () => {
  it('ships every plugin migration and no demo migration', () => {
    const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    const [pack] = JSON.parse(output) as { files: { path: string }[] }[]
    const shipped = pack!.files.map((f) => f.path).filter((p) => p.startsWith('pb_migrations/'))
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
