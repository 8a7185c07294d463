// Attack suite, issue 8 class 5: client IPs were stored reversibly. The first version kept one row
// per guest sign-in with the client IP as a plain SHA-256: anyone holding a copy of data.db could
// hash all 2^32 IPv4 addresses (seconds on a laptop) and read who signed in when. Now the limits
// keep counters whose keys are HMACs under keys that live only in memory (and rotate), so a
// stolen database holds nothing an attacker can test guesses against.
//
// The attacker here has the whole data dir after sign-ins, failed upgrades and throttled
// attempts from known IPv4, IPv6 and IPv4-mapped addresses, and searches every value of every
// table for the addresses in any spelling, their networks, and unkeyed hashes of all of those.
// PocketBase's own request log records client IPs unless its setting logs.logIP is off; that is
// PocketBase's choice, not the plugin's, so it is switched off here and the logs are searched too.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { COUNTERS_TABLE } from '../../src/core/constants.ts'
import { attempt, trustProxy } from '../support/abuse.ts'
import {
  dumpDatabase,
  findNeedles,
  fromAddress,
  type Needle,
  plainAndUnkeyedHashes,
  type TableDump,
} from '../support/attack.ts'
import { signInAsGuest } from '../support/guest.ts'
import { postForm } from '../support/http.ts'
import { postUpgrade, uniqueEmail } from '../support/lifecycle.ts'
import { flushedLogs } from '../support/logs.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { sqlite } from '../support/sqlite.ts'

const PASSWORD = 'attack-password-123'

/** The clients, each with every spelling of its address and network an attacker would try. */
const CLIENTS: { address: string; forms: string[] }[] = [
  {
    address: '203.0.113.77',
    forms: [
      '203.0.113.77',
      '4:203.0.113.77/32',
      '203.0.113.77/32',
      '203.0.113.0/24',
      '4:203.0.113.0/24',
      '203.0.113.0',
    ],
  },
  {
    address: '2001:db8:abcd:12::34',
    forms: [
      '2001:db8:abcd:12::34',
      '2001:0db8:abcd:0012:0000:0000:0000:0034',
      '2001:db8:abcd:12:0:0:0:34',
      '2001:db8:abcd:12::/64',
      '2001:db8:abcd:12::',
      '2001:db8:abcd:12:0:0:0:0',
      '6:2001:db8:abcd:12:0:0:0:0/64',
      '2001:db8:abcd:12:0:0:0:0/64',
      '2001:0db8:abcd:0012',
      '2001:db8:abcd:12',
    ],
  },
  {
    address: '::ffff:198.51.100.9',
    forms: [
      '::ffff:198.51.100.9',
      '0000:0000:0000:0000:0000:ffff:c633:6409',
      '198.51.100.9',
      '4:198.51.100.9/32',
      '198.51.100.0/24',
      '4:198.51.100.0/24',
      '198.51.100.0',
    ],
  },
]

function signInFrom(pb: PocketBaseServer, address: string) {
  return attempt(() => postForm(`${pb.url}/login`, { mode: 'anonymous' }, { headers: fromAddress(address) }))
}

