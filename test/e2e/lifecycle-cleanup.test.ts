// Cleanup of abandoned guests end to end (issue 3): guests whose last activity (or, never seen,
// creation) is older than the retention are deleted by the cron job, which a superuser can also
// run once through POST /api/pocketpages-anonymous/cleanup. Staleness is faked by writing the
// hidden `lastSeen` and `created` columns with sqlite3. Full accounts are never touched.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { formatPocketBaseDate } from '../../src/core/dates.ts'
import { guestMarkerHash, signInAsGuest } from '../support/guest.ts'
import {
  createFullUser,
  createOwnedCollection,
  createRecord,
  DAY_MS,
  findRecord,
  listRecords,
  passwordToken,
  postUpgrade,
  setColumns,
  uniqueEmail,
} from '../support/lifecycle.ts'
import { logsContaining } from '../support/logs.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { sqlite } from '../support/sqlite.ts'

const CLEANUP = '/api/pocketpages-anonymous/cleanup'
const CRON_ID = 'pocketpages-plugin-anonymous-cleanup'

interface CleanupReport {
  dryRun: boolean
  deleted: number
  wouldDelete: number
  kept: number
  failed: number
  skipped: number
  byCollection: Record<string, number>
  prunedCounters: number
}

const daysAgo = (days: number) => formatPocketBaseDate(Date.now() - days * DAY_MS)

/** A guest made through /login, then aged: created and lastSeen `days` ago ('' = never seen). */
async function agedGuest(
  pb: PocketBaseServer,
  createdDaysAgo: number,
  lastSeenDaysAgo: number | null,
): Promise<string> {
  const guest = await signInAsGuest(pb)
  setColumns(pb.dataDir, 'users', guest.record.id, {
    created: daysAgo(createdDaysAgo),
    lastSeen: lastSeenDaysAgo === null ? '' : daysAgo(lastSeenDaysAgo),
  })
  return guest.record.id
}

/** A full account made through the API, then aged the same way. */
async function agedFullUser(
  pb: PocketBaseServer,
  createdDaysAgo: number,
  lastSeenDaysAgo: number | null,
): Promise<string> {
  const user = await createFullUser(pb)
  setColumns(pb.dataDir, 'users', user.id, {
    created: daysAgo(createdDaysAgo),
    lastSeen: lastSeenDaysAgo === null ? '' : daysAgo(lastSeenDaysAgo),
  })
  return user.id
}

async function runCleanup(pb: PocketBaseServer): Promise<CleanupReport> {
  return pb.apiJson<CleanupReport>(CLEANUP, { method: 'POST' })
}

async function exists(pb: PocketBaseServer, id: string): Promise<boolean> {
  return (await findRecord(pb, 'users', id)) !== null
}

async function cronIds(pb: PocketBaseServer): Promise<{ id: string; expression: string }[]> {
  return pb.apiJson<{ id: string; expression: string }[]>('/api/crons')
}

/** A +config.js with these cleanup options (and other plugin options). */
function config(cleanup: Record<string, unknown>, other: Record<string, unknown> = {}): string {
  const options = { name: 'pocketpages-plugin-anonymous', rateLimit: { perNetwork: 1000 }, ...other, cleanup }
  return `module.exports = { plugins: ['pocketpages-plugin-ejs', ${JSON.stringify(options)}] }\n`
}

