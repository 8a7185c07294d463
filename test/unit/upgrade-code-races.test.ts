// upgradeWithCode / requestUpgradeCode: what another request may change between the code check and
// the transaction that uses the code, and what each refusal tells the person (the message and the
// form field it belongs to). The main scenarios are in upgrade-code.test.ts.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AnonymousAuthError, ErrorCodes } from '../../src/core/errors.ts'
import { requestUpgradeCode } from '../../src/core/operations/request-upgrade-code.ts'
import { upgradeWithCode } from '../../src/core/operations/upgrade-with-code.ts'
import { codeUpgradeWorld, errorOf, type Guest } from '../support/code-upgrade.ts'
import { authFields } from '../support/fake-backend.ts'
import { World, type WorldSpec } from '../support/fake-world.ts'

const setup = codeUpgradeWorld

const wrongFor = (code: string) => (code === '00000000' ? '11111111' : '00000000')

describe('upgradeWithCode: what each refusal says', () => {
  it('a wrong code: INVALID_CODE, on the code field', () => {
    const { as, codeFor } = setup()
    const { otpId, code } = codeFor('p@mail.test')
    const error = errorOf(() => upgradeWithCode(as(), { otpId, code: wrongFor(code) }))
    assert.equal(error.code, 'INVALID_CODE', error.message)
    assert.equal(
      error.message,
      'That code is not right. Check the email and try again, or ask for a new code.',
      'says what to do',
    )
    assert.deepEqual(error.fieldErrors, { code: 'Not right.' }, 'on the code field')
  })
  it('an expired code: CODE_EXPIRED, on the code field, asking for a new one', () => {
    const { w, as, codeFor } = setup({ users: { fields: authFields(), otp: { duration: 60, length: 8 } } })
    const code = codeFor('p@mail.test')
    w.clock.advance(61)
    const error = errorOf(() => upgradeWithCode(as(), code))
    assert.equal(error.code, 'CODE_EXPIRED', error.message)
    assert.equal(error.message, 'This code has expired. Ask for a new one.', 'says what to do')
    assert.deepEqual(error.fieldErrors, { code: 'Expired.' }, 'on the code field')
  })
  it('too many wrong codes: RATE_LIMITED saying so', () => {
    const { as, codeFor } = setup()
    const { otpId, code } = codeFor('p@mail.test')
    for (let i = 0; i < 5; i++) errorOf(() => upgradeWithCode(as(), { otpId, code: wrongFor(code) }))
    const error = errorOf(() => upgradeWithCode(as(), { otpId, code }))
    assert.equal(error.code, 'RATE_LIMITED', error.message)
    assert.match(error.message, /^Too many wrong codes\. Try again in /, 'names the limit and the wait')
  })
  it("an address of another guest: EMAIL_TAKEN asking for the person's own address", () => {
    const { w, as, codeFor } = setup()
    w.insertGuest({ email: 'someone@mail.test' })
    const error = errorOf(() => upgradeWithCode(as(), codeFor('someone@mail.test')))
    assert.equal(error.code, 'EMAIL_TAKEN', error.message)
    assert.equal(
      error.message,
      'That email belongs to another guest account. Use your own email address.',
      'says what to do',
    )
  })
  it('an address of an account, with upgradeCode.signInToExisting off: EMAIL_TAKEN on the email field', () => {
    const { w, as, codeFor } = setup({ options: { upgradeCode: { signInToExisting: false } } })
    w.insertUser({ email: 'member@mail.test' })
    const error = errorOf(() => upgradeWithCode(as(), codeFor('member@mail.test')))
    assert.equal(error.code, 'EMAIL_TAKEN', error.message)
    assert.match(error.message, /^That email already has an account\. Sign in to it with its password/, 'what to do')
    assert.deepEqual(error.fieldErrors, { email: 'Already in use.' }, 'on the email field')
  })
  it("the upgraded record cannot be saved: VALIDATION_FAILED with PocketBase's reason, nothing changed", () => {
    const { w, g, as, codeFor } = setup()
    const code = codeFor('p@mail.test')
    w.backend.before('save', () => {
      throw new Error('GoError: name: Must be at least 3 characters.')
    })
    const error = errorOf(() => upgradeWithCode(as(), code))
    assert.equal(error.code, 'VALIDATION_FAILED', error.message)
    assert.equal(
      error.message,
      'The account could not be saved: name: Must be at least 3 characters.',
      'the reason, in plain words',
    )
    assert.equal(w.backend.row('users', g.record.id)?.anonymous, true, 'still a guest')
    assert.equal(w.backend.otpRows().length, 1, 'the code is kept (the transaction rolled back)')
  })
  it("a refusal of the plugin's own while saving passes unchanged", () => {
    const { w, as, codeFor } = setup()
    const code = codeFor('p@mail.test')
    w.backend.before('save', () => {
      throw new AnonymousAuthError(ErrorCodes.SESSION_ENDED, 'ended meanwhile')
    })
    const error = errorOf(() => upgradeWithCode(as(), code))
    assert.deepEqual([error.code, error.message], ['SESSION_ENDED', 'ended meanwhile'], 'not wrapped')
  })
})

