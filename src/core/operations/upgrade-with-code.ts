/**
 * upgradeWithCode({ otpId, code }): the emailed code proves the address; the signed-in guest
 * becomes that account.
 *
 * Policy:
 * - Only the guest of this request, never from another site; the code must be one mailed for THIS
 *   guest (`recordRef`, `collectionRef`): another guest's code id is as good as a wrong code.
 * - Wrong codes are throttled before the bcrypt compare, per code (`upgradeCode.failuresPerCode`,
 *   like PocketBase's 5 per OTP) and per client network; a right code takes its attempt back.
 * - Nothing changes until the right code arrives, and then in one short transaction that first
 *   deletes the code: of two requests racing with the same code exactly one finds it (the other
 *   gets SESSION_ENDED), and a code works once.
 * - No account has the address: the guest is upgraded in place (same id, so every relation
 *   survives): that email, `verified = true` (the code proved it), the flag cleared, the guest
 *   password marker replaced by a random password nobody knows (a password reset sets a real one),
 *   the token key rotated (every token issued to the guest stops working), its other codes deleted.
 * - A full account has the address: the code proves its owner is here, so, as a sign-in would,
 *   the guest is merged into it (`mergeOnSignIn`) and the request signed in to it (unless the app
 *   turned `upgradeCode.signInToExisting` off: then EMAIL_TAKEN). Not when the
 *   collection requires MFA or its auth rule refuses the account (PocketBase's own checks before
 *   any sign-in): one emailed code must not skip them. An unverified account is verified and its
 *   password replaced first, as PocketBase's OTP sign-in does: whoever registered the address
 *   without owning it (pre-hijacking) loses the account instead of getting the guest's data. The
 *   merge then runs as every merge does (in short batches, all or nothing), after the code is used.
 * - bcrypt (the compare, the random password) runs outside any transaction.
 */

import type { AuthData } from '../auth-session'
import { AnonymousAuthError, ErrorCodes, isAnonymousAuthError, sessionEnded } from '../errors'
import { beginAttempt } from '../failed-attempts'
import { goErrorMessage } from '../go-errors'
import { isGuestRecord } from '../guest-identity'
import { checkCodeInput, hasExpired } from '../one-time-code'
import type { AuthRecord, Backend, OneTimeCode } from '../ports'
import { recordEvent } from '../stats'
import type { OperationContext } from './context'
import { mergeGuestInto } from './merge'
import { requireGuest } from './request-upgrade-code'

export interface UpgradeWithCodeInput {
  otpId?: unknown
  code?: unknown
}

const PASSWORD_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

export function upgradeWithCode(ctx: OperationContext, input: UpgradeWithCodeInput | null | undefined): AuthData {
  const { session, backend, options } = ctx
  session.refuseCrossSite()
  const guest = requireGuest(ctx)
  const { otpId, code } = checkCodeInput(input ?? {})
  const collection = guest.collection()
  const attempt = beginAttempt(
    backend,
    ctx.keys,
    { name: 'upgrade-code', key: otpId, network: session.clientNetwork(), refusal: 'Too many wrong codes.' },
    {
      perKey: options.upgradeCode.failuresPerCode,
      perNetwork: options.upgradeCode.failuresPerNetwork,
      windowSeconds: options.upgrade.failureWindowSeconds,
    },
    ctx.now(),
  )
  const stored = backend.findOneTimeCode(otpId)
  if (!stored || stored.recordId !== guest.id || stored.collectionId !== collection.id || !stored.sentTo) {
    throw invalidCode()
  }
  if (hasExpired(stored, collection, ctx.now())) {
    throw new AnonymousAuthError(ErrorCodes.CODE_EXPIRED, 'This code has expired. Ask for a new one.', {
      fieldErrors: { code: 'Expired.' },
    })
  }
  if (!backend.oneTimeCodeMatches(stored.id, code)) throw invalidCode()
  attempt.succeeded()

  // A password nobody knows, hashed now: bcrypt must not run inside the transaction.
  const unknownPassword = backend.hashPassword(collection, ctx.crypto.randomString(40, PASSWORD_ALPHABET))
  const holder = backend.findAuthRecordByEmail(collection, stored.sentTo)
  const record =
    holder && holder.id !== guest.id
      ? intoAccount(ctx, guest, holder, stored, unknownPassword)
      : inPlace(ctx, guest, stored, unknownPassword)
  return session.start(record, record.newAuthToken())
}