describe('cleanup of abandoned guests through POST /api/pocketpages-anonymous/cleanup', () => {
  let pb: PocketBaseServer
  let report: CleanupReport
  let status: number
  const deletedIds: Record<string, string> = {}
  const keptIds: Record<string, string> = {}
  const notes: Record<string, string> = {}

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
    await createOwnedCollection(pb, 'memos', { cascadeDelete: true })

    deletedIds['guest last seen 40 days ago'] = await agedGuest(pb, 40, 40)
    deletedIds['guest never seen, created 40 days ago'] = await agedGuest(pb, 40, null)
    deletedIds['guest last seen 31 days ago'] = await agedGuest(pb, 31, 31)
    keptIds['fresh guest'] = (await signInAsGuest(pb)).record.id
    keptIds['guest created 40 days ago, seen yesterday'] = await agedGuest(pb, 40, 1)
    keptIds['guest seen 29 days ago'] = await agedGuest(pb, 40, 29)
    keptIds['guest never seen, created 29 days ago'] = await agedGuest(pb, 29, null)
    keptIds['full account created and seen 40 days ago'] = await agedFullUser(pb, 40, 40)
    keptIds['full account created 400 days ago, never seen'] = await agedFullUser(pb, 400, null)
    // A superuser may set the flag on a full account; its real password still says it is no guest.
    const flagged = await agedFullUser(pb, 40, 40)
    setColumns(pb.dataDir, 'users', flagged, { anonymous: true })
    keptIds['full account flagged as a guest, seen 40 days ago'] = flagged
    const upgraded = await signInAsGuest(pb)
    const password = 'upgraded-long-ago'
    const result = await postUpgrade(pb, upgraded.cookie, {
      email: uniqueEmail('upgraded'),
      password,
      passwordConfirm: password,
    })
    assert.equal(result.status, 302, `upgrade failed: ${result.error}`)
    setColumns(pb.dataDir, 'users', upgraded.record.id, { created: daysAgo(40), lastSeen: daysAgo(40) })
    keptIds['guest upgraded to a full account, created and last seen 40 days ago'] = upgraded.record.id

    notes.ofStaleGuest = (await createRecord(pb, 'memos', { owner: deletedIds['guest last seen 40 days ago'] })).id
    notes.ofFreshGuest = (await createRecord(pb, 'memos', { owner: keptIds['fresh guest'] })).id
    notes.ofFullAccount = (
      await createRecord(pb, 'memos', { owner: keptIds['full account created and seen 40 days ago'] })
    ).id

    // Three counter rows that no window can see any more: the run prunes them.
    const old = Date.now() - 60 * 1000
    sqlite(
      pb.dataDir,
      `INSERT INTO pocketpages_anonymous_counters (bucket, slot, count, expires) VALUES ('old-a', 1, 1, ${old}), ('old-b', 1, 1, ${old - 1}), ('old-c', 1, 1, ${old - 2})`,
    )

    const res = await pb.api(CLEANUP, { method: 'POST' })
    status = res.status
    const text = await res.text()
    assert.equal(status, 200, `cleanup failed: ${text}`)
    report = JSON.parse(text) as CleanupReport
  })
  after(() => pb?.stop())

  it('answers 200 with a JSON report of what it did', () => {
    assert.equal(status, 200)
    assert.deepEqual(
      report,
      {
        dryRun: false,
        deleted: 3,
        wouldDelete: 0,
        kept: 0,
        failed: 0,
        skipped: 1,
        byCollection: { users: 3 },
        finishedMerges: 0,
        prunedCounters: 3,
      },
      'the report of the first run',
    )
  })

  it('deletes exactly the guests inactive for more than 30 days', async () => {
    for (const [what, id] of Object.entries(deletedIds))
      assert.equal(await exists(pb, id), false, `not deleted: ${what}`)
    for (const [what, id] of Object.entries(keptIds))
      assert.equal(await exists(pb, id), true, `wrongly deleted: ${what}`)
  })

  it("deletes a stale guest's data through PocketBase's cascade, and nothing else", async () => {
    assert.equal(
      await findRecord(pb, 'memos', notes.ofStaleGuest!),
      null,
      "the stale guest's note survived (cascadeDelete)",
    )
    assert.ok(await findRecord(pb, 'memos', notes.ofFreshGuest!), "a fresh guest's note was deleted")
    assert.ok(await findRecord(pb, 'memos', notes.ofFullAccount!), "a full account's note was deleted")
  })

  it('prunes only the rate-limit counters that no window can see any more', () => {
    const rows = sqlite<{ bucket: string }>(pb.dataDir, 'SELECT bucket FROM pocketpages_anonymous_counters')
    assert.ok(!rows.some((r) => r.bucket.startsWith('old-')), 'expired counters are still there')
    assert.ok(
      rows.some((r) => r.bucket.startsWith('signin:')),
      'the live sign-in counters were pruned too',
    )
  })

  it("logs how many guests it removed in PocketBase's logs", async () => {
    const entries = await logsContaining(pb, 'removed 3 abandoned guest(s)')
    assert.equal(entries.length, 1, 'no log entry (Logs in the dashboard) about the cleanup')
    const entry = entries[0]!
    assert.match(entry.message, /pocketpages-plugin-anonymous: removed 3 abandoned guest\(s\)/)
    assert.equal(entry.data.deleted, 3)
    assert.equal(entry.data.failed, 0)
    assert.equal(entry.data.retentionDays, 30)
  })

  it('deletes nothing on a second run', async () => {
    assert.deepEqual(
      await runCleanup(pb),
      {
        dryRun: false,
        deleted: 0,
        wouldDelete: 0,
        kept: 0,
        failed: 0,
        byCollection: { users: 0 },
        finishedMerges: 0,
        skipped: 1,
        prunedCounters: 0,
      },
      'the report of the second run',
    )
    for (const [what, id] of Object.entries(keptIds))
      assert.equal(await exists(pb, id), true, `deleted on the second run: ${what}`)
  })
})