describe('issue 8.5: no client address can be recovered from the database', () => {
  let pb: PocketBaseServer
  const statuses: Record<string, number[]> = {}
  let dumps: TableDump[] = []

  const note = (address: string, status: number | string) => {
    statuses[address] ??= []
    statuses[address].push(Number(status))
  }

  before(async () => {
    pb = await startPocketBase({ env: { ANONYMOUS_RATE_LIMIT_PER_IP: '3', ANONYMOUS_RATE_LIMIT_GLOBAL: '' } })
    await trustProxy(pb)
    await pb.apiJson('/api/settings', { method: 'PATCH', body: { logs: { logIP: false } } })

    for (const { address } of CLIENTS) {
      // Three sign-ins pass, the fourth is throttled (429).
      for (let i = 0; i < 4; i++) {
        const o = await signInFrom(pb, address)
        note(address, o.kind === 'response' ? o.status : o.error)
      }
      // Failed upgrades (invalid email, taken email) from this address, by a guest made elsewhere.
      const guest = await signInAsGuest(pb, { headers: fromAddress('192.0.2.1') })
      const taken = uniqueEmail('taken')
      await postUpgrade(pb, (await signInAsGuest(pb, { headers: fromAddress('192.0.2.2') })).cookie, {
        email: taken,
        password: PASSWORD,
        passwordConfirm: PASSWORD,
      })
      for (let i = 0; i < 11; i++) {
        const email = i % 2 === 0 ? 'not-an-email' : taken
        const r = await postUpgrade(
          pb,
          guest.cookie,
          { email, password: PASSWORD, passwordConfirm: PASSWORD },
          {
            headers: fromAddress(address),
          },
        )
        note(address, r.status)
      }
      // And one upgrade that succeeds.
      const other = await signInAsGuest(pb, { headers: fromAddress('192.0.2.3') })
      const ok = await postUpgrade(
        pb,
        other.cookie,
        {
          email: uniqueEmail('saved'),
          password: PASSWORD,
          passwordConfirm: PASSWORD,
        },
        { headers: fromAddress(address) },
      )
      note(address, ok.status)
    }
    await flushedLogs(pb) // PocketBase writes its logs in batches: get them into auxiliary.db first
    dumps = [...dumpDatabase(pb.dataDir, 'data.db'), ...dumpDatabase(pb.dataDir, 'auxiliary.db')]
  })
  after(() => pb?.stop())

  it('the traffic happened: 3 sign-ins then 429, 10 failed upgrades then 429, one upgrade, per address', () => {
    for (const { address } of CLIENTS) {
      const s = statuses[address]!
      assert.deepEqual(s.slice(0, 4), [302, 302, 302, 429], `${address} sign-ins`)
      assert.deepEqual(
        s.slice(4, 14).map((n) => n === 400 || n === 409),
        Array(10).fill(true),
        `${address}: ${s}`,
      )
      assert.equal(s[14], 429, `${address}: the 11th failed upgrade was not throttled`)
      assert.equal(s[15], 302, `${address}: the good upgrade`)
    }
  })

  it('the counters exist (there is something to search): sign-in and upgrade buckets, keys of 32 hex', () => {
    const buckets = sqlite<{ bucket: string }>(pb.dataDir, `SELECT DISTINCT bucket FROM ${COUNTERS_TABLE}`).map(
      (r) => r.bucket,
    )
    assert.ok(buckets.filter((b) => /^signin:[0-9a-f]{32}$/.test(b)).length >= CLIENTS.length, buckets.join(' '))
    assert.ok(
      buckets.some((b) => /^fail\/upgrade\/network:[0-9a-f]{32}$/.test(b)),
      buckets.join(' '),
    )
    assert.ok(
      buckets.some((b) => /^fail\/upgrade:[0-9a-f]{32}$/.test(b)),
      buckets.join(' '),
    )
  })

  it('no value in any table of data.db or auxiliary.db holds an address, its network, or an unkeyed hash of them', () => {
    const needles: Needle[] = CLIENTS.flatMap((c) => c.forms.flatMap(plainAndUnkeyedHashes))
    const tables = dumps.map((d) => `${d.file}:${d.table}(${d.rows.length})`)
    console.log(`[attack ${pb.version}] searched ${needles.length} needles in ${tables.join(' ')}`)
    assert.ok(
      dumps.some((d) => d.table === '_logs' && d.rows.length > 0),
      'the logs were not dumped',
    )
    assert.deepEqual(findNeedles(dumps, needles), [])
  })

  it('a restart forgets the counts (the HMAC keys are memory-only): a limited address may sign in again', async () => {
    const [v4] = CLIENTS
    const o = await signInFrom(pb, v4!.address)
    assert.equal(o.kind === 'response' && o.status, 429, 'not limited before the restart')
    await pb.restart()
    await trustProxy(pb)
    const again = await signInFrom(pb, v4!.address)
    assert.equal(again.kind === 'response' && again.status, 302, 'still limited after a restart')
  })
})
