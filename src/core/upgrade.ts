/**
 * Upgrading a guest into a full account, in place.
 *
 * Policy: only the guest signed in on this request can be upgraded (the caller passes the
 * verified session record, never an id from the client). The record keeps its id, so every
 * relation to it survives. Email, password and flag change in one transaction with the
 * collection's own validation; the token key is rotated, so every token issued to the guest
 * stops working and the caller issues a new one.
 */
import { AnonymousAuthError, ErrorCodes } from './errors'
import { fieldErrorsOf, goErrorMessage } from './go-errors'
import type { ResolvedOptions } from './options'
import { inTransaction } from './transaction'

/** bcrypt reads at most 72 bytes of a password; refuse longer ones instead of truncating them. */
const BCRYPT_MAX_BYTES = 72

export interface UpgradeInput {
  email: unknown
  password: unknown
  passwordConfirm: unknown
}

export function upgradeGuest(
  app: core.App,
  guest: core.Record | undefined,
  input: UpgradeInput,
  options: ResolvedOptions,
): core.Record {
  if (!guest) throw new AnonymousAuthError(ErrorCodes.NOT_SIGNED_IN, 'Sign in as a guest before upgrading the account.')
  if (guest.getBool(options.anonymousField) !== true) {
    throw new AnonymousAuthError(
      ErrorCodes.NOT_ANONYMOUS,
      'Only a guest account can be upgraded; this account already has an email and password.',
    )
  }
  const { email, password } = validateInput(input)
  const collectionName = guest.collection().name

  return inTransaction(app, (tx) => {
    // Re-read inside the transaction: the flag may have changed since the request started.
    const record = tx.findRecordById(collectionName, guest.id)
    if (record.getBool(options.anonymousField) !== true) {
      throw new AnonymousAuthError(ErrorCodes.NOT_ANONYMOUS, 'This guest account has already been upgraded.')
    }
    if (emailTaken(tx, collectionName, email, record.id)) {
      throw new AnonymousAuthError(
        ErrorCodes.EMAIL_TAKEN,
        'That email is already used by another account. Sign in to it instead, or use another email.',
        {
          fieldErrors: { email: 'Already in use.' },
        },
      )
    }
    record.setEmail(email)
    record.setPassword(password) // the real password: hashed with the collection's bcrypt cost
    record.setVerified(false)
    record.set(options.anonymousField, false)
    record.refreshTokenKey() // invalidates every token issued while it was a guest
    try {
      tx.save(record)
    } catch (error) {
      throw validationError(error)
    }
    return record
  })
}

function validateInput(input: UpgradeInput): { email: string; password: string } {
  const fieldErrors: Record<string, string> = {}
  const email = typeof input.email === 'string' ? input.email.trim() : ''
  const password = typeof input.password === 'string' ? input.password : ''
  const confirm = typeof input.passwordConfirm === 'string' ? input.passwordConfirm : ''
  if (!email) fieldErrors.email = 'Enter an email address.'
  if (!password) fieldErrors.password = 'Enter a password.'
  else if (utf8Length(password) > BCRYPT_MAX_BYTES)
    fieldErrors.password = `Use at most ${BCRYPT_MAX_BYTES} bytes (fewer characters outside ASCII).`
  if (password !== confirm) fieldErrors.passwordConfirm = 'The passwords do not match.'
  if (Object.keys(fieldErrors).length > 0) {
    throw new AnonymousAuthError(ErrorCodes.VALIDATION_FAILED, describe(fieldErrors), { fieldErrors })
  }
  return { email, password }
}

function emailTaken(tx: core.App, collectionName: string, email: string, ownId: string): boolean {
  try {
    return tx.findAuthRecordByEmail(collectionName, email).id !== ownId
  } catch {
    return false
  }
}

function validationError(error: unknown): AnonymousAuthError {
  const fieldErrors = fieldErrorsOf(error)
  if (Object.keys(fieldErrors).length === 0) {
    return new AnonymousAuthError(
      ErrorCodes.VALIDATION_FAILED,
      `The account could not be saved: ${goErrorMessage(error)}.`,
    )
  }
  if (fieldErrors.email && /unique/i.test(fieldErrors.email)) {
    return new AnonymousAuthError(
      ErrorCodes.EMAIL_TAKEN,
      'That email is already used by another account. Sign in to it instead, or use another email.',
      { fieldErrors },
    )
  }
  return new AnonymousAuthError(ErrorCodes.VALIDATION_FAILED, describe(fieldErrors), { fieldErrors })
}

function describe(fieldErrors: Record<string, string>): string {
  return Object.keys(fieldErrors)
    .map((field) => `${field}: ${fieldErrors[field]}`)
    .join(' ')
}

/** UTF-8 length without TextEncoder (goja has none). */
function utf8Length(text: string): number {
  return encodeURIComponent(text).replace(/%[0-9A-F]{2}/g, 'x').length
}
