// A mistyped option in +config.js (issue 9.6): PocketBase's own commands still work with the app's
// pb_hooks loaded (registerHooks() must not throw there, nor in a bootstrap hook), `serve` starts
// and logs the error naming the option, and pages answer 500: naming the option when the page
// itself rendered (the plugin's onResponse), PocketPages' generic error page when the page called
// one of the plugin's functions, which throw the same error (PocketPages shows an uncaught error's
// message only with its `debug` on: both ways are checked, as the README's INVALID_OPTIONS note
// describes them).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { sqlite } from '../support/sqlite.ts'

const MARKER = '[options-typo] pb_hooks loaded'
const configWith = (extra: string) => `module.exports = {${extra}
  plugins: ['pocketpages-plugin-ejs', { name: 'pocketpages-plugin-anonymous', colection: 'users' }],
}
`
const CONFIG = configWith('')
const PLUGIN_ERROR = /\[pocketpages-plugin-anonymous\] error: .*unknown key 'colection'.*/

describe('a misspelt option in +config.js', () => {
  let pb: PocketBaseServer
  let serveLog = ''

  before(async () => {
    pb = await startPocketBase({
      hooksOverlay: {
        'pages/+config.js': CONFIG,
        // Shows that the CLI commands below really load pb_hooks (with the plugin's registerHooks()).
        'zz-marker.pb.js': `console.log(${JSON.stringify(MARKER)})\n`,
        // A page that calls none of the plugin's functions.
        'pages/plain.ejs': '<h1>Plain page</h1>\n',
      },
      migrationsOverlay: {},
    })
    serveLog = pb.logs()
  })
  after(() => pb?.stop())

  it('serve starts and logs the error once, naming the option', () => {
    const lines = serveLog.match(new RegExp(PLUGIN_ERROR.source, 'gm')) ?? []
    assert.equal(lines.length, 1, `serve output:\n${serveLog}`)
    assert.match(lines[0]!, /invalid option in \+config\.js/)
    assert.doesNotMatch(serveLog, /failed to execute/i)
  })

  it('a page answers 500 naming the option', async () => {
    const res = await pb.fetch('/plain')
    const body = await res.text()
    assert.equal(res.status, 500, body)
    assert.match(body, /unknown key &#39;colection&#39;/)
    assert.doesNotMatch(body, /Plain page/)
  })

  it("a page that calls the plugin's functions answers PocketPages' generic 500 (no debug)", async () => {
    for (const page of ['/', '/login']) {
      const res = await pb.fetch(page)
      const body = await res.text()
      assert.equal(res.status, 500, `${page}: ${body.slice(0, 300)}`)
      assert.match(body, /Internal Server Error/, `${page}: the generic page`)
      assert.doesNotMatch(body, /colection/, `${page}: the message shows without debug`)
    }
  })

  it('`pocketbase superuser upsert` still succeeds, with the hooks loaded', async () => {
    const result = await pb.command(['superuser', 'upsert', 'typo-admin@example.com', 'typoAdminPassword123'])
    assert.equal(result.code, 0, result.output)
    assert.match(result.output, /Successfully saved superuser/)
    assert.ok(result.output.includes(MARKER), `pb_hooks were not loaded by the command:\n${result.output}`)
    assert.doesNotMatch(result.output, /failed to execute|pocketpages-plugin-anonymous/i)
    const login = await fetch(`${pb.url}/api/collections/_superusers/auth-with-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity: 'typo-admin@example.com', password: 'typoAdminPassword123' }),
    })
    assert.equal(login.status, 200, await login.text())
  })

  it('`pocketbase migrate` still applies a new migration, with the hooks loaded', async () => {
    const file = '1900000000_options_typo.js'
    fs.writeFileSync(
      path.join(pb.migrationsDir, file),
      `migrate((app) => { app.save(new Collection({ type: 'base', name: 'typo_check' })) }, (app) => {})\n`,
    )
    const result = await pb.command(['migrate', 'up'])
    assert.equal(result.code, 0, result.output)
    assert.match(result.output, new RegExp(`Applied ${file}`))
    assert.ok(result.output.includes(MARKER), `pb_hooks were not loaded by the command:\n${result.output}`)
    assert.doesNotMatch(result.output, /failed to execute|pocketpages-plugin-anonymous/i)
    // In the database file (the running server may keep its cached collection list).
    assert.deepEqual(sqlite(pb.dataDir, "SELECT name FROM _collections WHERE name = 'typo_check'"), [
      { name: 'typo_check' },
    ])
  })
})

describe("a misspelt option, with PocketPages' debug on", () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({
      hooksOverlay: { 'pages/+config.js': configWith('\n  debug: true,'), 'pages/plain.ejs': '<h1>Plain page</h1>\n' },
      migrationsOverlay: {},
    })
  })
  after(() => pb?.stop())

  it("a page that calls the plugin's functions shows PocketPages' error page with the message", async () => {
    const res = await pb.fetch('/')
    const body = await res.text()
    assert.equal(res.status, 500, body.slice(0, 300))
    assert.match(body, /PocketPages Error/, 'the debug page')
    assert.match(body, /unknown key &#39;colection&#39;/, 'the message')
  })

  it("a page that renders shows the plugin's configuration error page, as without debug", async () => {
    const res = await pb.fetch('/plain')
    const body = await res.text()
    assert.equal(res.status, 500, body.slice(0, 300))
    assert.match(body, /Configuration error/, "the plugin's page")
    assert.match(body, /unknown key &#39;colection&#39;/, 'the message')
  })
})
