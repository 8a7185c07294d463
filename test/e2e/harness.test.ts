// Proves the e2e harness itself (test/support/pocketbase.ts) on the version under test
// (env POCKETBASE_VERSION, else the newest): start, health, superuser API, isolation, stop,
// crash + restart. Needs no pages from the plugin.

import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, describe, test } from 'node:test'
import { repoRoot } from '../../scripts/pocketbase.mjs'
import { defaultVersion, type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

const version = defaultVersion()

/** Every server a test starts, so a failing assertion still stops it. */
const started: PocketBaseServer[] = []
after(async () => {
  await Promise.all(started.map((s) => s.stop()))
})

async function start(opts: Parameters<typeof startPocketBase>[0] = {}): Promise<PocketBaseServer> {
  const server = await startPocketBase({ version, ...opts })
  started.push(server)
  return server
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** A throwaway base collection (superuser-only rules) with one text field. */
async function createCollection(pb: PocketBaseServer, name: string): Promise<void> {
  await pb.apiJson('/api/collections', { body: { name, type: 'base', fields: [{ name: 'title', type: 'text' }] } })
}

async function createRecord(pb: PocketBaseServer, collection: string, title: string): Promise<string> {
  const rec = await pb.apiJson<{ id: string }>(`/api/collections/${collection}/records`, { body: { title } })
  return rec.id
}

describe(`harness on PocketBase ${version}`, () => {
  test('starts, is healthy, superuser token works', async (t) => {
    const t0 = Date.now()
    const pb = await start()
    t.diagnostic(`started in ${Date.now() - t0} ms on ${pb.url}`)
    assert.equal(pb.version, version)
    assert.match(pb.url, /^http:\/\/127\.0\.0\.1:\d+$/)

    const health = await pb.fetch('/api/health')
    assert.equal(health.status, 200)
    assert.equal(((await health.json()) as { code: number }).code, 200)

    const anonymous = await pb.fetch('/api/collections')
    await anonymous.body?.cancel()
    assert.ok(anonymous.status === 401 || anonymous.status === 403, `anonymous /api/collections: ${anonymous.status}`)
    const asSuperuser = await pb.api('/api/collections')
    assert.equal(asSuperuser.status, 200)
    await asSuperuser.body?.cancel()

    assert.match(pb.logs(), /Server started at/)
    assert.doesNotMatch(pb.logs(), /pbinstal/, 'a superuser exists before serve, so no install link is printed')
  })

  test('two servers run at once, isolated', async () => {
    const [a, b] = await Promise.all([start(), start()])
    assert.notEqual(a.port, b.port)
    assert.notEqual(a.dataDir, b.dataDir)
    assert.notEqual(a.pid, b.pid)
    await createCollection(a, 'only_in_a')
    const inA = await a.api('/api/collections/only_in_a')
    const inB = await b.api('/api/collections/only_in_b')
    await Promise.all([inA.body?.cancel(), inB.body?.cancel()])
    assert.equal(inA.status, 200)
    assert.equal(inB.status, 404)
    // --automigrate=false: PocketBase must not write a migration file into the repo for it.
    const written = fs.readdirSync(path.join(repoRoot, 'pb_migrations')).filter((f) => f.includes('only_in_a'))
    assert.deepEqual(written, [])
  })

  test('stop() ends the process and removes the temp data', async () => {
    const pb = await start()
    const { pid, dataDir, url } = pb
    assert.ok(isAlive(pid), `PocketBase (pid ${pid}) runs after start()`)
    await pb.stop()
    assert.equal(isAlive(pid), false, `pid ${pid} still alive after stop()`)
    if (process.env.KEEP_PB_DATA !== '1') assert.equal(fs.existsSync(dataDir), false)
    await assert.rejects(fetch(`${url}/api/health`))
    await pb.stop() // idempotent
  })

  test('kill9() + restart() keeps the data', async () => {
    const pb = await start()
    await createCollection(pb, 'harness_things')
    const id = await createRecord(pb, 'harness_things', 'survives a crash')
    const oldPid = pb.pid
    const oldPort = pb.port

    await pb.kill9()
    assert.equal(isAlive(oldPid), false)
    assert.match(pb.logs(), /SIGKILL/)

    await pb.restart()
    assert.notEqual(pb.pid, oldPid)
    assert.ok(isAlive(pb.pid), `PocketBase (pid ${pb.pid}) runs after restart()`)
    assert.equal(pb.port, oldPort, 'the old port was free, so restart() reuses it')
    const rec = await pb.apiJson<{ id: string; title: string }>(`/api/collections/harness_things/records/${id}`)
    assert.equal(rec.title, 'survives a crash')

    // A graceful restart of a running server works too.
    await pb.restart()
    assert.equal(
      (await pb.apiJson<{ title: string }>(`/api/collections/harness_things/records/${id}`)).title,
      'survives a crash',
    )
  })

  test('hooks and migrations overlays, env, and log capture', async () => {
    const pb = await start({
      env: { HARNESS_GREETING: 'hello from env' },
      hooksPool: 2,
      hooksOverlay: {
        'zz_harness.pb.js': [
          'routerAdd("GET", "/harness-overlay", (e) => {',
          '  console.log("harness-overlay-log-line");',
          '  return e.string(200, $os.getenv("HARNESS_GREETING"));',
          '});',
        ].join('\n'),
      },
      migrationsOverlay: {
        '1700000000_harness.js': [
          'migrate((app) => {',
          '  const c = new Collection({ name: "from_migration_overlay", type: "base", fields: [{ name: "n", type: "number" }] });',
          '  app.save(c);',
          '}, (app) => {});',
        ].join('\n'),
      },
    })
    assert.notEqual(pb.hooksDir, '', 'overlay hooks dir')
    assert.ok(fs.existsSync(`${pb.hooksDir}/zz_harness.pb.js`), 'the overlay file is in the temp hooks dir')

    const res = await pb.fetch('/harness-overlay')
    assert.equal(res.status, 200)
    assert.equal(await res.text(), 'hello from env')
    const col = await pb.api('/api/collections/from_migration_overlay')
    await col.body?.cancel()
    assert.equal(col.status, 200)

    // stdout is a pipe, so give PocketBase a moment to flush the handler's log line.
    const deadline = Date.now() + 2_000
    while (!pb.logs().includes('harness-overlay-log-line') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25))
    assert.match(pb.logs(), /harness-overlay-log-line/)
  })
})
