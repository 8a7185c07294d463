// Attack suite, issue 15 class 2: a merge was one unbounded write transaction. A guest creates
// thousands of records through the API (free), then signs in to a free account of its own: the
// merge saved every record in one transaction, and every other write of the site waited for it
// (20,000 records: 1.5-4 s). The cleanup's deletion of such a guest (cascade) had the same shape.
// Now both commit in short batches: seen from another connection, the guest's records leave it a
// batch at a time while other clients' writes go on. No timings are asserted; the longest write
// wait is reported (bench/merge-stall.mts measures it at 20,000 records).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { pool } from '../support/abuse.ts'
import { concurrentWrites, sampleCount } from '../support/concurrent-writes.ts'
import { type GuestSession, signInAsGuest } from '../support/guest.ts'
import {
  createFullUser,
  createTextCollection,
  postPasswordLogin,
  sessionFrom,
  setColumns,
  usersCollectionId,
} from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { sqlite } from '../support/sqlite.ts'

const RECORDS = 1500

/** As the attacker: `count` records owned by the guest, created through the API with its own token. */
async function spam(pb: PocketBaseServer, guest: GuestSession, count: number): Promise<void> {
  await pool(count, 8, async (i) => {
    const res = await fetch(`${pb.url}/api/collections/items/records`, {
      method: 'POST',
      headers: { Authorization: guest.token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ owner: guest.record.id, title: `spam ${i}` }),
    })
    const text = await res.text()
    assert.equal(res.status, 200, `the guest could not create a record: ${res.status} ${text}`)
  })
}

/** Counts the guest's records from another connection (committed rows only) until `stop()`. */
const watchOwned = (pb: PocketBaseServer, owner: string) =>
  sampleCount(pb, `SELECT count(*) FROM items WHERE owner = '${owner}'`)

const describeWrites = ({ count, longest }: { count: number; longest: number }) =>
  `${count} bystander writes, the longest ${longest.toFixed(0)} ms`

const partial = (seen: number[]) => [...new Set(seen)].filter((n) => n > 0 && n < RECORDS)

describe('attack: a guest with thousands of records stalls the site through a merge or the cleanup', () => {
  let pb: PocketBaseServer
  let token: string

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
    const users = await usersCollectionId(pb)
    await pb.apiJson('/api/collections', {
      method: 'POST',
      body: {
        name: 'items',
        type: 'base',
        createRule: '@request.auth.id != "" && owner = @request.auth.id',
        fields: [
          { name: 'owner', type: 'relation', collectionId: users, maxSelect: 1, cascadeDelete: true },
          { name: 'title', type: 'text' },
        ],
      },
    })
    await createTextCollection(pb, 'pings', ['note'])
    token = await pb.superuserToken()
  })
  after(() => pb?.stop())

  it('merging it into an account commits in batches while other writes go on', async (t) => {
    const guest = await signInAsGuest(pb)
    await spam(pb, guest, RECORDS)
    const account = await createFullUser(pb)

    const writes = concurrentWrites(pb, token)
    const watch = watchOwned(pb, guest.record.id)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const session = sessionFrom(await postPasswordLogin(pb, guest.cookie, account.email, account.password), 'merge')
    await watch.stop()
    t.diagnostic(`merge of ${RECORDS} records: ${describeWrites(await writes.stop())}`)

    assert.equal(session.record.id, account.id)
    assert.ok(
      partial(watch.seen).length > 0,
      `another connection saw the guest's records go all at once (${[...watch.seen].join(', ')}): one long transaction`,
    )
    const moved = sqlite<{ n: number }>(pb.dataDir, `SELECT count(*) AS n FROM items WHERE owner = '${account.id}'`)
    assert.equal(moved[0]!.n, RECORDS, 'every record of the guest reached the account')
  })

  it('the cleanup deletes it in batches while other writes go on', async (t) => {
    const guest = await signInAsGuest(pb)
    await spam(pb, guest, RECORDS)
    setColumns(pb.dataDir, 'users', guest.record.id, { lastSeen: '1970-01-01 00:00:00.000Z' })

    const writes = concurrentWrites(pb, token)
    const watch = watchOwned(pb, guest.record.id)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const res = await pb.api('/api/pocketpages-anonymous/cleanup', { method: 'POST' })
    const text = await res.text()
    await watch.stop()
    t.diagnostic(`cleanup of ${RECORDS} records: ${describeWrites(await writes.stop())}`)

    assert.equal(res.status, 200, `cleanup failed: ${text}`)
    assert.equal((JSON.parse(text) as { deleted: number }).deleted, 1, text)
    assert.ok(
      partial(watch.seen).length > 0,
      `another connection saw the guest's records go all at once (${[...watch.seen].join(', ')}): one long transaction`,
    )
    assert.deepEqual(sqlite(pb.dataDir, `SELECT id FROM items WHERE owner = '${guest.record.id}'`), [], 'all deleted')
    assert.deepEqual(sqlite(pb.dataDir, `SELECT id FROM users WHERE id = '${guest.record.id}'`), [], 'guest deleted')
  })
})
