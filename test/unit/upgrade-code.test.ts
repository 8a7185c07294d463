// requestUpgradeCode / upgradeWithCode: a guest saves itself with a code mailed to an address.
// Each policy against the fake PocketBase: the code is bound to the guest, stored hashed, works
// once and only in time; wrong codes and mails are throttled; nothing changes before the right
// code; an address that has an account means signing in to it (with the guest merged in).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isGuestPasswordHash } from '../../src/core/guest-identity.ts'
import { requestUpgradeCode } from '../../src/core/operations/request-upgrade-code.ts'
import { upgradeWithCode } from '../../src/core/operations/upgrade-with-code.ts'
import { codeUpgradeWorld, errorOf } from '../support/code-upgrade.ts'
import { authFields, fakeBcrypt, type OtpRow } from '../support/fake-backend.ts'
import { SITE, type World } from '../support/fake-world.ts'

const setup = codeUpgradeWorld

const other = (w: World) => w.signInGuest({ ip: '198.51.100.7' })

describe('requestUpgradeCode', () => {
  it('mails a code of at least 8 digits to the address and stores only its hash, bound to the guest', () => {
    const { w, g, request } = setup()
    const before = w.backend.row('users', g.record.id)
    const { otpId } = request('  Person@Mail.test ')
    const [sent] = w.backend.sentCodes
    assert.ok(sent, 'a mail went out')
    assert.equal(sent.to, 'Person@Mail.test', 'to the trimmed address')
    assert.match(sent.code, /^\d{8}$/, 'eight digits (PocketBase default length)')
    const [row] = w.backend.otpRows()
    assert.deepEqual(
      [row?.id, row?.recordId, row?.collectionId, row?.sentTo],
      [otpId, g.record.id, 'pbc_users', 'Person@Mail.test'],
      'bound to this guest, sent to that address',
    )
    assert.ok(row && !row.hash.includes(sent.code), 'the code itself is not stored')
    assert.deepEqual(w.backend.row('users', g.record.id), before, 'the guest is not changed')
  })
  it("uses the collection's otp.length above 8, and never fewer than 8 digits", () => {
    const long = setup({ users: { fields: authFields(), otp: { duration: 180, length: 10 } } })
    assert.match(long.codeFor('a@mail.test').code, /^\d{10}$/, 'otp.length 10')
    const short = setup({ users: { fields: authFields(), otp: { duration: 180, length: 4 } } })
    assert.match(short.codeFor('a@mail.test').code, /^\d{8}$/, 'otp.length 4 is raised to 8')
  })
  it('gives the same answer for an address that has an account (the form tells nobody who has one)', () => {
    const { w, request } = setup()
    const user = w.insertUser({ email: 'taken@mail.test' })
    const { otpId } = request('taken@mail.test')
    assert.ok(otpId, 'a code id')
    assert.equal(w.backend.sentCodes.at(-1)?.to, 'taken@mail.test', 'the code went to the account holder')
    assert.equal(w.backend.row('users', user.id)?.email, 'taken@mail.test', 'the account is untouched')
  })
  it('refuses bad addresses with the reason and sends nothing', () => {
    const { w, request } = setup({
      users: { fields: authFields({ email: { exceptDomains: ['blocked.test'] } }) },
    })
    const cases: [string, RegExp][] = [
      ['', /Enter an email/],
      ['not-an-email', /valid email/],
      [`${'x'.repeat(250)}@mail.test`, /at most 255/],
      ['a@b.test\r\nBcc: victim@mail.test', /valid email/],
      ['anonymous-abc@example.com', /your own email/],
      ['someone@blocked.test', /domain is not allowed/],
    ]
    for (const [email, message] of cases) {
      const error = errorOf(() => request(email))
      assert.equal(error.code, 'VALIDATION_FAILED', `${JSON.stringify(email)}: ${error.message}`)
      assert.match(error.message, message, `${JSON.stringify(email)}`)
    }
    assert.equal(w.backend.sentCodes.length, 0, 'no mail')
    assert.equal(w.backend.otpRows().length, 0, 'no code stored')
  })
  it('refuses a cross-site request, a signed-out browser and a full account, sending nothing', () => {
    const { w, g } = setup()
    const crossSite = w.visit({ method: 'POST', headers: { Origin: 'https://evil.test' }, cookies: [g.cookie] }).auth
      .ctx
    assert.equal(errorOf(() => requestUpgradeCode(crossSite, { email: 'a@mail.test' })).code, 'CROSS_SITE_REQUEST')
    assert.equal(errorOf(() => requestUpgradeCode(w.post().auth.ctx, { email: 'a@mail.test' })).code, 'NOT_SIGNED_IN')
    const user = w.insertUser()
    const asUser = w.post(w.cookieFor(user)).auth.ctx
    assert.equal(errorOf(() => requestUpgradeCode(asUser, { email: 'a@mail.test' })).code, 'NOT_ANONYMOUS')
    assert.equal(w.backend.sentCodes.length, 0, 'no mail')
    assert.equal(
      w.backend.counterRows().filter((row) => !row.bucket.startsWith('stats:')).length,
      1,
      'only the sign-in count: no send was counted',
    )
  })
  it('limits mails per guest: the 4th within the hour is 429 with a wait, and sends nothing', () => {
    const { w, request } = setup()
    for (let i = 0; i < 3; i++) request(`n${i}@mail.test`)
    const error = errorOf(() => request('n3@mail.test'))
    assert.equal(error.code, 'RATE_LIMITED', error.message)
    assert.ok(error.retryAfterSeconds! >= 1 && error.retryAfterSeconds! <= 3600 + 60, `wait ${error.retryAfterSeconds}`)
    assert.match(error.message, /on this account/, 'names the limit')
    assert.equal(w.backend.sentCodes.length, 3, 'three mails')
    w.clock.advance(3661)
    request('n4@mail.test')
    assert.equal(w.backend.sentCodes.length, 4, 'the window passed')
  })
  it('counts mails across the hour the keys rotate at: the window is an hour back from now', () => {
    const { w, request } = setup()
    // Ten minutes before the send counters' keys rotate (they are per clock hour).
    w.clock.advance(3600 - ((w.clock.now() / 1000) % 3600) - 600)
    for (let i = 0; i < 3; i++) request(`r${i}@mail.test`)
    w.clock.advance(20 * 60)
    assert.equal(errorOf(() => request('r3@mail.test')).code, 'RATE_LIMITED', 'the sends of 20 minutes ago count')
    assert.equal(w.backend.sentCodes.length, 3, 'three mails')
  })
  it('limits mails per address, whoever asks from wherever: mail bombing one inbox', () => {
    const { w, request } = setup({ options: { rateLimit: { perNetwork: 1000 } } })
    for (let i = 0; i < 3; i++)
      request('victim@mail.test', w.signInGuest({ ip: `203.0.113.${i + 1}` }), { ip: `203.0.113.${i + 1}` })
    const stranger = w.signInGuest({ ip: '198.51.100.9' })
    const error = errorOf(() => request('VICTIM@mail.test', stranger, { ip: '198.51.100.9' }))
    assert.equal(error.code, 'RATE_LIMITED', 'the address is case-folded')
    assert.match(error.message, /sent to this address/, error.message)
    request('someone-else@mail.test', stranger, { ip: '198.51.100.9' })
    assert.equal(w.backend.sentCodes.length, 4, 'other addresses still work')
  })
  it('limits mails per client network, across guests', () => {
    const { w, request } = setup({ options: { rateLimit: { perNetwork: 1000 } } })
    for (let i = 0; i < 10; i++) request(`p${i}@mail.test`, w.signInGuest())
    const error = errorOf(() => request('p10@mail.test', w.signInGuest()))
    assert.equal(error.code, 'RATE_LIMITED', error.message)
    assert.match(error.message, /from your network/, error.message)
  })
  it('stores neither the address nor the network: only keyed hashes', () => {
    const { w, request } = setup()
    request('private.person@mail.test')
    const buckets = w.backend.counterRows().map((r) => r.bucket)
    assert.ok(
      buckets.some((b) => /^code\/address:[0-9a-f]{32}$/.test(b)),
      `an address counter: ${buckets}`,
    )
    for (const bucket of buckets) {
      assert.ok(!/private|mail\.test|127\.0\.0\.1|192\.0\.2/.test(bucket), `bucket ${bucket} holds plain data`)
    }
  })
  it('when the mail cannot be sent: MAIL_FAILED (503), the code is deleted, a warning is logged', () => {
    const { w, request } = setup()
    w.backend.before('sendOneTimeCode', () => {
      throw new Error('dial tcp 127.0.0.1:25: connect: connection refused')
    })
    const error = errorOf(() => request('a@mail.test'))
    assert.deepEqual([error.code, error.status], ['MAIL_FAILED', 503], error.message)
    assert.match(error.message, /could not send/, 'in plain words')
    assert.equal(w.backend.otpRows().length, 0, 'no code left behind')
    assert.ok(
      w.backend.logs.some((l) => l.level === 'warn' && /could not be mailed/.test(l.message)),
      'logged',
    )
  })
})

