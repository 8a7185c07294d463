// Attack suite, issue 8 class 3: existing installs. The first plugin version left its state open:
// a visible (client-writable) `anonymous` field, guests whose password was 53 random characters
// after `$2a$10$`, full accounts whose flag may have been set through that hole, and a sign-in log
// of client IPs as plain SHA-256 (reversible by trying every address). The second migration
// (1764892800_pocketpages_anonymous_server_state.js) must close all of it on an existing database
// without signing anyone out. Here: an install made with the second migration replaced by a
// no-op, the old state written into it, then the real migration installed and PocketBase restarted.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { repoRoot } from '../../scripts/pocketbase.mjs'
import { GUEST_PASSWORD_DIGEST } from '../../src/core/guest-identity.ts'
import { firstVersionGuestEmail, firstVersionGuestHash, sha256Hex } from '../support/attack.ts'
import { signInAsGuest } from '../support/guest.ts'
import {
  authWithPassword,
  cookieForToken,
  createFullUser,
  createRecord,
  type FullUser,
  forgeAuthToken,
  passwordToken,
  postUpgrade,
  type RawUser,
  rawUser,
  sessionFrom,
  setColumns,
  uid,
  uniqueEmail,
  usersCollectionId,
  viewHome,
} from '../support/lifecycle.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { sqlite } from '../support/sqlite.ts'

const SECOND_MIGRATION = '1764892800_pocketpages_anonymous_server_state.js'
const NO_OP = 'migrate((app) => {}, (app) => {})\n'
const OLD_TABLE = 'pocketpages_anonymous_signins'
const COUNTERS = 'pocketpages_anonymous_counters'
const PASSWORD = 'upgraded-password-123'

type Flagged = FullUser & { row: RawUser; hash: string }

interface OldGuest {
  id: string
  email: string
  oldHash: string
  tokenKey: string
  cookie: string
}

function passwordHash(pb: PocketBaseServer, id: string): string {
  return sqlite<{ password: string }>(pb.dataDir, `SELECT password FROM users WHERE id = '${id}'`)[0]!.password
}

function tableExists(pb: PocketBaseServer, name: string): boolean {
  return sqlite(pb.dataDir, `SELECT name FROM sqlite_master WHERE type = 'table' AND name = '${name}'`).length === 1
}

async function hiddenFlags(pb: PocketBaseServer): Promise<Record<string, boolean>> {
  const users = await pb.apiJson<{ fields: { name: string; hidden: boolean }[] }>('/api/collections/users')
  const byName = Object.fromEntries(users.fields.map((f) => [f.name, f.hidden]))
  return { anonymous: !!byName.anonymous, lastSeen: !!byName.lastSeen }
}

