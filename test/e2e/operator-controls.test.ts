// The operator's view (issue 18): GET /api/pocketpages-anonymous/stats gives superusers aggregate
// figures (guests now; created, upgraded by path, merged, signed out, cleaned up per day; the
// conversion rate), and the cleanup can be previewed (?dryRun=1) and told to keep a guest by the
// app's `beforeGuestDelete` from +config.js. Everything through the real routes and pages.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { formatPocketBaseDate } from '../../src/core/dates.ts'
import { type GuestSession, signInAsGuest } from '../support/guest.ts'
import {
  createFullUser,
  createRecord,
  DAY_MS,
  type FullUser,
  findRecord,
  listRecords,
  passwordToken,
  postPasswordLogin,
  postUpgrade,
  sessionFrom,
  setColumns,
  submitForm,
  uniqueEmail,
  usersCollectionId,
} from '../support/lifecycle.ts'
import { logsContaining } from '../support/logs.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { sqlite } from '../support/sqlite.ts'

const STATS = '/api/pocketpages-anonymous/stats'
const CLEANUP = '/api/pocketpages-anonymous/cleanup'

interface Figures {
  created: number
  upgraded: number
  upgradedBy: Record<string, number>
  merged: number
  signedOut: number
  cleanedUp: number
}

interface Stats {
  windowDays: number
  guestsNow: { total: number; byCollection: Record<string, number> }
  totals: Figures
  conversionRate: number | null
  days: (Figures & { date: string })[]
}

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
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** The figures of the window's last day (today, UTC) without its date, for one comparison. */
function today(stats: Stats): Figures {
  const { date: _date, ...figures } = stats.days.at(-1)!
  return figures
}

describe('GET /api/pocketpages-anonymous/stats', () => {
  let pb: PocketBaseServer
  let stats: Stats
  let statsText: string
  let statsHeaders: Headers
  const guests: GuestSession[] = []
  let member: FullUser
  let upgradedEmail: string
  /** A UTC midnight passed during the set-up: per-day assertions would straddle two days. */
  let dayChanged = false

  before(async () => {
    const startedOn = utcDay(Date.now())
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' } })
    member = await createFullUser(pb)
    for (let i = 0; i < 4; i++) guests.push(await signInAsGuest(pb))
    const [upgrading, merging, leaving] = guests as [GuestSession, GuestSession, GuestSession]

    // A refused upgrade (too short a password) rolls back and counts nothing; then one succeeds.
    upgradedEmail = uniqueEmail('converted')
    const refused = await postUpgrade(pb, upgrading.cookie, {
      email: upgradedEmail,
      password: 'x',
      passwordConfirm: 'x',
    })
    assert.notEqual(refused.status, 302, 'a one-character password was accepted')
    const password = 'a-long-enough-password'
    sessionFrom(
      await postUpgrade(pb, upgrading.cookie, { email: upgradedEmail, password, passwordConfirm: password }),
      'upgrade',
    )
    // Signing in to an existing account as a guest merges the guest into it.
    sessionFrom(await postPasswordLogin(pb, merging.cookie, member.email, member.password), 'merge')
    const out = await submitForm(pb, '/logout', {}, { cookie: leaving.cookie })
    assert.equal(out.status, 302, `sign-out failed: ${out.error ?? out.html.slice(0, 300)}`)
    // The signed-out guest goes at the next cleanup run.
    const run = await pb.apiJson<CleanupReport>(CLEANUP, { method: 'POST' })
    assert.equal(run.deleted, 1, `the cleanup should delete the signed-out guest: ${JSON.stringify(run)}`)

    const res = await pb.api(STATS)
    statsText = await res.text()
    statsHeaders = res.headers
    assert.equal(res.status, 200, `GET ${STATS}: ${res.status} ${statsText}`)
    stats = JSON.parse(statsText) as Stats
    dayChanged = utcDay(Date.now()) !== startedOn
  })
  after(() => pb?.stop())

  it('gives the 30-day totals: 4 created, 1 upgraded by password, 1 merged, 1 signed out, 1 cleaned up', () => {
    assert.deepEqual(
      stats.totals,
      {
        created: 4,
        upgraded: 1,
        upgradedBy: { password: 1, code: 0, oauth2: 0 },
        merged: 1,
        signedOut: 1,
        cleanedUp: 1,
      },
      statsText,
    )
  })

  it('counts the guests there are now (the one left untouched)', () => {
    assert.deepEqual(stats.guestsNow, { total: 1, byCollection: { users: 1 } }, statsText)
  })

  it('gives the conversion rate: (upgraded + merged) / created', () => {
    assert.equal(stats.conversionRate, 0.5, statsText)
  })

  it('lists 30 UTC days, oldest first, with today last holding every event', (t) => {
    assert.equal(stats.windowDays, 30, 'windowDays')
    assert.equal(stats.days.length, 30, 'one entry per day')
    assert.ok(
      stats.days.every((d, i) => i === 0 || stats.days[i - 1]!.date < d.date),
      'days are not in ascending order',
    )
    if (dayChanged) {
      t.skip('a UTC midnight passed during the set-up')
      return
    }
    assert.equal(stats.days.at(-1)!.date, utcDay(Date.now()), 'the last day is not today (UTC)')
    assert.deepEqual(today(stats), stats.totals, 'every event of the set-up happened today')
  })

  it('holds no id, email, token or address', () => {
    const secrets = [
      ...guests.flatMap((g) => [g.record.id as string, g.record.email as string, g.token]),
      member.id,
      member.email,
      upgradedEmail,
      '127.0.0.1',
    ]
    for (const secret of secrets) assert.ok(!statsText.includes(secret), `the stats hold ${secret}`)
    assert.doesNotMatch(statsText, /@/, 'the stats hold something like an email')
  })

  it('is not cached', () => {
    assert.match(statsHeaders.get('cache-control') ?? '', /no-store/, 'Cache-Control')
  })

  it('logs a line per cleanup run with the same figures', async () => {
    const entries = await logsContaining(pb, 'removed 1 abandoned guest(s)')
    assert.equal(entries.length, 1, 'no log line for the cleanup run')
    const data = entries[0]!.data
    assert.deepEqual(
      {
        guestsNow: data.guestsNow,
        created30d: data.created30d,
        upgraded30d: data.upgraded30d,
        password: data['upgraded30d.password'],
        merged30d: data.merged30d,
        signedOut30d: data.signedOut30d,
        cleanedUp30d: data.cleanedUp30d,
        conversionRate30d: data.conversionRate30d,
      },
      {
        guestsNow: 1,
        created30d: 4,
        upgraded30d: 1,
        password: 1,
        merged30d: 1,
        signedOut30d: 1,
        cleanedUp30d: 1,
        conversionRate30d: 0.5,
      },
      entries[0]!.rawData,
    )
  })

  it('answers only superusers', async () => {
    const guest = await signInAsGuest(pb)
    const memberToken = await passwordToken(pb, member.email, member.password)
    const attempts: { who: string; headers: Record<string, string>; statuses: number[] }[] = [
      { who: 'nobody', headers: {}, statuses: [401] },
      { who: 'a guest (token)', headers: { authorization: guest.token }, statuses: [401, 403] },
      { who: 'a guest (cookie)', headers: { cookie: guest.cookie }, statuses: [401] },
      { who: 'a full user', headers: { authorization: memberToken }, statuses: [401, 403] },
    ]
    for (const a of attempts) {
      const res = await fetch(`${pb.url}${STATS}`, { headers: a.headers })
      const text = await res.text()
      assert.ok(
        a.statuses.includes(res.status),
        `${a.who}: expected ${a.statuses.join(' or ')}, got ${res.status} ${text}`,
      )
      assert.doesNotMatch(text, /guestsNow|created/, `${a.who}: got figures`)
    }
  })

  // Last: it breaks the server's counters.
  it('names the missing migration when the counters table is gone', async () => {
    sqlite(pb.dataDir, 'DROP TABLE pocketpages_anonymous_counters')
    const res = await pb.api(STATS)
    const text = await res.text()
    assert.equal(res.status, 500, `without the table: ${res.status} ${text}`)
    assert.match(text, /MIGRATION_MISSING/, 'the error does not name the missing migration')
  })
})

