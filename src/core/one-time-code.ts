/**
 * The emailed code of an upgrade: its shape, length, lifetime and what input is accepted.
 *
 * Policy: the code is a random number of the collection's `otp.length` digits, but never fewer than
 * 8 (PocketBase's default): it is what guards signing in to an existing account by its email, and
 * the throttles bound the guesses per code, not per account over a year. It lives for the
 * collection's `otp.duration` (PocketBase's 180 s when the app never set it, at most PocketBase's
 * own maximum of a day). Both settings are read when used, so the app's changes apply at once.
 */
import { SECOND_MS } from './dates'
import { AnonymousAuthError, ErrorCodes } from './errors'
import type { CollectionInfo, Crypto, OneTimeCode } from './ports'

export const MIN_CODE_DIGITS = 8
/** PocketBase's defaults for a collection whose OTP settings were never filled in. */
const DEFAULT_LIFETIME_SECONDS = 180
const MAX_LIFETIME_SECONDS = 86400
/** PocketBase's limit for an email. */
const EMAIL_MAX_LENGTH = 255
/** PocketBase's record ids: 15 of [a-z0-9]; anything else cannot name a code. */
const CODE_ID = /^[a-z0-9]{1,50}$/

export function codeDigits(collection: CollectionInfo): number {
  const length = Number(collection.otp.length) || 0
  return Math.max(MIN_CODE_DIGITS, Math.floor(length))
}

export function codeLifetimeSeconds(collection: CollectionInfo): number {
  const duration = Math.floor(Number(collection.otp.duration) || 0)
  return duration > 0 ? Math.min(duration, MAX_LIFETIME_SECONDS) : DEFAULT_LIFETIME_SECONDS
}

export function newCode(crypto: Crypto, collection: CollectionInfo): string {
  return crypto.randomString(codeDigits(collection), '0123456789')
}

/** PocketBase's OTP.HasExpired: more than the lifetime since it was created. */
export function hasExpired(code: OneTimeCode, collection: CollectionInfo, nowMs: number): boolean {
  return nowMs - code.createdMs > codeLifetimeSeconds(collection) * SECOND_MS
}

/** The address to mail, trimmed; refuses what cannot be one and the guests' own made-up addresses. */
export function checkAddress(input: unknown, guests: { emailPrefix: string; emailDomain: string }): string {
  const email = text(input).trim()
  let problem = ''
  if (!email) problem = 'Enter an email address.'
  else if (email.length > EMAIL_MAX_LENGTH) problem = `Use at most ${EMAIL_MAX_LENGTH} characters.`
  else if (/[\s<>,;"]/.test(email) || !/^[^@]+@[^@]+\.[^@]+$/.test(email)) problem = 'Enter a valid email address.'
  else if (isGuestAddress(email, guests)) problem = 'Enter your own email address.'
  if (problem) throw fieldError('email', problem)
  return email
}

/** The code id and the code as typed (spaces and dashes people copy along are dropped). */
export function checkCodeInput(input: { otpId?: unknown; code?: unknown }): { otpId: string; code: string } {
  const otpId = text(input.otpId).trim()
  const code = text(input.code).replace(/[\s-]/g, '')
  if (!CODE_ID.test(otpId)) {
    throw fieldError('otpId', 'This form has no valid code request. Ask for a new code.')
  }
  if (!/^\d{1,32}$/.test(code)) throw fieldError('code', 'Enter the code from the email (digits only).')
  return { otpId, code }
}

/** A form field's text; anything else (a number, an array, nothing) counts as empty. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

function isGuestAddress(email: string, guests: { emailPrefix: string; emailDomain: string }): boolean {
  const lower = email.toLowerCase()
  return lower.endsWith(`@${guests.emailDomain}`) && lower.startsWith(guests.emailPrefix.toLowerCase())
}

function fieldError(field: string, message: string): AnonymousAuthError {
  return new AnonymousAuthError(ErrorCodes.VALIDATION_FAILED, `${field}: ${message}`, {
    fieldErrors: { [field]: message },
  })
}
