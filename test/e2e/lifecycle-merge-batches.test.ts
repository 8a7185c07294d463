// A big merge never stalls the site (issue 15, item 2), end to end on real PocketBase: a guest
// owning thousands of records is merged into an account through the demo's /login while another
// client keeps writing. The merge commits batch by batch (the journal's undo log is seen partly
// filled from another connection), every record moves and the guest goes; a failure in a later
// batch puts every move back; a crash (SIGKILL) midway leaves the guest and its records where they
// were, and the cleanup finishes the merge. The longest wait of the other client's writes is
// reported (bench/merge-stall.mts measures it at 20,000 records), never asserted.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { concurrentWrites, sampleCount } from '../support/concurrent-writes.ts'
import { authRefresh, signInAsGuest } from '../support/guest.ts'
import {
  createFullUser,
  createOwnedCollection,
  createTextCollection,
  postPasswordLogin,
  sessionFrom,
  setColumns,
  viewHome,
} from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { sqlite } from '../support/sqlite.ts'

const RECORDS = 3000
const MERGES = 'pocketpages_anonymous_merges'
const MOVES = 'pocketpages_anonymous_merge_moves'

/** `count` rows of `table` owned by `owner`, written in one SQL statement (a fixture: no hooks). */
function insertOwned(pb: PocketBaseServer, table: string, owner: string, count: number): void {
  const tag = Math.random().toString(36).slice(2, 7)
  sqlite(
    pb.dataDir,
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
     INSERT INTO ${table} (id, owner, title) SELECT printf('${tag}%010d', i), '${owner}', 'item ' || i FROM n`,
  )
}

function countOwned(pb: PocketBaseServer, table: string, owner: string): number {
  return sqlite<{ n: number }>(pb.dataDir, `SELECT count(*) AS n FROM ${table} WHERE owner = '${owner}'`)[0]!.n
}

/** Reads the undo log's size from another connection (committed rows only) until `stop()`. */
const watchMoves = (pb: PocketBaseServer, onSample?: (moves: number) => void) =>
  sampleCount(pb, `SELECT count(*) FROM ${MOVES}`, onSample)

describe('a merge of a guest with thousands of records', () => {
  let pb: PocketBaseServer
  let token: string

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
    await createOwnedCollection(pb, 'items', { cascadeDelete: true })
    await createOwnedCollection(pb, 'tags', { field: 'members', maxSelect: 5, cascadeDelete: false })
    await createOwnedCollection(pb, 'profiles', {
      cascadeDelete: true,
      indexes: ['CREATE UNIQUE INDEX idx_profiles_owner ON profiles (owner)'],
    })
    await createTextCollection(pb, 'pings', ['note'])
    token = await pb.superuserToken()
  })
  after(() => pb?.stop())

  it('commits in batches while other writes go on, moves every record and deletes the guest', async (t) => {
    const user = await createFullUser(pb)
    const guest = await signInAsGuest(pb)
    insertOwned(pb, 'items', guest.record.id, RECORDS)
    const tag = await pb.apiJson<{ id: string }>('/api/collections/tags/records', {
      method: 'POST',
      body: { members: [guest.record.id], title: 'tag' },
    })

    const writes = concurrentWrites(pb, token)
    const watch = watchMoves(pb)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const session = sessionFrom(await postPasswordLogin(pb, guest.cookie, user.email, user.password), 'merge')
    await watch.stop()
    const { longest, count } = await writes.stop()
    t.diagnostic(`${RECORDS} records: ${count} concurrent writes, the longest took ${longest.toFixed(0)} ms`)

    assert.equal(session.record.id, user.id, 'signed in as the account')
    assert.ok(
      watch.seen.some((moves) => moves > 0 && moves < RECORDS),
      `another connection never saw a merge partly committed (undo log sizes seen: ${[...new Set(watch.seen)].join(', ')}): it was not batched`,
    )
    assert.equal(countOwned(pb, 'items', user.id), RECORDS, 'every record moved to the account')
    assert.equal(countOwned(pb, 'items', guest.record.id), 0, 'no record is left on the guest')
    const tagRow = await pb.apiJson<{ members: string[] }>(`/api/collections/tags/records/${tag.id}`)
    assert.deepEqual(tagRow.members, [user.id], 'the multiple relation moved')
    assert.deepEqual(sqlite(pb.dataDir, `SELECT id FROM users WHERE id = '${guest.record.id}'`), [], 'guest deleted')
    assert.deepEqual(sqlite(pb.dataDir, `SELECT * FROM ${MERGES}`), [], 'no journal row is left')
    assert.deepEqual(sqlite(pb.dataDir, `SELECT * FROM ${MOVES}`), [], 'the undo log is purged')
    assert.ok((await viewHome(pb, guest.cookie)).signedOut, "the guest's cookie no longer signs in")
  })

  it('a move failing in a later batch puts every move back and keeps the guest signed in', async () => {
    const user = await createFullUser(pb)
    const guest = await signInAsGuest(pb)
    // items come before profiles: their batches commit, then the guest's profile collides.
    insertOwned(pb, 'items', guest.record.id, 500)
    await pb.apiJson('/api/collections/profiles/records', { method: 'POST', body: { owner: user.id } })
    await pb.apiJson('/api/collections/profiles/records', { method: 'POST', body: { owner: guest.record.id } })

    const result = await postPasswordLogin(pb, guest.cookie, user.email, user.password)
    assert.ok(result.status >= 400, `the merge should have failed (unique owner of profiles), got ${result.status}`)
    assert.match(result.error ?? '', /Nothing was changed/, `unexpected error: ${result.error}`)
    assert.equal(result.setCookie, undefined, 'a failed merge must not touch the cookie')
    assert.equal(countOwned(pb, 'items', guest.record.id), 500, 'every moved record went back to the guest')
    assert.equal(countOwned(pb, 'profiles', guest.record.id), 1)
    assert.equal((await viewHome(pb, guest.cookie)).id, guest.record.id, "the guest's cookie signs in again")
    assert.equal((await authRefresh(pb, 'users', guest.token)).status, 200, "the guest's token works again")
    assert.deepEqual(sqlite(pb.dataDir, `SELECT * FROM ${MERGES}`), [], 'no journal row is left')
    assert.deepEqual(sqlite(pb.dataDir, `SELECT * FROM ${MOVES}`), [], 'no undo log is left')
  })

  it('a crash midway leaves nothing orphaned; the cleanup finishes the merge', async () => {
    const user = await createFullUser(pb)
    const guest = await signInAsGuest(pb)
    const records = RECORDS * 2
    insertOwned(pb, 'items', guest.record.id, records)

    let killed: Promise<void> | undefined
    const watch = watchMoves(pb, (moves) => {
      if (moves > 0 && !killed) killed = pb.kill9()
    })
    const merge = postPasswordLogin(pb, guest.cookie, user.email, user.password).catch(() => null)
    await merge
    await watch.stop()
    assert.ok(killed, 'the server was not killed midway (the merge finished first)')
    await killed

    const journal = sqlite<{ state: string; target: string }>(pb.dataDir, `SELECT state, target FROM ${MERGES}`)
    assert.deepEqual(journal, [{ state: 'moving', target: user.id }], 'the journal holds the merge midway')
    const moved = countOwned(pb, 'items', user.id)
    assert.ok(moved > 0 && moved < records, `the crash should leave the merge midway (${moved} of ${records} moved)`)
    assert.equal(moved + countOwned(pb, 'items', guest.record.id), records, 'every record is on one side or the other')
    assert.equal(
      sqlite(pb.dataDir, `SELECT id FROM users WHERE id = '${guest.record.id}'`).length,
      1,
      'the guest is still there',
    )

    await pb.restart()
    // The runner is gone for good: let its lease run out (instead of waiting a minute), and make the
    // guest abandoned too, so that only the pending merge stops the cleanup from deleting it.
    sqlite(pb.dataDir, `UPDATE ${MERGES} SET heartbeat = 0`)
    setColumns(pb.dataDir, 'users', guest.record.id, { lastSeen: '1970-01-01 00:00:00.000Z' })
    const res = await pb.api('/api/pocketpages-anonymous/cleanup', { method: 'POST' })
    const text = await res.text()
    assert.equal(res.status, 200, `cleanup failed: ${text}`)
    const report = JSON.parse(text) as { finishedMerges: number; deleted: number }
    assert.equal(report.finishedMerges, 1, `the cleanup did not finish the merge: ${text}`)
    assert.equal(report.deleted, 0, 'the guest went by its merge, not as an abandoned guest (with its records)')
    assert.equal(countOwned(pb, 'items', user.id), records, 'every record ended on the account')
    assert.deepEqual(sqlite(pb.dataDir, `SELECT id FROM users WHERE id = '${guest.record.id}'`), [], 'guest deleted')
    assert.deepEqual(sqlite(pb.dataDir, `SELECT * FROM ${MERGES}`), [], 'no journal row is left')
    assert.deepEqual(sqlite(pb.dataDir, `SELECT * FROM ${MOVES}`), [], 'the undo log is purged')
  })
})

describe('the cleanup of a guest with thousands of records', () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
    await createOwnedCollection(pb, 'items', { cascadeDelete: true })
    await createOwnedCollection(pb, 'tags', { field: 'members', maxSelect: 5, cascadeDelete: true })
    await createOwnedCollection(pb, 'reviews', { field: 'author', required: true, cascadeDelete: false })
  })
  after(() => pb?.stop())

  it("deletes them in batches, as PocketBase's delete would, then the guest", async () => {
    const guest = await signInAsGuest(pb)
    const other = await createFullUser(pb)
    insertOwned(pb, 'items', guest.record.id, RECORDS)
    const alone = await pb.apiJson<{ id: string }>('/api/collections/tags/records', {
      method: 'POST',
      body: { members: [guest.record.id] },
    })
    const shared = await pb.apiJson<{ id: string }>('/api/collections/tags/records', {
      method: 'POST',
      body: { members: [other.id, guest.record.id] },
    })
    setColumns(pb.dataDir, 'users', guest.record.id, { lastSeen: '1970-01-01 00:00:00.000Z' })
    const res = await pb.api('/api/pocketpages-anonymous/cleanup', { method: 'POST' })
    const text = await res.text()
    assert.equal(res.status, 200, `cleanup failed: ${text}`)
    assert.equal((JSON.parse(text) as { deleted: number }).deleted, 1, text)
    assert.equal(countOwned(pb, 'items', guest.record.id), 0, 'cascading records deleted')
    assert.deepEqual(sqlite(pb.dataDir, `SELECT id FROM tags WHERE id = '${alone.id}'`), [], 'an emptied tag cascades')
    const sharedRow = await pb.apiJson<{ members: string[] }>(`/api/collections/tags/records/${shared.id}`)
    assert.deepEqual(sharedRow.members, [other.id], 'a tag with others keeps them')
    assert.deepEqual(sqlite(pb.dataDir, `SELECT id FROM users WHERE id = '${guest.record.id}'`), [], 'guest deleted')
  })

  it('refuses, changing nothing, when a required relation points at the guest', async () => {
    const guest = await signInAsGuest(pb)
    insertOwned(pb, 'items', guest.record.id, 300)
    await pb.apiJson('/api/collections/reviews/records', { method: 'POST', body: { author: guest.record.id } })
    setColumns(pb.dataDir, 'users', guest.record.id, { lastSeen: '1970-01-01 00:00:00.000Z' })
    const res = await pb.api('/api/pocketpages-anonymous/cleanup', { method: 'POST' })
    const text = await res.text()
    assert.equal(res.status, 200, `cleanup failed: ${text}`)
    assert.equal((JSON.parse(text) as { failed: number }).failed, 1, text)
    assert.equal(countOwned(pb, 'items', guest.record.id), 300, 'no record of the guest was deleted')
    assert.equal((await viewHome(pb, guest.cookie)).id, guest.record.id, 'the guest was not touched')
  })
})