describe('upgradeWithCode: changes by other requests before the transaction', () => {
  /** Runs `change` while the code is checked (bcrypt, no lock held), then the upgrade. */
  function racing(spec: WorldSpec, email: string, change: (w: World, g: Guest) => void) {
    const s = setup(spec)
    const code = s.codeFor(email)
    s.w.backend.before('hashPassword', () => change(s.w, s.g))
    return { ...s, error: errorOf(() => upgradeWithCode(s.as(), code)) }
  }
  it('the code was deleted meanwhile (used, or PocketBase removed it): SESSION_ENDED, not upgraded', () => {
    const { w, g, error } = racing({}, 'p@mail.test', (world) => {
      for (const row of world.backend.otpRows()) world.backend.db.otps.delete(row.id)
    })
    assert.equal(error.code, 'SESSION_ENDED', error.message)
    assert.equal(w.backend.row('users', g.record.id)?.anonymous, true, 'still a guest')
  })
  it("the guest's sessions were ended meanwhile (token key rotated): SESSION_ENDED, not upgraded", () => {
    const { w, g, error } = racing({}, 'p@mail.test', (world, guest) => {
      world.backend.change('users', guest.record.id, { tokenKey: 'rotated-by-another-request' })
    })
    assert.equal(error.code, 'SESSION_ENDED', error.message)
    assert.equal(w.backend.row('users', g.record.id)?.email === 'p@mail.test', false, 'the address was not set')
    assert.equal(w.backend.otpRows().length, 1, 'the code is kept')
  })
  it('the guest was deleted meanwhile: SESSION_ENDED', () => {
    const { error } = racing({}, 'p@mail.test', (world, guest) => world.backend.remove('users', guest.record.id))
    assert.equal(error.code, 'SESSION_ENDED', error.message)
  })
  it('the guest was made a full account meanwhile (flag cleared, same token key): NOT_ANONYMOUS, untouched', () => {
    const { w, g, error } = racing({}, 'p@mail.test', (world, guest) => {
      world.backend.change('users', guest.record.id, { anonymous: false })
    })
    assert.equal(error.code, 'NOT_ANONYMOUS', error.message)
    assert.equal(error.message, 'This guest account has already been saved.', 'says why')
    assert.notEqual(w.backend.row('users', g.record.id)?.email, 'p@mail.test', 'its email was not overwritten')
    assert.equal(w.backend.otpRows().length, 1, 'the code is kept')
  })
  it("the account's address changed meanwhile: SESSION_ENDED, not signed in to it, the guest stays", () => {
    const s = setup()
    s.w.addNotes()
    const note = s.w.backend.insert('notes', { owner: s.g.record.id })
    const user = s.w.insertUser({ email: 'member@mail.test' })
    const code = s.codeFor('member@mail.test')
    // The 1st transaction counts the attempt; the 2nd uses the code on the account.
    let transactions = 0
    s.w.backend.before(
      'transaction',
      () => {
        if (++transactions === 2) s.w.backend.change('users', user.id, { email: 'moved@mail.test' })
      },
      2,
    )
    const ctx = s.as()
    const error = errorOf(() => upgradeWithCode(ctx, code))
    assert.equal(error.code, 'SESSION_ENDED', error.message)
    assert.equal(ctx.session.record?.id, s.g.record.id, 'still the guest')
    assert.equal(s.w.backend.row('notes', note.id)?.owner, s.g.record.id, 'nothing was merged')
  })
  it('the account was deleted meanwhile: SESSION_ENDED', () => {
    const s = setup()
    const user = s.w.insertUser({ email: 'member@mail.test' })
    const code = s.codeFor('member@mail.test')
    let transactions = 0
    s.w.backend.before(
      'transaction',
      () => {
        if (++transactions === 2) s.w.backend.remove('users', user.id)
      },
      2,
    )
    assert.equal(errorOf(() => upgradeWithCode(s.as(), code)).code, 'SESSION_ENDED', 'refused')
  })
})

describe('upgradeWithCode: a guest that holds the address itself', () => {
  it('(the app stored a real address on the guest) is upgraded in place, not refused as another guest', () => {
    const s = setup()
    s.w.backend.change('users', s.g.record.id, { email: 'mine@mail.test' })
    const { record } = upgradeWithCode(s.as(), s.codeFor('mine@mail.test'))
    assert.equal(record.id, s.g.record.id, 'the same record')
    const row = s.w.backend.row('users', s.g.record.id)
    assert.deepEqual([row?.email, row?.anonymous, row?.verified], ['mine@mail.test', false, true], 'saved')
  })
})

