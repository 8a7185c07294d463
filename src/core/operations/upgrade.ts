/**
 * upgradeAnonymousUser({ email, password, passwordConfirm }): the signed-in guest becomes a full
 * account, in place.
 *
 * Policy: only the guest signed in on this request can be upgraded (the caller passes the verified
 * session record, never an id from the client), and only a guest by guest-identity.ts. The record
 * keeps its id, so every relation to it survives. The work is ordered cheapest first, and nothing
 * slow happens inside the write transaction (PocketBase runs one at a time, site-wide):
 *   1. the input's shape (no database);
 *   2. the failed-attempt throttle, per guest and per client network (one short write);
 *   3. PocketBase's own validation of the new email and password (reads only, no bcrypt);
 *   4. bcrypt, outside any transaction;
 *   5. one short transaction that re-reads the guest, refuses if its session changed meanwhile
 *      (upgraded, merged or signed out by a concurrent request: exactly one of them wins), saves,
 *      and counts the upgrade in the operator's stats (stats.ts): a rolled-back upgrade counts nothing.
 * The token key is rotated, so every token issued to the guest stops working. Cross-site requests
 * are refused before any of it. Then, if asked, PocketBase's verification email goes out (a failure
 * to send leaves the upgrade standing), and the browser is signed in with a fresh token.
 */

import type { AuthData } from '../auth-session'
import { PLUGIN_NAME } from '../constants'
import { AnonymousAuthError, ErrorCodes, isAnonymousAuthError, sessionEnded } from '../errors'
import { type Attempt, beginAttempt } from '../failed-attempts'
import { fieldErrorsOf, goErrorMessage } from '../go-errors'
import { isGuestRecord } from '../guest-identity'
import type { ResolvedOptions } from '../options'
import type { AuthRecord, Backend } from '../ports'
import { recordEvent } from '../stats'
import type { OperationContext } from './context'

/** bcrypt reads at most 72 bytes of a password; refuse longer ones instead of truncating them. */
const BCRYPT_MAX_BYTES = 72
/** PocketBase's limit for an email. */
const EMAIL_MAX_LENGTH = 255

export interface UpgradeInput {
  email: unknown
  password: unknown
  passwordConfirm: unknown
}

export function upgradeAnonymousUser(ctx: OperationContext, input: UpgradeInput): AuthData {
  const { session, backend, options, keys } = ctx
  session.refuseCrossSite()
  const limits = {
    perKey: options.upgrade.failuresPerGuest,
    perNetwork: options.upgrade.failuresPerNetwork,
    windowSeconds: options.upgrade.failureWindowSeconds,
  }
  const refusal = 'Too many failed attempts to save this account.'
  const record = upgradeGuest(
    backend,
    session.record,
    input ?? {},
    options,
    (guestId) =>
      beginAttempt(
        backend,
        keys,
        { name: 'upgrade', key: guestId, network: session.clientNetwork(), refusal },
        limits,
        ctx.now(),
      ),
    ctx.now(),
  )
  if (options.upgrade.sendVerificationEmail) {
    try {
      backend.sendVerificationEmail(record)
    } catch (error) {
      // The upgrade stands; the user can ask for another verification email.
      backend.log.warn(
        `${PLUGIN_NAME}: sending the verification email failed`,
        'recordId',
        record.id,
        'error',
        String(error),
      )
    }
  }
  return session.start(record, record.newAuthToken())
}