// A poll app's +config.js: keep a guest whose poll someone voted on; a poll titled 'explode'
// makes the hook throw (which must keep the guest too).
const KEEP_VOTED_CONFIG = `module.exports = {
  plugins: [
    'pocketpages-plugin-ejs',
    {
      name: 'pocketpages-plugin-anonymous',
      rateLimit: { perNetwork: 1000 },
      beforeGuestDelete: ({ guest, app }) => {
        const polls = app.findAllRecords('polls', $dbx.hashExp({ owner: guest.id }))
        for (const poll of polls) {
          if (poll.getString('title') === 'explode') throw new Error('the poll check failed')
          if (app.findAllRecords('votes', $dbx.hashExp({ poll: poll.id })).length > 0) return false
        }
        return true
      },
    },
  ],
}
`

describe('cleanup: ?dryRun=1 and beforeGuestDelete from +config.js', () => {
  let pb: PocketBaseServer
  const ids: Record<'voted' | 'unvoted' | 'throws' | 'fresh', string> = {
    voted: '',
    unvoted: '',
    throws: '',
    fresh: '',
  }
  const polls: Record<string, string> = {}
  let vote: string

  /** A guest made through /login, its last activity `days` ago, owning one poll titled `title`. */
  async function staleGuestWithPoll(days: number, title: string): Promise<string> {
    const guest = await signInAsGuest(pb)
    setColumns(pb.dataDir, 'users', guest.record.id, { created: daysAgo(days), lastSeen: daysAgo(days) })
    polls[guest.record.id] = (await createRecord(pb, 'polls', { owner: guest.record.id, title })).id
    return guest.record.id
  }

  const exists = async (id: string) => (await findRecord(pb, 'users', id)) !== null
  const statsNow = () => pb.apiJson<Stats>(STATS)

  before(async () => {
    pb = await startPocketBase({ hooksOverlay: { 'pages/+config.js': KEEP_VOTED_CONFIG } })
    const users = await usersCollectionId(pb)
    const pollsCollection = await pb.apiJson<{ id: string }>('/api/collections', {
      method: 'POST',
      body: {
        name: 'polls',
        type: 'base',
        fields: [
          { name: 'owner', type: 'relation', collectionId: users, maxSelect: 1, cascadeDelete: true },
          { name: 'title', type: 'text' },
        ],
      },
    })
    await pb.apiJson('/api/collections', {
      method: 'POST',
      body: {
        name: 'votes',
        type: 'base',
        fields: [
          { name: 'poll', type: 'relation', collectionId: pollsCollection.id, maxSelect: 1, cascadeDelete: true },
          { name: 'voter', type: 'text' },
        ],
      },
    })
    ids.voted = await staleGuestWithPoll(40, 'lunch?')
    ids.unvoted = await staleGuestWithPoll(41, 'dinner?')
    ids.throws = await staleGuestWithPoll(42, 'explode')
    ids.fresh = (await signInAsGuest(pb)).record.id
    vote = (await createRecord(pb, 'votes', { poll: polls[ids.voted], voter: 'someone else' })).id
  })
  after(() => pb?.stop())

  it('a dry run reports what a run would delete and keep, and deletes nothing', async () => {
    const res = await pb.api(`${CLEANUP}?dryRun=1`, { method: 'POST' })
    const text = await res.text()
    assert.equal(res.status, 200, `dry run: ${res.status} ${text}`)
    assert.deepEqual(
      JSON.parse(text),
      {
        dryRun: true,
        deleted: 0,
        wouldDelete: 1,
        kept: 2,
        failed: 0,
        skipped: 0,
        byCollection: { users: 1 },
        finishedMerges: 0,
        prunedCounters: 0,
      },
      text,
    )
    for (const [what, id] of Object.entries(ids)) assert.ok(await exists(id), `the dry run deleted the ${what} guest`)
    for (const id of Object.values(ids)) assert.ok(!text.includes(id), `the dry-run report names guest ${id}`)
    assert.equal((await statsNow()).totals.cleanedUp, 0, 'the dry run counted deletions in the stats')
    const lines = await logsContaining(pb, 'cleanup dry run: would remove 1 abandoned guest(s)')
    assert.equal(lines.length, 1, 'no log line for the dry run')
  })

  it('refuses a dryRun value it cannot read, and deletes nothing', async () => {
    const res = await pb.api(`${CLEANUP}?dryRun=maybe`, { method: 'POST' })
    const text = await res.text()
    assert.equal(res.status, 400, `dryRun=maybe: ${res.status} ${text}`)
    assert.match(text, /dryRun must be/, 'the 400 says what dryRun accepts')
    assert.ok(await exists(ids.unvoted), 'a refused request deleted a guest')
  })

  it('a run deletes the guest the hook lets go, keeps the voted and the throwing ones, and counts them', async () => {
    const report = await pb.apiJson<CleanupReport>(CLEANUP, { method: 'POST' })
    assert.deepEqual(
      { deleted: report.deleted, kept: report.kept, failed: report.failed, dryRun: report.dryRun },
      { deleted: 1, kept: 2, failed: 0, dryRun: false },
      JSON.stringify(report),
    )
    assert.equal(await exists(ids.unvoted), false, 'the guest with an unvoted poll survived')
    assert.equal(
      (await listRecords(pb, 'polls', `owner = "${ids.unvoted}"`)).length,
      0,
      "the deleted guest's poll survived",
    )
    assert.ok(await exists(ids.voted), 'the guest whose poll others voted on was deleted')
    assert.ok(await exists(ids.throws), 'the guest whose check threw was deleted')
    assert.ok(await exists(ids.fresh), 'a fresh guest was deleted')
    assert.equal((await statsNow()).totals.cleanedUp, 1, 'the stats do not count the deletion')

    const warnings = await logsContaining(pb, 'beforeGuestDelete threw; the guest was kept')
    assert.ok(
      warnings.some((w) => w.data.recordId === ids.throws && /the poll check failed/.test(String(w.data.error))),
      `no warning names the guest and the hook's error: ${JSON.stringify(warnings.map((w) => w.data))}`,
    )
    const line = await logsContaining(pb, 'removed 1 abandoned guest(s)')
    assert.equal(line[0]?.data.kept, 2, "the run's log line does not count the kept guests")
  })

  it('asks again at the next run: once the vote is gone, the guest goes', async () => {
    await pb.api(`/api/collections/votes/records/${vote}`, { method: 'DELETE' })
    const report = await pb.apiJson<CleanupReport>(CLEANUP, { method: 'POST' })
    assert.deepEqual({ deleted: report.deleted, kept: report.kept }, { deleted: 1, kept: 1 }, JSON.stringify(report))
    assert.equal(await exists(ids.voted), false, 'the guest was kept although nobody voted any more')
    assert.ok(await exists(ids.throws), 'the throwing check must keep its guest every run')
  })
})