describe('upgradeWithCode: no account has the address', () => {
  it('upgrades in place: same id, the address, verified, flag cleared, token key rotated, codes gone', () => {
    const { w, g, as, codeFor } = setup()
    const { otpId, code } = codeFor('Person@Mail.test')
    codeFor('second@mail.test') // another pending code of the same guest
    const before = w.backend.row('users', g.record.id)!
    const ctx = as()
    const { token, record } = upgradeWithCode(ctx, { otpId, code: ` ${code.slice(0, 4)} ${code.slice(4)} ` })
    const after = w.backend.row('users', g.record.id)!
    assert.equal(record.id, g.record.id, 'same id')
    assert.deepEqual(
      [after.email, after.verified, after.anonymous],
      ['Person@Mail.test', true, false],
      'email, verified, flag',
    )
    assert.notEqual(after.tokenKey, before.tokenKey, 'token key rotated')
    assert.ok(!isGuestPasswordHash(String(after.password)), 'the guest marker is replaced by a random password')
    assert.equal(w.backend.findAuthRecordByToken(g.token), null, 'the guest token is dead')
    assert.equal(w.backend.findAuthRecordByToken(token)?.id, g.record.id, 'the new token works')
    assert.equal(ctx.session.record?.id, g.record.id, 'the request is signed in')
    assert.equal(ctx.session.isAnonymous(), false, 'as a full account')
    assert.deepEqual(w.backend.otpRows(), [], 'every code of the guest is deleted')
    assert.ok(
      w.backend.bcryptCalls.every((c) => !c.inTransaction),
      'bcrypt never runs inside a transaction',
    )
  })
  it('changes nothing on a wrong code, and the right code still works after it', () => {
    const { w, g, as, codeFor } = setup()
    const { otpId, code } = codeFor('p@mail.test')
    const before = w.backend.row('users', g.record.id)
    const wrong = code === '00000000' ? '11111111' : '00000000'
    const error = errorOf(() => upgradeWithCode(as(), { otpId, code: wrong }))
    assert.deepEqual([error.code, error.status], ['INVALID_CODE', 400], error.message)
    assert.deepEqual(w.backend.row('users', g.record.id), before, 'nothing changed')
    assert.equal(w.backend.otpRows().length, 1, 'the code is still there')
    assert.equal(upgradeWithCode(as(), { otpId, code }).record.id, g.record.id, 'the right code works')
  })
  it('refuses an expired code with CODE_EXPIRED (lifetime = otp.duration)', () => {
    const { w, g, as, codeFor } = setup({ users: { fields: authFields(), otp: { duration: 300, length: 8 } } })
    const { otpId, code } = codeFor('p@mail.test')
    w.clock.advance(299)
    const fresh = codeFor('q@mail.test')
    w.clock.advance(2)
    const error = errorOf(() => upgradeWithCode(as(), { otpId, code }))
    assert.equal(error.code, 'CODE_EXPIRED', error.message)
    assert.equal(w.backend.row('users', g.record.id)?.anonymous, true, 'still a guest')
    assert.equal(upgradeWithCode(as(), fresh).record.id, g.record.id, 'a code inside its lifetime works')
  })
  it("refuses another guest's code, even with its right digits: the code id is bound to the guest", () => {
    const { w, g, as, codeFor } = setup()
    const b = other(w)
    const bCode = codeFor('b@mail.test', b)
    const error = errorOf(() => upgradeWithCode(as(g), bCode))
    assert.equal(error.code, 'INVALID_CODE', error.message)
    assert.equal(w.backend.row('users', g.record.id)?.anonymous, true, 'A is still a guest')
    assert.equal(w.backend.row('users', b.record.id)?.anonymous, true, 'B is still a guest')
    assert.equal(upgradeWithCode(as(b), bCode).record.id, b.record.id, "B's code still works for B")
  })
  it("refuses a code row of this guest's id in another collection, or one that was never mailed", () => {
    const { w, g, as } = setup()
    const forged = (id: string, row: Partial<OtpRow>) =>
      w.backend.db.otps.set(id, {
        id,
        collectionId: 'pbc_users',
        recordId: g.record.id,
        sentTo: 'p@mail.test',
        createdMs: w.clock.now(),
        hash: fakeBcrypt('12345678', 8),
        ...row,
      })
    forged('othercollection', { collectionId: 'pbc_admins' })
    forged('nevermailed', { sentTo: '' })
    for (const otpId of ['othercollection', 'nevermailed']) {
      const error = errorOf(() => upgradeWithCode(as(), { otpId, code: '12345678' }))
      assert.equal(error.code, 'INVALID_CODE', `${otpId}: ${error.message}`)
    }
    assert.equal(w.backend.row('users', g.record.id)?.anonymous, true, 'still a guest')
  })
  it('takes a right code back from the failure counts', () => {
    const { w, as, codeFor } = setup()
    upgradeWithCode(as(), codeFor('p@mail.test'))
    const failures = w.backend.counterRows().filter((r) => r.bucket.startsWith('fail/upgrade-code'))
    assert.equal(failures.length, 2, 'per code and per network')
    assert.ok(
      failures.every((r) => r.count === 0),
      `counts: ${failures.map((r) => r.count)}`,
    )
  })
  it('throttles wrong codes before the compare: the 6th try on a code is 429, even with the right code', () => {
    const { w, as, codeFor } = setup()
    const { otpId, code } = codeFor('p@mail.test')
    const wrong = code === '00000000' ? '11111111' : '00000000'
    for (let i = 0; i < 5; i++)
      assert.equal(errorOf(() => upgradeWithCode(as(), { otpId, code: wrong })).code, 'INVALID_CODE')
    const compares = w.backend.bcryptCalls.length
    const error = errorOf(() => upgradeWithCode(as(), { otpId, code }))
    assert.equal(error.code, 'RATE_LIMITED', error.message)
    assert.ok(error.retryAfterSeconds! >= 1 && error.retryAfterSeconds! <= 900 + 15, `wait ${error.retryAfterSeconds}`)
    assert.equal(w.backend.bcryptCalls.length, compares, 'no bcrypt compare ran')
  })
  it('throttles wrong codes per client network across guests and codes', () => {
    const { w, as, codeFor } = setup({
      options: { rateLimit: { perNetwork: 1000 }, upgradeCode: { sendsPerNetwork: 100 } },
    })
    let last: { code: string } | undefined
    for (let i = 0; i < 30; i++) {
      const guest = w.signInGuest()
      const { otpId, code } = codeFor(`n${i}@mail.test`, guest)
      const wrong = code === '00000000' ? '11111111' : '00000000'
      last = errorOf(() => upgradeWithCode(as(guest), { otpId, code: wrong }))
      assert.equal(last.code, 'INVALID_CODE')
    }
    const guest = w.signInGuest()
    const fresh = codeFor('last@mail.test', guest)
    assert.equal(errorOf(() => upgradeWithCode(as(guest), fresh)).code, 'RATE_LIMITED', 'the network is throttled')
  })
  it('works once: the same code again is refused', () => {
    const { w, as, codeFor } = setup()
    const code = codeFor('p@mail.test')
    upgradeWithCode(as(), code)
    // The old cookie no longer signs anyone in (token key rotated): a replay is NOT_SIGNED_IN.
    assert.equal(errorOf(() => upgradeWithCode(as(), code)).code, 'NOT_SIGNED_IN')
    assert.equal(w.backend.otpRows().length, 0, 'the code is gone')
  })
  it('two requests racing with the right code: exactly one wins, the other gets SESSION_ENDED', () => {
    for (const during of ['oneTimeCodeMatches', 'hashPassword'] as const) {
      const { w, g, as, codeFor } = setup()
      const code = codeFor('p@mail.test')
      const first = as()
      const second = as()
      let inner: unknown
      // The second request runs to the end while the first compares the code or hashes its random
      // password (bcrypt, no lock held); the first then finds the code gone.
      w.backend.before(during, () => {
        inner = upgradeWithCode(second, code)
      })
      const error = errorOf(() => upgradeWithCode(first, code))
      assert.ok(inner, `${during}: the second request won`)
      const expected = during === 'hashPassword' ? ['SESSION_ENDED', 409] : ['INVALID_CODE', 400]
      assert.deepEqual([error.code, error.status], expected, `${during}: ${error.message}`)
      assert.equal(w.backend.row('users', g.record.id)?.email, 'p@mail.test', `${during}: upgraded once`)
    }
  })
  it('refuses a cross-site request and a request without a guest', () => {
    const { w, g, codeFor } = setup()
    const code = codeFor('p@mail.test')
    const crossSite = w.visit({ method: 'POST', headers: { Origin: 'null' }, cookies: [g.cookie] }).auth.ctx
    assert.equal(errorOf(() => upgradeWithCode(crossSite, code)).code, 'CROSS_SITE_REQUEST')
    assert.equal(errorOf(() => upgradeWithCode(w.post().auth.ctx, code)).code, 'NOT_SIGNED_IN')
    assert.equal(w.backend.row('users', g.record.id)?.anonymous, true, 'still a guest')
  })
  it('refuses malformed input with the reason', () => {
    const { as } = setup()
    for (const input of [{}, { otpId: 'x', code: '' }, { otpId: 'x', code: '12ab' }, { otpId: '../x', code: '1' }]) {
      assert.equal(errorOf(() => upgradeWithCode(as(), input)).code, 'VALIDATION_FAILED', JSON.stringify(input))
    }
  })
})

