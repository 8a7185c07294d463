// `npm start` (scripts/demo.mjs) on a port that is already taken (issue 18.3): it must stop before
// PocketBase starts, name the port and the way out (PORT=...), and never print the "Demo:" line,
// which would point at the other program. The port is held by this test's own listener.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { repoRoot } from '../../scripts/pocketbase.mjs'

const run = promisify(execFile)

describe('npm start on a port already in use', () => {
  const busy = net.createServer()
  let port = 0

  before(async () => {
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    port = (busy.address() as net.AddressInfo).port
  })
  after(() => new Promise<void>((resolve) => busy.close(() => resolve())))

  it('exits 1 with a message naming the port, and prints no Demo line', async () => {
    const result = await run(process.execPath, [path.join(repoRoot, 'scripts/demo.mjs')], {
      cwd: repoRoot,
      env: { ...process.env, PORT: String(port) },
      timeout: 30_000,
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    )
    assert.equal(result.code, 1, `exit code; output:\n${result.stdout}${result.stderr}`)
    assert.match(result.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`), 'the message')
    assert.match(result.stderr, /PORT=\d+ npm start/, 'the way out')
    assert.doesNotMatch(`${result.stdout}${result.stderr}`, /Demo:/, 'a Demo line for the other program')
    assert.doesNotMatch(result.stdout, /PocketBase \d/, 'PocketBase was started')
  })
})
