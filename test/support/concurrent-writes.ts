// Another client's writes through PocketBase's API, one at a time, while a test runs a merge or
// the cleanup: how many went through and the longest wait (what a big write transaction stalls).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { promisify } from 'node:util'
import type { PocketBaseServer } from './pocketbase.ts'

const execFileAsync = promisify(execFile)

/** Writes records of `collection` (a `note` text field) until `stop()`. */
export function concurrentWrites(pb: PocketBaseServer, token: string, collection = 'pings') {
  let longest = 0
  let count = 0
  let running = true
  const done = (async () => {
    while (running) {
      const start = performance.now()
      const res = await fetch(`${pb.url}/api/collections/${collection}/records`, {
        method: 'POST',
        headers: { Authorization: token, 'Content-Type': 'application/json' },
        body: JSON.stringify({ note: `ping ${count}` }),
      })
      await res.arrayBuffer()
      assert.equal(res.status, 200, `a concurrent write failed: ${res.status}`)
      longest = Math.max(longest, performance.now() - start)
      count++
    }
  })()
  return {
    /** Stops writing; how many writes went through and the longest, in ms. */
    async stop(): Promise<{ longest: number; count: number }> {
      running = false
      await done
      return { longest, count }
    },
  }
}

/**
 * Runs a `SELECT count(*) ...` from another connection (sqlite3, committed rows only) over and over
 * until `stop()`: every count seen, in order. A busy database or a killed server: it tries again.
 */
export function sampleCount(pb: PocketBaseServer, sql: string, onSample?: (count: number) => void) {
  const seen: number[] = []
  let running = true
  const done = (async () => {
    while (running) {
      try {
        const { stdout } = await execFileAsync('sqlite3', ['-cmd', '.timeout 2000', join(pb.dataDir, 'data.db'), sql])
        const count = Number(stdout.trim())
        seen.push(count)
        onSample?.(count)
      } catch {
        // busy, or the server was killed: try again
      }
    }
  })()
  return {
    seen,
    async stop(): Promise<void> {
      running = false
      await done
    },
  }
}
