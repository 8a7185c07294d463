/**
 * Creating a guest record.
 *
 * A guest is an ordinary auth record: a random `anonymous-…@example.com` email, `verified =
 * false`, the `anonymous` flag set, and a password hash no password matches (see random.ts), so
 * no bcrypt runs and nobody can log in to it by password. The collection's own validation runs
 * on every field, so app-specific rules and hooks still apply to guests.
 */

import { unfillableFieldError } from './collection'
import { AnonymousAuthError, ErrorCodes } from './errors'
import { fieldErrorsOf, goErrorMessage, isUniqueViolation } from './go-errors'
import { formatPocketBaseDate } from './keep-alive'
import type { ResolvedOptions } from './options'
import { type RandomStringFn, randomGuestEmail, unusablePasswordHash } from './random'

/** A clash of 103-bit random emails means a broken random source; don't loop on it forever. */
const MAX_EMAIL_ATTEMPTS = 3

export function createGuestRecord(
  app: core.App,
  collection: core.Collection,
  options: ResolvedOptions,
  random: RandomStringFn,
  nowMs: number,
): core.Record {
  const passwordField = collection.fields.getByName('password') as unknown as {
    prepareValue(record: core.Record, raw: unknown): unknown
  }
  for (let attempt = 1; ; attempt++) {
    const record = new Record(collection)
    record.setEmail(randomGuestEmail(random, options.emailPrefix, options.emailDomain))
    record.setEmailVisibility(false)
    record.setVerified(false)
    // Store a ready hash: the field's own value type, so validation accepts it without hashing.
    record.setRaw('password', passwordField.prepareValue(record, unusablePasswordHash(random)))
    record.set(options.anonymousField, true)
    record.set(options.lastSeenField, formatPocketBaseDate(nowMs))
    try {
      app.save(record)
      return record
    } catch (error) {
      if (isUniqueViolation(error, 'email') && attempt < MAX_EMAIL_ATTEMPTS) continue
      throw explainSaveFailure(error, collection.name, options)
    }
  }
}

function explainSaveFailure(error: unknown, collectionName: string, options: ResolvedOptions): AnonymousAuthError {
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