describe('upgradeWithCode: an account has the address', () => {
  function withNotes() {
    const s = setup()
    s.w.addNotes({ cascadeDelete: true })
    const note = s.w.backend.insert('notes', { owner: s.g.record.id })
    return { ...s, note }
  }
  it('the code proves the owner: the guest is merged into the account and the request signed in to it', () => {
    const { w, g, as, codeFor, note } = withNotes()
    const user = w.insertUser({ email: 'member@mail.test' })
    const userRow = w.backend.row('users', user.id)!
    const ctx = as()
    const { record } = upgradeWithCode(ctx, codeFor('Member@mail.test'))
    assert.equal(record.id, user.id, 'signed in to the account')
    assert.equal(w.backend.row('users', g.record.id), null, 'the guest is merged away')
    assert.equal(w.backend.row('notes', note.id)?.owner, user.id, "the guest's note moved")
    assert.deepEqual(w.backend.row('users', user.id), userRow, 'a verified account is not changed')
    assert.equal(ctx.session.record?.id, user.id, 'the session is the account')
  })
  it('an unverified account (registered by anyone): verified, its password replaced, its tokens dead', () => {
    const { w, as, codeFor, note } = withNotes()
    const squatter = w.insertUser({ email: 'member@mail.test', verified: false }, 'squatters-password')
    const squatterToken = squatter.newAuthToken()
    upgradeWithCode(as(), codeFor('member@mail.test'))
    const row = w.backend.row('users', squatter.id)!
    assert.equal(row.verified, true, 'verified')
    assert.ok(!w.backend.passwordMatches(squatter, 'squatters-password'), 'the old password no longer works')
    assert.equal(w.backend.findAuthRecordByToken(squatterToken), null, 'old tokens are dead')
    assert.equal(w.backend.row('notes', note.id)?.owner, squatter.id, 'the data moved to the (now owned) account')
  })
  it('with mergeOnSignIn off: signs in to the account, the guest stays as it was', () => {
    const s = setup({ options: { mergeOnSignIn: false } })
    const user = s.w.insertUser({ email: 'member@mail.test' })
    assert.equal(upgradeWithCode(s.as(), s.codeFor('member@mail.test')).record.id, user.id, 'the account')
    assert.equal(s.w.backend.row('users', s.g.record.id)?.anonymous, true, 'the guest was not merged')
  })
  it('with upgradeCode.signInToExisting off: EMAIL_TAKEN, nothing changes, the code is kept', () => {
    const s = setup({ options: { upgradeCode: { signInToExisting: false } } })
    s.w.insertUser({ email: 'member@mail.test' })
    const error = errorOf(() => upgradeWithCode(s.as(), s.codeFor('member@mail.test')))
    assert.deepEqual([error.code, error.status], ['EMAIL_TAKEN', 409], error.message)
    assert.equal(s.w.backend.row('users', s.g.record.id)?.anonymous, true, 'the guest stays')
    assert.equal(s.w.backend.otpRows().length, 1, 'the code is not used up')
  })
  it('with mergeOnSignIn off, one code still signs in once: two racing requests, one wins', () => {
    const s = setup({ options: { mergeOnSignIn: false } })
    s.w.insertUser({ email: 'member@mail.test' })
    const code = s.codeFor('member@mail.test')
    const first = s.as()
    const second = s.as()
    let inner: unknown
    s.w.backend.before('hashPassword', () => {
      inner = upgradeWithCode(second, code)
    })
    const error = errorOf(() => upgradeWithCode(first, code))
    assert.ok(inner, 'the second request signed in')
    assert.equal(error.code, 'SESSION_ENDED', `the first finds the code used: ${error.message}`)
  })
  it('refuses when the collection requires MFA, or its auth rule refuses the account; nothing changes', () => {
    for (const variant of ['mfa', 'authRule'] as const) {
      const s = setup(variant === 'mfa' ? { users: { fields: authFields(), mfa: true } } : {})
      const user = s.w.insertUser({ email: 'member@mail.test' })
      if (variant === 'authRule') s.w.backend.collection('users').authRule = (r) => r.id !== user.id
      const code = s.codeFor('member@mail.test')
      const error = errorOf(() => upgradeWithCode(s.as(), code))
      assert.deepEqual([error.code, error.status], ['SIGN_IN_NOT_ALLOWED', 403], `${variant}: ${error.message}`)
      assert.match(error.message, /password/, `${variant}: says what to do`)
      assert.equal(s.w.backend.row('users', s.g.record.id)?.anonymous, true, `${variant}: the guest stays`)
      assert.equal(s.w.backend.otpRows().length, 1, `${variant}: the code is not used up`)
    }
  })
  it('refuses an address that belongs to another guest', () => {
    const { w, g, as, codeFor } = setup()
    const stranger = w.insertGuest({ email: 'someone@mail.test' })
    const error = errorOf(() => upgradeWithCode(as(), codeFor('someone@mail.test')))
    assert.equal(error.code, 'EMAIL_TAKEN', error.message)
    assert.ok(w.backend.row('users', stranger.id), 'the other guest stays')
    assert.equal(w.backend.row('users', g.record.id)?.anonymous, true, 'this guest stays')
  })
  it('an account created with the address while the code is checked: the request signs in to it', () => {
    const { w, g, as, codeFor } = setup()
    const code = codeFor('late@mail.test')
    w.backend.before('hashPassword', () => {
      w.insertUser({ email: 'late@mail.test' })
    })
    const { record } = upgradeWithCode(as(), code)
    assert.notEqual(record.id, g.record.id, 'signed in to the new account')
    assert.equal(w.backend.row('users', g.record.id), null, 'the guest merged into it')
  })
  it('an account created with the address just before the transaction: EMAIL_TAKEN, the code kept for a retry', () => {
    const { w, g, as, codeFor } = setup()
    const code = codeFor('late@mail.test')
    // The 1st transaction counts the attempt; the 2nd is the upgrade's.
    let transactions = 0
    w.backend.before(
      'transaction',
      () => {
        if (++transactions === 2) w.insertUser({ email: 'late@mail.test' })
      },
      2,
    )
    const error = errorOf(() => upgradeWithCode(as(), code))
    assert.equal(error.code, 'EMAIL_TAKEN', error.message)
    assert.match(error.message, /Enter the code again/, 'says what to do')
    assert.equal(w.backend.row('users', g.record.id)?.anonymous, true, 'still a guest')
    assert.equal(w.backend.otpRows().length, 1, 'the code is kept')
  })
})

describe('upgradeWithCode: SITE is same-site', () => {
  it('accepts a POST whose Origin is the site', () => {
    const { w, g, codeFor } = setup()
    const code = codeFor('p@mail.test')
    const ctx = w.visit({ method: 'POST', headers: { Origin: SITE }, cookies: [g.cookie] }).auth.ctx
    assert.equal(upgradeWithCode(ctx, code).record.id, g.record.id)
  })
})
