/*
 * Every error the plugin throws is an AnonymousAuthError with a stable `code` (match on it, never
 * on the message), an HTTP `status` a page can answer with, and a message that says what to fix.
 * Messages never contain a token, a password or a cookie value.
 */

export const ErrorCodes = {
  /** The configured collection does not exist. */
  COLLECTION_NOT_FOUND: 'COLLECTION_NOT_FOUND',
  /** The configured collection exists but is not an auth collection. */
  NOT_AUTH_COLLECTION: 'NOT_AUTH_COLLECTION',
  /** The collection lacks a field the plugin needs (`anonymous` bool, `lastSeen` date), or it is required. */
  MISSING_FIELD: 'MISSING_FIELD',
  /** The collection has a required field the plugin cannot fill for a guest. */
  UNFILLABLE_REQUIRED_FIELD: 'UNFILLABLE_REQUIRED_FIELD',
  /** `signInAnonymously({ collection })` named a collection not listed in the `collections` option. */
  COLLECTION_NOT_ALLOWED: 'COLLECTION_NOT_ALLOWED',
  /** PocketBase refused to save the guest (a hook, a field rule such as the email's domain list). */
  CREATE_FAILED: 'CREATE_FAILED',
  /** The plugin's migrations have not run (its counters table is missing). */
  MIGRATION_MISSING: 'MIGRATION_MISSING',
  /** The plugin options in `+config.js` are invalid. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** The `anonymous` or `lastSeen` field is not hidden, so clients could write it through the record API. */
  UNPROTECTED_FIELD: 'UNPROTECTED_FIELD',
  /** Too many guest sign-ins from this client (or in total); `retryAfterSeconds` says when to retry. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The request came from another site (login CSRF protection). */
  CROSS_SITE_REQUEST: 'CROSS_SITE_REQUEST',
  /** A signed-in, non-anonymous user asked for a guest session. */
  ALREADY_SIGNED_IN: 'ALREADY_SIGNED_IN',
  /** The operation needs a signed-in user. */
  NOT_SIGNED_IN: 'NOT_SIGNED_IN',
  /** The operation needs the signed-in user to be a guest. */
  NOT_ANONYMOUS: 'NOT_ANONYMOUS',
  /** Upgrade input failed validation; `fieldErrors` has one message per field. */
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  /** The email asked for in an upgrade belongs to another account. */
  EMAIL_TAKEN: 'EMAIL_TAKEN',
  /** Merge target is invalid (same record as the guest, not an auth record, ...). */
  INVALID_MERGE_TARGET: 'INVALID_MERGE_TARGET',
  /** The merge (the `onMerge` hook or the default reassignment) failed; nothing was changed. */
  MERGE_FAILED: 'MERGE_FAILED',
  /** `signIn()` was given a token that is not a valid auth token of a configured collection. */
  INVALID_TOKEN: 'INVALID_TOKEN',
  /** The guest session changed in another request (upgraded, merged or signed out) while this one ran. */
  SESSION_ENDED: 'SESSION_ENDED',
  /** The app's `beforeGuestSignIn` check (e.g. a captcha) refused the sign-in. */
  HUMAN_CHECK_FAILED: 'HUMAN_CHECK_FAILED',
  /** `upgradeWithCode` got a wrong code, or a code id that is unknown, used, or not this guest's. */
  INVALID_CODE: 'INVALID_CODE',
  /** `upgradeWithCode` got this guest's code after its lifetime (the collection's `otp.duration`). */
  CODE_EXPIRED: 'CODE_EXPIRED',
  /** The code's mail could not be handed to the mail server (SMTP off or unreachable); nothing was kept. */
  MAIL_FAILED: 'MAIL_FAILED',
  /** The account of that email may not be signed in to by an emailed code (MFA on, or its auth rule refuses). */
  SIGN_IN_NOT_ALLOWED: 'SIGN_IN_NOT_ALLOWED',
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  COLLECTION_NOT_FOUND: 500,
  NOT_AUTH_COLLECTION: 500,
  MISSING_FIELD: 500,
  UNFILLABLE_REQUIRED_FIELD: 500,
  COLLECTION_NOT_ALLOWED: 500,
  CREATE_FAILED: 500,
  MIGRATION_MISSING: 500,
  INVALID_OPTIONS: 500,
  UNPROTECTED_FIELD: 500,
  RATE_LIMITED: 429,
  CROSS_SITE_REQUEST: 403,
  ALREADY_SIGNED_IN: 409,
  NOT_SIGNED_IN: 401,
  NOT_ANONYMOUS: 403,
  VALIDATION_FAILED: 400,
  EMAIL_TAKEN: 409,
  INVALID_MERGE_TARGET: 400,
  MERGE_FAILED: 500,
  INVALID_TOKEN: 400,
  SESSION_ENDED: 409,
  HUMAN_CHECK_FAILED: 403,
  INVALID_CODE: 400,
  CODE_EXPIRED: 400,
  MAIL_FAILED: 503,
  SIGN_IN_NOT_ALLOWED: 403,
}

export interface AnonymousAuthErrorDetails {
  /** Seconds until a rate-limited call may succeed (RATE_LIMITED only). */
  retryAfterSeconds?: number
  /** Per-field messages (VALIDATION_FAILED, EMAIL_TAKEN). */
  fieldErrors?: Record<string, string>
  /** The collection concerned, for configuration errors. */
  collection?: string
}

export class AnonymousAuthError extends Error {
  readonly code: ErrorCode
  /** The HTTP status a page should answer with. */
  readonly status: number
  readonly retryAfterSeconds?: number
  readonly fieldErrors?: Record<string, string>
  readonly collection?: string

  constructor(code: ErrorCode, message: string, details: AnonymousAuthErrorDetails = {}) {
    super(message)
    this.name = 'AnonymousAuthError'
    this.code = code
    this.status = STATUS_BY_CODE[code]
    if (details.retryAfterSeconds !== undefined) this.retryAfterSeconds = details.retryAfterSeconds
    if (details.fieldErrors !== undefined) this.fieldErrors = details.fieldErrors
    if (details.collection !== undefined) this.collection = details.collection
  }
}

/** True for errors thrown by this plugin (works across bundles, unlike `instanceof`). */
export function isAnonymousAuthError(value: unknown): value is AnonymousAuthError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { name?: unknown }).name === 'AnonymousAuthError' &&
    typeof (value as { code?: unknown }).code === 'string'
  )
}

/** RATE_LIMITED, with a wait the user can read and `retryAfterSeconds` for the Retry-After header. */
export function rateLimited(what: string, retryAfterSeconds: number): AnonymousAuthError {
  const wait = retryAfterSeconds < 90 ? `${retryAfterSeconds} seconds` : `${Math.ceil(retryAfterSeconds / 60)} minutes`
  return new AnonymousAuthError(ErrorCodes.RATE_LIMITED, `${what} Try again in ${wait}.`, { retryAfterSeconds })
}

/** SESSION_ENDED: a concurrent request upgraded, merged or signed out the guest this request started with. */
export function sessionEnded(): AnonymousAuthError {
  return new AnonymousAuthError(
    ErrorCodes.SESSION_ENDED,
    'This guest session was changed by another request (saved, merged or signed out). Reload the page.',
  )
}

/** An error as one line for logs and developer pages: `CODE: message` for the plugin's own. */
export function describeError(error: unknown): string {
  if (isAnonymousAuthError(error)) return `${error.code}: ${error.message}`
  return error instanceof Error ? error.message : String(error)
}