describe('requestUpgradeCode: what each refusal says', () => {
  it('signed out: NOT_SIGNED_IN, asking to sign in as a guest first', () => {
    const w = new World()
    const error = errorOf(() => requestUpgradeCode(w.post().auth.ctx, { email: 'a@mail.test' }))
    assert.equal(error.code, 'NOT_SIGNED_IN', error.message)
    assert.equal(error.message, 'Sign in as a guest before saving the account with a code.', 'says what to do')
  })
  it('a full account: NOT_ANONYMOUS, saying it is saved already', () => {
    const w = new World()
    const user = w.insertUser()
    const error = errorOf(() => requestUpgradeCode(w.post(w.cookieFor(user)).auth.ctx, { email: 'a@mail.test' }))
    assert.equal(error.code, 'NOT_ANONYMOUS', error.message)
    assert.equal(
      error.message,
      'Only a guest account can be saved with a code; this account is already saved.',
      'says why',
    )
  })
  it("an address PocketBase's email rules refuse: VALIDATION_FAILED with its reason on the email field", () => {
    const { w, as } = setup({ users: { fields: authFields({ email: { exceptDomains: ['mail.test'] } }) } })
    const error = errorOf(() => requestUpgradeCode(as(), { email: 'someone@mail.test' }))
    assert.equal(error.code, 'VALIDATION_FAILED', error.message)
    const problem = error.fieldErrors?.email
    assert.ok(problem && /domain/i.test(problem), `the email field carries PocketBase's reason: ${problem}`)
    assert.equal(error.message, `email: ${problem}`, 'the message names the field')
    assert.equal(w.backend.sentCodes.length, 0, 'no mail')
  })
  it('the mail fails: the warning names the guest and the error', () => {
    const { w, g, as } = setup()
    w.backend.before('sendOneTimeCode', () => {
      throw new Error('connection refused')
    })
    errorOf(() => requestUpgradeCode(as(), { email: 'a@mail.test' }))
    const warning = w.backend.logs.find((l) => l.level === 'warn' && /could not be mailed/.test(l.message))
    assert.deepEqual(
      warning?.keyValues,
      ['recordId', g.record.id, 'error', 'Error: connection refused'],
      'which guest, and why',
    )
  })
  it('too many mails for one guest, or from one network: the refusal says which', () => {
    const perGuest = setup()
    for (let i = 0; i < 3; i++) requestUpgradeCode(perGuest.as(), { email: `n${i}@mail.test` })
    assert.match(
      errorOf(() => requestUpgradeCode(perGuest.as(), { email: 'n3@mail.test' })).message,
      /^Too many codes were asked for on this account\. /,
      'per guest',
    )
    const perNetwork = setup({ options: { rateLimit: { perNetwork: 1000 } } })
    for (let i = 0; i < 10; i++) {
      const guest = perNetwork.w.signInGuest()
      requestUpgradeCode(perNetwork.as(guest), { email: `p${i}@mail.test` })
    }
    const last = perNetwork.w.signInGuest()
    assert.match(
      errorOf(() => requestUpgradeCode(perNetwork.as(last), { email: 'p10@mail.test' })).message,
      /^Too many codes were asked for from your network\. /,
      'per network',
    )
  })
  it('counts each mail once per guest, per network and per address, each under its own name', () => {
    const { w, as } = setup()
    requestUpgradeCode(as(), { email: 'a@mail.test' })
    const counted = w.backend
      .counterRows()
      .filter((row) => row.bucket.startsWith('code/'))
      .map((row) => [row.bucket.replace(/:[0-9a-f]{32}$/, ''), row.count])
      .sort()
    assert.deepEqual(
      counted,
      [
        ['code/address', 1],
        ['code/guest', 1],
        ['code/network', 1],
      ],
      'three counts, kept apart',
    )
  })
  it('the address is case-folded without merging distinct addresses (straße and strasse are two inboxes)', () => {
    const { w, as } = setup({ options: { rateLimit: { perNetwork: 1000 } } })
    for (let i = 0; i < 3; i++) {
      const guest = w.signInGuest({ ip: `203.0.113.${i + 1}` })
      requestUpgradeCode(as(guest, { ip: `203.0.113.${i + 1}` }), { email: 'straße@mail.test' })
    }
    const stranger = w.signInGuest({ ip: '198.51.100.9' })
    const other = requestUpgradeCode(as(stranger, { ip: '198.51.100.9' }), { email: 'STRASSE@mail.test' })
    assert.ok(other.otpId, 'another address is not limited by the first one')
  })
})