export function upgradeGuest(
  backend: Backend,
  guest: AuthRecord | undefined,
  input: UpgradeInput,
  options: Pick<ResolvedOptions, 'anonymousField'>,
  beginAttempt: (guestId: string) => Attempt,
  nowMs: number,
): AuthRecord {
  if (!guest) throw new AnonymousAuthError(ErrorCodes.NOT_SIGNED_IN, 'Sign in as a guest before upgrading the account.')
  if (!isGuestRecord(backend, guest, options.anonymousField)) {
    throw new AnonymousAuthError(
      ErrorCodes.NOT_ANONYMOUS,
      'Only a guest account can be upgraded; this account already has an email and password.',
    )
  }
  const { email, password } = checkShape(input)
  const attempt = beginAttempt(guest.id)
  const collection = guest.collection()

  if (emailTaken(backend, guest, email)) throw emailTakenError()
  const candidate = backend.findRecordById(collection, guest.id)
  if (!candidate || candidate.tokenKey() !== guest.tokenKey()) throw sessionEnded()
  candidate.setEmail(email)
  backend.setPasswordForValidation(candidate, password)
  candidate.set(options.anonymousField, false)
  try {
    backend.validate(candidate)
  } catch (error) {
    throw validationError(error)
  }

  const hash = backend.hashPassword(collection, password)
  const upgraded = backend.transaction((tx) => {
    const fresh = tx.findRecordById(collection, guest.id)
    if (!fresh || fresh.tokenKey() !== guest.tokenKey()) throw sessionEnded()
    if (!isGuestRecord(tx, fresh, options.anonymousField)) {
      throw new AnonymousAuthError(ErrorCodes.NOT_ANONYMOUS, 'This guest account has already been upgraded.')
    }
    if (emailTaken(tx, fresh, email)) throw emailTakenError()
    fresh.setEmail(email)
    tx.setPasswordHash(fresh, hash)
    fresh.setVerified(false)
    fresh.set(options.anonymousField, false)
    fresh.refreshTokenKey() // every token issued while it was a guest stops working
    try {
      tx.save(fresh)
    } catch (error) {
      throw validationError(error)
    }
    recordEvent(tx, 'upgraded-password', nowMs)
    return fresh
  })
  attempt.succeeded()
  return upgraded
}

function checkShape(input: UpgradeInput): { email: string; password: string } {
  const fieldErrors: Record<string, string> = {}
  const email = typeof input.email === 'string' ? input.email.trim() : ''
  const password = typeof input.password === 'string' ? input.password : ''
  const confirm = typeof input.passwordConfirm === 'string' ? input.passwordConfirm : ''
  if (!email) fieldErrors.email = 'Enter an email address.'
  else if (email.length > EMAIL_MAX_LENGTH) fieldErrors.email = `Use at most ${EMAIL_MAX_LENGTH} characters.`
  if (!password) fieldErrors.password = 'Enter a password.'
  else if (utf8Length(password) > BCRYPT_MAX_BYTES) {
    fieldErrors.password = `Use at most ${BCRYPT_MAX_BYTES} bytes (fewer characters outside ASCII).`
  }
  if (password !== confirm) fieldErrors.passwordConfirm = 'The passwords do not match.'
  if (Object.keys(fieldErrors).length > 0) {
    throw new AnonymousAuthError(ErrorCodes.VALIDATION_FAILED, describeFields(fieldErrors), { fieldErrors })
  }
  return { email, password }
}

function emailTaken(backend: Backend, own: AuthRecord, email: string): boolean {
  const holder = backend.findAuthRecordByEmail(own.collection(), email)
  return holder !== null && holder.id !== own.id
}

function emailTakenError(): AnonymousAuthError {
  return new AnonymousAuthError(
    ErrorCodes.EMAIL_TAKEN,
    'That email is already used by another account. Sign in to it instead, or use another email.',
    { fieldErrors: { email: 'Already in use.' } },
  )
}

function validationError(error: unknown): AnonymousAuthError {
  if (isAnonymousAuthError(error)) return error
  const fieldErrors = fieldErrorsOf(error)
  if (Object.keys(fieldErrors).length === 0) {
    return new AnonymousAuthError(
      ErrorCodes.VALIDATION_FAILED,
      `The account could not be saved: ${goErrorMessage(error)}.`,
    )
  }
  if (fieldErrors.email && /unique/i.test(fieldErrors.email)) return emailTakenError()
  return new AnonymousAuthError(ErrorCodes.VALIDATION_FAILED, describeFields(fieldErrors), { fieldErrors })
}

function describeFields(fieldErrors: Record<string, string>): string {
  return Object.keys(fieldErrors)
    .map((field) => `${field}: ${fieldErrors[field]}`)
    .join(' ')
}

/** UTF-8 length without TextEncoder (goja has none). */
function utf8Length(text: string): number {
  return encodeURIComponent(text).replace(/%[0-9A-F]{2}/g, 'x').length
}
