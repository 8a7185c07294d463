// Abuse: misconfigured collections (issue 4). Guest sign-in against a collection that cannot hold
// guests must answer the demo's page with the error's status and a message naming the collection
// and the fix, create nothing, and the problem must show once in PocketBase's output at start-up.
// Collections come from a migration overlay, so they exist before serve (and the start-up check).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { attempt, countedSignIns, countRows, report, tally } from '../support/abuse.ts'
import { markText } from '../support/guest.ts'
import { getSetCookie, isDeletion, postForm } from '../support/http.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

const PLUGIN_LINE = /^.*\[pocketpages-plugin-anonymous\] (error|warn): .*$/gm

interface Case {
  name: string
  /** The plugin entry's options in +config.js. */
  options: Record<string, unknown>
  /** Body of a migration's up function (`app` in scope), or none. */
  migration?: string
  /** Tables whose rows must not grow. */
  tables: string[]
  /** The <mark> message must match all of these. */
  message: RegExp[]
  /** A start-up line of the plugin (stdout) must match all of these, exactly once. */
  startup: RegExp[]
}

const CASES: Case[] = [
  {
    name: 'collection missing',
    options: { collection: 'nope' },
    tables: ['users'],
    message: [/Collection 'nope' does not exist/, /plugin option 'collection'/, /\+config\.js/],
    startup: [/error: /, /Collection 'nope' does not exist/, /option 'collection'/],
  },
  {
    name: 'not an auth collection',
    options: { collection: 'posts' },
    migration: `app.save(new Collection({ type: 'base', name: 'posts', fields: [
      { name: 'anonymous', type: 'bool', hidden: true }, { name: 'lastSeen', type: 'date', hidden: true }, { name: 'title', type: 'text' },
    ] }))`,
    tables: ['users', 'posts'],
    message: [/Collection 'posts' is a base collection/, /auth collection/, /plugin option 'collection'/],
    startup: [/error: /, /Collection 'posts' is a base collection/, /option 'collection'/],
  },
  {
    name: "auth collection without the 'anonymous' field",
    options: { collection: 'plain' },
    migration: `app.save(new Collection({ type: 'auth', name: 'plain', fields: [{ name: 'lastSeen', type: 'date', hidden: true }] }))`,
    tables: ['users', 'plain'],
    message: [
      /Collection 'plain' has no bool field 'anonymous'/,
      /add a hidden, non-required bool field 'anonymous' to 'plain'/,
      /'anonymousField'/,
    ],
    startup: [/error: /, /Collection 'plain' has no bool field 'anonymous'/],
  },
  {
    name: 'a required custom field the plugin cannot fill',
    options: { collection: 'profiles' },
    migration: `app.save(new Collection({ type: 'auth', name: 'profiles', fields: [
      { name: 'anonymous', type: 'bool', hidden: true }, { name: 'lastSeen', type: 'date', hidden: true }, { name: 'nickname', type: 'text', required: true },
    ] }))`,
    tables: ['users', 'profiles'],
    message: [
      /Collection 'profiles' has required field\(s\) 'nickname'/,
      /optional|autogenerate pattern|onRecordCreate/,
    ],
    startup: [/Collection 'profiles' has required field\(s\) 'nickname'/],
  },
  {
    name: 'email field that rejects the guest domain (onlyDomains)',
    options: { collection: 'members' },
    migration: `const c = new Collection({ type: 'auth', name: 'members', fields: [
      { name: 'anonymous', type: 'bool', hidden: true }, { name: 'lastSeen', type: 'date', hidden: true },
    ] })
    app.save(c)
    const saved = app.findCollectionByNameOrId('members')
    saved.fields.getByName('email').onlyDomains = ['example.org']
    app.save(saved)`,
    tables: ['users', 'members'],
    message: [/Collection 'members' rejected the guest email/, /'example\.com'/, /'emailDomain'/],
    startup: [/'members'/, /example\.com/],
  },
]