describe('cleanup route and cron job with the default config', () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
  })
  after(() => pb?.stop())

  it(`registers the cron job '${CRON_ID}' hourly at minute 17`, async () => {
    const job = (await cronIds(pb)).find((c) => c.id === CRON_ID)
    assert.ok(job, `GET /api/crons does not list ${CRON_ID}`)
    assert.equal(job.expression, '17 * * * *')
  })

  it('deletes stale guests when the cron job itself runs (POST /api/crons/:id)', async () => {
    const stale = await agedGuest(pb, 45, 45)
    const fresh = (await signInAsGuest(pb)).record.id
    const res = await pb.api(`/api/crons/${CRON_ID}`, { method: 'POST' })
    assert.ok(res.ok, `running the cron job failed: HTTP ${res.status} ${await res.text()}`)
    // PocketBase runs the job in the background: wait for its effect.
    const deadline = Date.now() + 10_000
    while ((await exists(pb, stale)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(
      await exists(pb, stale),
      false,
      `the cron job did not delete the stale guest; server output:\n${pb.logs().slice(-2000)}`,
    )
    assert.equal(await exists(pb, fresh), true, 'the cron job deleted a fresh guest')
    const entries = await logsContaining(pb, 'removed 1 abandoned guest(s)')
    assert.equal(entries.length, 1, 'the cron run logged nothing')
  })

  it('refuses anyone but a superuser, and deletes nothing then', async () => {
    const staleGuest = await signInAsGuest(pb)
    setColumns(pb.dataDir, 'users', staleGuest.record.id, { created: daysAgo(60), lastSeen: daysAgo(60) })
    const user = await createFullUser(pb)
    const userToken = await passwordToken(pb, user.email, user.password)

    const attempts: { who: string; headers: Record<string, string>; statuses: number[] }[] = [
      { who: 'nobody', headers: {}, statuses: [401] },
      { who: 'a guest (token)', headers: { authorization: staleGuest.token }, statuses: [401, 403] },
      { who: 'a guest (cookie)', headers: { cookie: staleGuest.cookie }, statuses: [401] },
      { who: 'a full user', headers: { authorization: userToken }, statuses: [401, 403] },
    ]
    for (const a of attempts) {
      const res = await fetch(`${pb.url}${CLEANUP}`, { method: 'POST', headers: a.headers })
      const text = await res.text()
      assert.ok(
        a.statuses.includes(res.status),
        `${a.who}: expected ${a.statuses.join(' or ')}, got ${res.status} ${text}`,
      )
      assert.doesNotMatch(text, /"deleted"/, `${a.who}: got a cleanup report`)
    }
    assert.equal(await exists(pb, staleGuest.record.id), true, 'a refused request deleted a stale guest')
  })
})