function inPlace(ctx: OperationContext, guest: AuthRecord, stored: OneTimeCode, passwordHash: string): AuthRecord {
  const { backend, options } = ctx
  const collection = guest.collection()
  return backend.transaction((tx) => {
    if (!tx.deleteOneTimeCode(stored.id)) throw sessionEnded() // a concurrent request used it
    const fresh = tx.findRecordById(collection, guest.id)
    if (!fresh || fresh.tokenKey() !== guest.tokenKey()) throw sessionEnded()
    if (!isGuestRecord(tx, fresh, options.anonymousField)) {
      throw new AnonymousAuthError(ErrorCodes.NOT_ANONYMOUS, 'This guest account has already been saved.')
    }
    const holder = tx.findAuthRecordByEmail(collection, stored.sentTo)
    if (holder && holder.id !== fresh.id) {
      // An account with the address appeared since the check above; the rollback keeps the code.
      throw new AnonymousAuthError(
        ErrorCodes.EMAIL_TAKEN,
        'An account with this email was created a moment ago. Enter the code again to sign in to it.',
      )
    }
    fresh.setEmail(stored.sentTo)
    fresh.setVerified(true)
    fresh.set(options.anonymousField, false)
    tx.setPasswordHash(fresh, passwordHash)
    fresh.refreshTokenKey() // every token issued while it was a guest stops working
    save(tx, fresh)
    tx.deleteOneTimeCodesOf(fresh)
    recordEvent(tx, 'upgraded-code', ctx.now())
    return fresh
  })
}

function intoAccount(
  ctx: OperationContext,
  guest: AuthRecord,
  holder: AuthRecord,
  stored: OneTimeCode,
  passwordHash: string,
): AuthRecord {
  const { backend, options } = ctx
  if (isGuestRecord(backend, holder, options.anonymousField)) {
    throw new AnonymousAuthError(
      ErrorCodes.EMAIL_TAKEN,
      'That email belongs to another guest account. Use your own email address.',
    )
  }
  if (!options.upgradeCode.signInToExisting) {
    throw new AnonymousAuthError(
      ErrorCodes.EMAIL_TAKEN,
      'That email already has an account. Sign in to it with its password; what you made as a guest moves into it.',
      { fieldErrors: { email: 'Already in use.' } },
    )
  }
  const collection = holder.collection()
  if (collection.mfa.enabled || !backend.mayAuthenticate(holder)) {
    throw new AnonymousAuthError(
      ErrorCodes.SIGN_IN_NOT_ALLOWED,
      'An account with this email exists, and it cannot be signed in to with an emailed code. Sign in with its password instead; what you made as a guest moves into it.',
    )
  }
  const onMerge = ctx.hooks.onMerge()
  // The code is used up and the account proven in one short transaction; the merge then runs in
  // its own short transactions (merge.ts), so a guest with many records never holds the write lock.
  const account = backend.transaction((tx) => {
    if (!tx.deleteOneTimeCode(stored.id)) throw sessionEnded()
    const fresh = tx.findRecordById(collection, holder.id)
    if (!fresh || fresh.email().toLowerCase() !== stored.sentTo.toLowerCase()) throw sessionEnded()
    if (!fresh.verified()) {
      fresh.setVerified(true)
      tx.setPasswordHash(fresh, passwordHash)
      fresh.refreshTokenKey()
      save(tx, fresh)
    }
    return fresh
  })
  if (options.mergeOnSignIn) mergeGuestInto(backend, guest, account, options.anonymousField, onMerge, ctx.now())
  const user = backend.findRecordById(collection, holder.id)
  if (!user) throw sessionEnded()
  return user
}

function save(tx: Backend, record: AuthRecord): void {
  try {
    tx.save(record)
  } catch (error) {
    if (isAnonymousAuthError(error)) throw error
    throw new AnonymousAuthError(
      ErrorCodes.VALIDATION_FAILED,
      `The account could not be saved: ${goErrorMessage(error)}.`,
    )
  }
}

function invalidCode(): AnonymousAuthError {
  return new AnonymousAuthError(
    ErrorCodes.INVALID_CODE,
    'That code is not right. Check the email and try again, or ask for a new code.',
    { fieldErrors: { code: 'Not right.' } },
  )
}