describe('issue 8.3: an install of the first version, then the second migration', () => {
  let pb: PocketBaseServer
  let collectionId: string
  const guests: OldGuest[] = []
  /** Full accounts with the flag: one whose hash ends in one of .Oeu, one whose hash does not. */
  const flagged: Flagged[] = []
  let control: Flagged
  let migrationLog = ''

  /** A guest as the first version stored it: flag set, random non-bcrypt "hash", guest email. */
  async function oldGuest(canonicalHash: boolean): Promise<OldGuest> {
    const email = firstVersionGuestEmail()
    const scratch = `scratch-${uid()}-${uid()}`
    const record = await createRecord(pb, 'users', {
      email,
      password: scratch,
      passwordConfirm: scratch,
      anonymous: true,
      verified: false,
      lastSeen: new Date().toISOString().replace('T', ' '),
    })
    const oldHash = firstVersionGuestHash(canonicalHash)
    setColumns(pb.dataDir, 'users', record.id, { password: oldHash })
    const token = forgeAuthToken(pb.dataDir, { id: record.id, collectionId }, Date.now() / 1000 + 3600)
    return {
      id: record.id,
      email,
      oldHash,
      tokenKey: rawUser(pb.dataDir, record.id)!.tokenKey,
      cookie: cookieForToken(token),
    }
  }

  /**
   * A full account with a real password whose bcrypt digest does (or does not) end in one of the
   * four characters a salt can end in: a real digest can end in 16 (an earlier migration draft
   * took every hash ending outside the four for a guest's and wiped its password). Made by retrying.
   */
  async function fullAccount(digestEndsInSaltCharacter: boolean): Promise<Flagged> {
    for (let attempt = 0; attempt < 60; attempt++) {
      const user = await createFullUser(pb, uniqueEmail('flagged'))
      const hash = passwordHash(pb, user.id)
      if ('.Oeu'.includes(hash[59]!) === digestEndsInSaltCharacter) {
        return { ...user, hash, row: rawUser(pb.dataDir, user.id)! }
      }
      await pb.api(`/api/collections/users/records/${user.id}`, { method: 'DELETE' })
    }
    throw new Error('no bcrypt hash of the wanted shape in 60 tries')
  }

  before(async () => {
    pb = await startPocketBase({
      env: { ANONYMOUS_RATE_LIMIT_PER_IP: '1000' },
      migrationsOverlay: { [SECOND_MIGRATION]: NO_OP },
    })
    collectionId = await usersCollectionId(pb)

    // The old install, as the first migration left it.
    assert.deepEqual(await hiddenFlags(pb), { anonymous: false, lastSeen: true }, 'not the first version state')
    assert.ok(tableExists(pb, OLD_TABLE), 'the first migration made no sign-in log')
    assert.ok(!tableExists(pb, COUNTERS), 'the counters table exists before the second migration')

    for (let i = 0; i < 6; i++) guests.push(await oldGuest(false))
    guests.push(await oldGuest(true)) // the 1-in-256 old hash that looks canonical: decided by its email
    for (const endsInSaltCharacter of [false, true]) {
      const account = await fullAccount(endsInSaltCharacter)
      setColumns(pb.dataDir, 'users', account.id, { anonymous: 1 })
      account.row = rawUser(pb.dataDir, account.id)!
      flagged.push(account)
    }
    control = await fullAccount(false)
    const now = Date.now()
    for (const ip of ['203.0.113.5', '203.0.113.6', '2001:db8::1']) {
      sqlite(pb.dataDir, `INSERT INTO ${OLD_TABLE} (ipKey, created) VALUES ('${sha256Hex(ip)}', ${now})`)
    }

    // Install the real second migration and restart, as an upgrade of the package would.
    fs.copyFileSync(
      path.join(repoRoot, 'pb_migrations', SECOND_MIGRATION),
      path.join(pb.migrationsDir, SECOND_MIGRATION),
    )
    sqlite(pb.dataDir, `DELETE FROM _migrations WHERE file = '${SECOND_MIGRATION}'`)
    const logStart = pb.logs().length
    await pb.restart()
    migrationLog = pb.logs().slice(logStart)
  })
  after(() => pb?.stop())

  it('hides both fields', async () => {
    assert.deepEqual(await hiddenFlags(pb), { anonymous: true, lastSeen: true })
  })

  it('drops the old sign-in log (plain SHA-256 of IPs) and creates the counters', () => {
    assert.ok(!tableExists(pb, OLD_TABLE), `${OLD_TABLE} is still there`)
    assert.ok(tableExists(pb, COUNTERS), `${COUNTERS} is missing`)
  })

  it('marks every old guest (the canonical-looking one too) without changing its token key', () => {
    for (const g of guests) {
      const row = rawUser(pb.dataDir, g.id)!
      assert.equal(row.anonymous, 1, `${g.email}: lost its flag`)
      assert.equal(row.tokenKey, g.tokenKey, `${g.email}: token key changed (signed out)`)
      const hash = passwordHash(pb, g.id)
      assert.ok(hash.endsWith(GUEST_PASSWORD_DIGEST), `${g.email}: not marked (${hash})`)
      assert.equal(hash.slice(0, 28), g.oldHash.slice(0, 28), `${g.email}: cost or salt changed`)
    }
  })

  it('keeps old guests signed in, as guests: their cookies still work on /', async () => {
    for (const g of guests) {
      const home = await viewHome(pb, g.cookie)
      assert.equal(home.id, g.id, `${g.email}: the old cookie no longer signs in`)
      assert.equal(home.anonymous, 'yes', `${g.email}: not a guest after the migration`)
      assert.ok(home.setCookie?.value !== '', `${g.email}: the cookie was cleared`)
    }
  })

  it('lets an old guest (non-canonical and canonical-looking) upgrade with its old cookie', async () => {
    for (const g of [guests[0]!, guests.at(-1)!]) {
      const email = uniqueEmail('old-guest')
      const session = sessionFrom(
        await postUpgrade(pb, g.cookie, { email, password: PASSWORD, passwordConfirm: PASSWORD }),
        `upgrade of ${g.email}`,
      )
      assert.equal(session.record.id, g.id)
      assert.equal((await authWithPassword(pb, email, PASSWORD)).status, 200)
      assert.equal(rawUser(pb.dataDir, g.id)!.anonymous, 0)
    }
  })

  it('clears the flag of each full account that had it and changes nothing else of it; the migration names them', async () => {
    for (const account of flagged) {
      const what = `flagged account whose digest ends in '${account.hash[59]}'`
      const row = rawUser(pb.dataDir, account.id)!
      assert.equal(passwordHash(pb, account.id), account.hash, `${what}: its password hash was replaced`)
      assert.equal(row.anonymous, 0, `${what}: still has the flag`)
      assert.deepEqual({ ...row, anonymous: 1 }, account.row, `${what}: other columns changed`)
      assert.equal((await authWithPassword(pb, account.email, account.password)).status, 200, `${what}: password`)
      const token = await passwordToken(pb, account.email, account.password)
      assert.equal((await viewHome(pb, cookieForToken(token))).anonymous, 'no', `${what}: reads as a guest`)
    }
    assert.deepEqual(rawUser(pb.dataDir, control.id), control.row, 'an ordinary full account changed')
    assert.equal(passwordHash(pb, control.id), control.hash)
    const line =
      /\[pocketpages-plugin-anonymous\] migration: (\d+) guest\(s\) marked; (\d+) full account\(s\)[^\n]*/.exec(
        migrationLog,
      )
    assert.ok(line, `no migration summary in the log:\n${migrationLog.slice(0, 2000)}`)
    assert.equal(Number(line[1]), guests.length, line[0])
    assert.equal(Number(line[2]), flagged.length, line[0])
    for (const account of flagged) assert.ok(line[0].includes(account.id), `the summary does not name ${account.id}`)
  })

  it('still signs new guests in (the counters work)', async () => {
    const guest = await signInAsGuest(pb)
    assert.equal((await viewHome(pb, guest.cookie)).anonymous, 'yes')
  })
})
