// How long other writes wait while a big guest is merged into an account, or deleted by the
// cleanup (issue 15, item 2). PocketBase runs write transactions one at a time site-wide, so a
// long merge transaction stalls every other write on the site for as long as it lasts.
//
//   node --import tsx bench/merge-stall.mts [records=20000] [checkout]
//
// env POCKETBASE_VERSION picks the binary; `checkout` runs another built checkout's pb_hooks and
// pb_migrations (e.g. a worktree of the commit before, for the figures before the change).
//
// A guest owning N records (written straight into SQLite) is merged into an account through the
// demo's /login (the default convention), while a second client creates records through the API
// as fast as it can, one at a time: each write's latency is its wait. The same again for the
// cleanup's deletion of such a guest (cascade). Prints the writes' median before, and their
// longest latency during each operation.
import { performance } from 'node:perf_hooks'
import { signInAsGuest } from '../test/support/guest.ts'
import {
  createFullUser,
  createOwnedCollection,
  createTextCollection,
  postPasswordLogin,
  setColumns,
} from '../test/support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../test/support/pocketbase.ts'
import { sqlite } from '../test/support/sqlite.ts'

const records = Number(process.argv[2] ?? 20000)
const checkout = process.argv[3]

/** Inserts `count` rows owned by `owner` in one SQLite statement (no hooks: a fixture). */
function insertOwned(pb: PocketBaseServer, table: string, owner: string, count: number, tag: string): void {
  sqlite(
    pb.dataDir,
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
     INSERT INTO ${table} (id, owner, title) SELECT printf('${tag}%014d', i), '${owner}', 'item ' || i FROM n`,
  )
}

/** Writes in a loop (one at a time) until `stop()`; each write's latency in ms, with its start time. */
function writer(pb: PocketBaseServer, token: string) {
  const samples: { at: number; ms: number }[] = []
  let running = true
  const done = (async () => {
    let i = 0
    while (running) {
      const at = performance.now()
      const res = await fetch(`${pb.url}/api/collections/pings/records`, {
        method: 'POST',
        headers: { Authorization: token, 'Content-Type': 'application/json' },
        body: JSON.stringify({ note: `ping ${i++}` }),
      })
      await res.arrayBuffer()
      if (res.status !== 200) throw new Error(`write failed: ${res.status}`)
      samples.push({ at, ms: performance.now() - at })
    }
  })()
  return {
    samples,
    async stop() {
      running = false
      await done
    },
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
const max = (xs: number[]) => xs.reduce((m, x) => Math.max(m, x), 0)

async function measure(pb: PocketBaseServer, token: string, what: string, run: () => Promise<void>) {
  const w = writer(pb, token)
  await new Promise((r) => setTimeout(r, 1500))
  const start = performance.now()
  await run()
  const end = performance.now()
  await new Promise((r) => setTimeout(r, 300))
  await w.stop()
  const before = w.samples.filter((s) => s.at + s.ms < start).map((s) => s.ms)
  // Every write that overlapped the operation.
  const during = w.samples.filter((s) => s.at < end && s.at + s.ms > start).map((s) => s.ms)
  // The slowest writes, by when they started relative to the operation (ms).
  const slowest = w.samples
    .filter((s) => s.at < end && s.at + s.ms > start)
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 3)
    .map((s) => `${Math.round(s.ms)}@${Math.round(s.at - start)}`)
  const line = {
    what,
    build: checkout ?? 'this checkout',
    records,
    operationMs: Math.round(end - start),
    writesDuring: during.length,
    medianWriteBeforeMs: Number(median(before).toFixed(1)),
    longestWriteBeforeMs: Number(max(before).toFixed(1)),
    longestWriteDuringMs: Number(max(during).toFixed(1)),
    slowest,
  }
  console.log(JSON.stringify(line))
  return line
}

const pb = await startPocketBase({
  env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' },
  ...(checkout ? { cwd: checkout, hooksDir: `${checkout}/pb_hooks`, migrationsDir: `${checkout}/pb_migrations` } : {}),
})
try {
  await createOwnedCollection(pb, 'items', { cascadeDelete: true })
  await createTextCollection(pb, 'pings', ['note'])
  const token = await pb.superuserToken()

  const user = await createFullUser(pb)
  const guest = await signInAsGuest(pb)
  insertOwned(pb, 'items', guest.record.id, records, 'm')
  await measure(pb, token, 'merge (default convention)', async () => {
    const result = await postPasswordLogin(pb, guest.cookie, user.email, user.password)
    if (result.status !== 302) throw new Error(`merge failed: ${result.status} ${result.error}`)
  })
  const moved = sqlite<{ n: number }>(pb.dataDir, `SELECT count(*) AS n FROM items WHERE owner = '${user.id}'`)[0]!.n
  if (moved !== records) throw new Error(`only ${moved} of ${records} records moved`)

  const stale = await signInAsGuest(pb)
  insertOwned(pb, 'items', stale.record.id, records, 'c')
  setColumns(pb.dataDir, 'users', stale.record.id, { lastSeen: '1970-01-01 00:00:00.000Z' })
  await measure(pb, token, 'cleanup (cascade delete)', async () => {
    const res = await pb.api('/api/pocketpages-anonymous/cleanup', { method: 'POST' })
    const text = await res.text()
    if (res.status !== 200) throw new Error(`cleanup failed: ${res.status} ${text}`)
  })
  const left = sqlite<{ n: number }>(
    pb.dataDir,
    `SELECT count(*) AS n FROM items WHERE owner = '${stale.record.id}'`,
  )[0]!.n
  if (left !== 0) throw new Error(`${left} records of the deleted guest are left`)
} finally {
  await pb.stop()
}
