/**
 * Creating a guest record.
 *
 * A guest is an ordinary auth record: a random `anonymous-…@example.com` email, `verified =
 * false`, the `anonymous` flag set, and the guest password marker (guest-identity.ts), so no
 * bcrypt runs and nobody can log in to it by password. The collection's own validation runs on
 * every field, so app-specific rules and hooks still apply to guests.
 */
import { passwordRules, unfillableFieldError } from './collection'
import { formatPocketBaseDate } from './dates'
import { AnonymousAuthError, ErrorCodes } from './errors'
import { fieldErrorsOf, goErrorMessage, isUniqueViolation } from './go-errors'
import { guestPasswordHash } from './guest-identity'
import type { ResolvedOptions } from './options'
import type { AuthRecord, Backend, CollectionInfo, Crypto } from './ports'
import { randomGuestEmail } from './random'

/** A clash of 103-bit random emails means a broken random source; don't loop on it forever. */
const MAX_EMAIL_ATTEMPTS = 3

type GuestOptions = Pick<ResolvedOptions, 'emailPrefix' | 'emailDomain' | 'anonymousField' | 'lastSeenField'>

export function createGuestRecord(
  backend: Backend,
  collection: CollectionInfo,
  options: GuestOptions,
  crypto: Crypto,
  nowMs: number,
  /** A chosen email (first-submit.ts) instead of a random one; a clash falls back to random. */
  email?: string,
): AuthRecord {
  const cost = passwordRules(collection).cost
  for (let attempt = 1; ; attempt++) {
    const record = backend.newRecord(collection)
    record.setEmail(attempt === 1 && email ? email : randomGuestEmail(crypto, options.emailPrefix, options.emailDomain))
    record.setEmailVisibility(false)
    record.setVerified(false)
    backend.setPasswordHash(record, guestPasswordHash(crypto, cost))
    record.set(options.anonymousField, true)
    record.set(options.lastSeenField, formatPocketBaseDate(nowMs))
    try {
      backend.save(record)
      return record
    } catch (error) {
      if (isUniqueViolation(error, 'email') && attempt < MAX_EMAIL_ATTEMPTS) continue
      throw explainSaveFailure(error, collection.name, options)
    }
  }
}

function explainSaveFailure(error: unknown, collectionName: string, options: GuestOptions): AnonymousAuthError {
  const fields = fieldErrorsOf(error)
  const blank = Object.keys(fields).filter((f) => /cannot be blank/i.test(fields[f]!))
  if (blank.length > 0) return unfillableFieldError(collectionName, blank)
  if (fields.email) {
    return new AnonymousAuthError(
      ErrorCodes.CREATE_FAILED,
      `Collection '${collectionName}' rejected the guest email (${fields.email}). Allow the domain '${options.emailDomain}' in the email field's domain lists, or set the plugin option 'emailDomain'.`,
      { collection: collectionName },
    )
  }
  return new AnonymousAuthError(
    ErrorCodes.CREATE_FAILED,
    `Could not create a guest in collection '${collectionName}': ${goErrorMessage(error)}. Check the collection's fields and any onRecordCreate hooks.`,
    { collection: collectionName },
  )
}
