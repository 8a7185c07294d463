// Another client's writes through PocketBase's API, one at a time, while a test runs a merge or
// the cleanup: how many went through and the longest wait (what a big write transaction stalls).
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import type { PocketBaseServer } from './pocketbase.ts'

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