function configFor(options: Record<string, unknown>): string {
  return `module.exports = { plugins: ['pocketpages-plugin-ejs', ${JSON.stringify({ name: 'pocketpages-plugin-anonymous', rateLimit: { perNetwork: 1000 }, ...options })}] }`
}

for (const c of CASES) {
  describe(`misconfiguration: ${c.name}`, () => {
    let pb: PocketBaseServer
    let startupLog = ''

    before(async () => {
      pb = await startPocketBase({
        hooksOverlay: { 'pages/+config.js': configFor(c.options) },
        ...(c.migration
          ? {
              migrationsOverlay: {
                '1800000000_abuse_misconfig.js': `migrate((app) => {\n${c.migration}\n}, (app) => {})\n`,
              },
            }
          : {}),
      })
      startupLog = pb.logs()
    })
    after(() => pb?.stop())

    it('answers POST /login with the error page: its status, the message naming the collection and the fix; creates nothing', async () => {
      const counts = () => c.tables.map((t) => countRows(pb, t)).concat(countedSignIns(pb))
      const before = counts()
      const outcomes = []
      for (let i = 0; i < 3; i++) {
        const o = await attempt(() => postForm(`${pb.url}/login`, { mode: 'anonymous' }))
        outcomes.push(o)
        assert.equal(o.kind, 'response')
        if (o.kind !== 'response') continue
        const mark = markText(o.body)
        assert.ok(o.status >= 400 && o.status < 600, `status ${o.status} (<mark>: ${mark})`)
        assert.ok(mark, `no <mark> on the page: a bare error page? ${o.body.slice(0, 300)}`)
        for (const re of c.message) assert.match(mark, re)
        const cookie = o.headers.getSetCookie().find((s) => s.startsWith('pb_auth='))
        assert.ok(!cookie || /max-age=0/i.test(cookie), 'no session may be set')
      }
      const after = counts()
      report(
        pb,
        `misconfig (${c.name}): 3 sign-ins`,
        tally(outcomes),
        after.reduce((s, n, i) => s + n - before[i]!, 0),
      )
      assert.deepEqual(after, before, `rows of ${c.tables.join(', ')}, ${'sign-in log'}`)
    })

    it('renders the rest of the site: GET / is signed out with 200', async () => {
      const res = await pb.fetch('/')
      assert.equal(res.status, 200)
      assert.match(await res.text(), /id="signed-out"/)
      const res2 = await pb.fetch('/', { headers: { cookie: 'pb_auth=garbage' } })
      assert.equal(res2.status, 200)
      const cleared = getSetCookie(res2, 'pb_auth')
      assert.ok(cleared && isDeletion(cleared), `a garbage cookie is cleared, got: ${cleared}`)
    })

    it('logged the problem exactly once, at start-up (not again per request)', () => {
      const atStart = (startupLog.match(PLUGIN_LINE) ?? []).filter((line) => c.startup.every((re) => re.test(line)))
      assert.equal(atStart.length, 1, `start-up output:\n${startupLog}`)
      const all = (pb.logs().match(PLUGIN_LINE) ?? []).filter((line) => c.startup.every((re) => re.test(line)))
      assert.equal(all.length, 1, `after several requests:\n${pb.logs()}`)
      // Only this collection's problem: the demo's own 'users' collection is not reported.
      const others = (pb.logs().match(PLUGIN_LINE) ?? []).filter((line) => /Collection 'users'|Table '/.test(line))
      assert.deepEqual(others, [])
    })
  })
}

describe('misconfiguration: the start-up check names the problem again after a restart', () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({
      hooksOverlay: { 'pages/+config.js': configFor({ collection: 'plain' }) },
      migrationsOverlay: {
        '1800000000_abuse_misconfig.js': `migrate((app) => {\n${CASES[2]!.migration}\n}, (app) => {})\n`,
      },
    })
  })
  after(() => pb?.stop())

  it('logs it once per process', async () => {
    await pb.restart()
    const lines = (pb.logs().match(PLUGIN_LINE) ?? []).filter((line) =>
      /Collection 'plain' has no bool field 'anonymous'/.test(line),
    )
    assert.equal(lines.length, 2, pb.logs())
  })
})