describe('cleanup options from +config.js', () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({
      hooksOverlay: {
        'pages/+config.js': config(
          { schedule: '*/10 * * * *', retentionDays: 7, batchSize: 2, maxPerRun: 3 },
          { collections: ['users', 'members'] },
        ),
      },
    })
    await pb.apiJson('/api/collections', {
      method: 'POST',
      body: {
        name: 'members',
        type: 'auth',
        fields: [
          { name: 'anonymous', type: 'bool', hidden: true },
          { name: 'lastSeen', type: 'date', hidden: true },
        ],
      },
    })
    // A required relation without cascade: PocketBase refuses to delete a guest it points at.
    await createOwnedCollection(pb, 'locks', { required: true, cascadeDelete: false })
  })
  after(() => pb?.stop())

  it('registers the cron job with the configured schedule', async () => {
    const job = (await cronIds(pb)).find((c) => c.id === CRON_ID)
    assert.ok(job, `GET /api/crons does not list ${CRON_ID}`)
    assert.equal(job.expression, '*/10 * * * *')
  })

  it('uses retentionDays and deletes at most maxPerRun per run, in batches', async () => {
    const stale: string[] = []
    for (let i = 0; i < 5; i++) stale.push(await agedGuest(pb, 20 + i, 8 + i))
    const recent = await agedGuest(pb, 20, 6)

    const first = await runCleanup(pb)
    assert.equal(first.deleted, 3, `first run: ${JSON.stringify(first)}`)
    assert.equal(first.failed, 0)
    const second = await runCleanup(pb)
    assert.equal(second.deleted, 2, `second run: ${JSON.stringify(second)}`)
    assert.equal((await runCleanup(pb)).deleted, 0, 'a third run still found stale guests')
    for (const id of stale)
      assert.equal(await exists(pb, id), false, `guest ${id} idle for 8+ days survived retentionDays 7`)
    assert.equal(await exists(pb, recent), true, 'a guest idle for 6 days was deleted with retentionDays 7')
  })

  it('skips a guest PocketBase refuses to delete, counts it, logs it, and deletes the others', async () => {
    const first = await agedGuest(pb, 30, 12)
    const locked = await agedGuest(pb, 30, 11)
    const last = await agedGuest(pb, 30, 10)
    await createRecord(pb, 'locks', { owner: locked })

    const report = await runCleanup(pb)
    assert.deepEqual(
      { deleted: report.deleted, failed: report.failed },
      { deleted: 2, failed: 1 },
      JSON.stringify(report),
    )
    assert.equal(await exists(pb, first), false)
    assert.equal(await exists(pb, last), false, 'the guest after the undeletable one was not reached')
    assert.equal(await exists(pb, locked), true)

    const entries = await logsContaining(pb, 'could not delete an abandoned guest')
    assert.ok(
      entries.some((e) => e.data.recordId === locked),
      `no warning names the undeletable guest: ${JSON.stringify(entries)}`,
    )

    const again = await runCleanup(pb)
    assert.deepEqual(
      { deleted: again.deleted, failed: again.failed },
      { deleted: 0, failed: 1 },
      'the undeletable guest must be retried, not hidden',
    )

    // Once nothing holds it any more, the next run deletes it.
    const [lock] = await listRecords(pb, 'locks', `owner = "${locked}"`)
    await pb.api(`/api/collections/locks/records/${lock!.id}`, { method: 'DELETE' })
    const third = await runCleanup(pb)
    assert.deepEqual({ deleted: third.deleted, failed: third.failed }, { deleted: 1, failed: 0 })
    assert.equal(await exists(pb, locked), false)
  })

  it('covers every auth collection listed in `collections`', async () => {
    const memberGuest = await createRecord(pb, 'members', {
      email: uniqueEmail('member-guest'),
      password: 'member-guest-pw',
      passwordConfirm: 'member-guest-pw',
      anonymous: true,
    })
    const memberFull = await createRecord(pb, 'members', {
      email: uniqueEmail('member-full'),
      password: 'member-full-pw',
      passwordConfirm: 'member-full-pw',
      anonymous: false,
    })
    // 'members' has just the two fields the README's "Using another collection" asks for; an auth
    // collection made through the API (or a migration) has no 'created' field unless one adds it.
    for (const record of [memberGuest, memberFull])
      setColumns(pb.dataDir, 'members', record.id, { lastSeen: daysAgo(40) })
    // A guest is flagged AND has the plugin's password marker (what signInAnonymously() writes).
    setColumns(pb.dataDir, 'members', memberGuest.id, { password: guestMarkerHash() })
    const userGuest = await agedGuest(pb, 40, 40)

    const report = await runCleanup(pb)
    // On failure, show why (the plugin logs a warning per skipped collection; logs flush in batches).
    const skipped =
      report.byCollection.members === 1
        ? []
        : (await logsContaining(pb, 'pocketpages-plugin-anonymous: cleanup', 5_000)).map(
            (e) => `${e.data.collection}: ${e.data.error}`,
          )
    assert.deepEqual(
      { deleted: report.deleted, failed: report.failed, byCollection: report.byCollection },
      { deleted: 2, failed: 0, byCollection: { users: 1, members: 1 } },
      `members was not cleaned up; warnings: ${skipped.join(' | ') || '(none flushed yet)'}`,
    )
    assert.equal(await findRecord(pb, 'members', memberGuest.id), null, 'the stale guest in members survived')
    assert.ok(await findRecord(pb, 'members', memberFull.id), 'a full account in members was deleted')
    assert.equal(await exists(pb, userGuest), false)
  })
})

describe('cleanup.enabled: false', () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({ hooksOverlay: { 'pages/+config.js': config({ enabled: false }) } })
  })
  after(() => pb?.stop())

  it('registers no cron job', async () => {
    const ids = (await cronIds(pb)).map((c) => c.id)
    assert.ok(!ids.includes(CRON_ID), `the cron job is registered although cleanup.enabled is false: ${ids.join(', ')}`)
  })

  it('still lets a superuser run the cleanup by hand', async () => {
    const stale = await agedGuest(pb, 40, 40)
    const report = await runCleanup(pb)
    assert.equal(report.deleted, 1)
    assert.equal(await exists(pb, stale), false)
  })
})
