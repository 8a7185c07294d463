/**
 * The PocketBase REST endpoints that pocketpages-plugin-auth reaches through the JS SDK, done
 * in-process with `$app`, as an unauthenticated client would meet them. Each function names its
 * endpoint (apis/*.go in PocketBase) and keeps that endpoint's checks, messages and statuses; a
 * failure throws an Error shaped like the SDK's ClientResponseError: PocketBase's message, plus
 * `status` and `response: { code, message, data }`.
 *
 * Not reproduced (see the header of ./index.ts): request-level hooks (`onRecord*Request`), the
 * built-in rate limiter, MFA, login alerts and auth origins, OTP reuse after 10 requests, the
 * verification email's 2-minute resend guard, and non-empty create rules (refused, not evaluated).
 */

export type PlainRecord = { [key: string]: unknown }
export type AuthData = { token: string; record: PlainRecord }

/** Methods PocketBase 0.24+ has that the 0.23-era typings of pocketbase-jsvm lack. */
type NewerRecord = core.Record & { setRandomPassword(): void }
type NewerOTP = core.OTP & { sentTo(): string }

/** An error like the SDK's ClientResponseError for a PocketBase API answer. */
export function apiError(status: number, message: string, data: PlainRecord = {}): Error {
  return Object.assign(new Error(message), { status, response: { code: status, message, data } })
}

/**
 * The request an auth endpoint's rules see (`@request.*`). goja's `RequestInfo` class is reached
 * through globalThis: in the tests' type check, the DOM's `RequestInfo` type shadows its name.
 */
function endpointRequestInfo(context: string, body: PlainRecord): core.RequestInfo {
  const { RequestInfo: Info } = globalThis as unknown as {
    RequestInfo: new (info: Partial<core.RequestInfo>) => core.RequestInfo
  }
  return new Info({ method: 'POST', context, body, headers: {}, query: {} })
}

/** An API rule (a Go `*string`, an object in goja) as a string, or null for "superusers only". */
function ruleOf(rule: unknown): string | null {
  return rule === null || rule === undefined ? null : String(rule)
}

/** The record's JSON as the API answers it: no hidden fields, the email only where it is visible. */
function plain(record: core.Record): PlainRecord {
  return JSON.parse(JSON.stringify(record))
}

/** PocketBase's `findAuthCollection`: the collection in the URL must be an auth collection. */
function authCollection(name: string): core.Collection {
  let collection: core.Collection | null = null
  try {
    collection = $app.findCachedCollectionByNameOrId(name)
  } catch {
    // answered below, as PocketBase does for a missing collection
  }
  if (collection?.type !== 'auth') throw apiError(404, 'Missing or invalid auth collection context.')
  return collection
}

/** `field: message; other: message.` (a Go validation error) as the API's `data` map. */
function validationData(error: unknown): PlainRecord {
  const data: PlainRecord = {}
  const text = String(error instanceof Error ? error.message : error).replace(/^GoError:\s*/, '')
  for (const part of text.split(/;\s+/)) {
    const match = /^([A-Za-z0-9_]+):\s*(.+?)\.?$/.exec(part.trim())
    if (match) data[match[1]!] = { code: 'validation_error', message: `${match[2]}.` }
  }
  return data
}

function requireLength(value: string, max: number): boolean {
  return typeof value === 'string' && value.length >= 1 && value.length <= max
}

/** Loose email check; PocketBase's is stricter, but no stored email can match what it refuses. */
const looksLikeEmail = (value: string) => /^[^@\s]+@[^@\s]+$/.test(value)

/** The email field of a request form, as PocketBase validates it (400 with its generic message). */
function requireEmail(email: string): void {
  if (!requireLength(email, 255) || !looksLikeEmail(email)) {
    throw apiError(400, 'An error occurred while validating the submitted data.')
  }
}

/**
 * Drops hidden fields from client-submitted data, as `recordDataFromRequest` does for
 * non-superusers: only the auth collection's `password` may be sent although it is hidden.
 */
export function withoutHiddenFields(
  fields: readonly { name: string; hidden?: boolean }[],
  isAuth: boolean,
  data: PlainRecord,
): PlainRecord {
  const result: PlainRecord = { ...data }
  for (const field of fields) {
    if (field.hidden && !(isAuth && field.name === 'password')) delete result[field.name]
  }
  return result
}

/** POST /api/collections/{c}/records without auth (apis/record_crud.go recordCreate). */
export function createRecordAsGuest(collectionName: string, data: PlainRecord): PlainRecord {
  let collection: core.Collection
  try {
    collection = $app.findCachedCollectionByNameOrId(collectionName)
  } catch {
    throw apiError(404, 'Missing collection context.')
  }
  const rule = ruleOf(collection.createRule)
  if (rule === null) throw apiError(403, 'Only superusers can perform this action.')
  if (rule !== '') {
    throw apiError(400, 'Failed to create record.', {
      rule: 'the stand-in does not evaluate non-empty create rules; use an empty (public) rule',
    })
  }
  const fields = collection.fields as unknown as { name: string; hidden?: boolean }[]
  const record = new Record(collection)
  const form = new RecordUpsertForm($app, record)
  form.load(withoutHiddenFields(fields, collection.type === 'auth', data))
  try {
    form.submit()
  } catch (error) {
    throw apiError(400, 'Failed to create record.', validationData(error))
  }
  return plain(record)
}

/** The end of every auth endpoint (apis/record_helpers.go recordAuthResponse), without MFA. */
function authResponse(
  event: core.RequestEvent,
  collection: core.Collection,
  record: core.Record,
  info: core.RequestInfo,
): AuthData {
  const rule = ruleOf(collection.authRule)
  if (rule === null || (rule !== '' && !$app.canAccessRecord(record, info, rule))) {
    throw apiError(403, "The request doesn't satisfy the collection requirements to authenticate.")
  }
  if (collection.mfa.enabled) {
    // PocketBase answers 401 with an mfaId, which the SDK throws too; the stand-in has no MFA step.
    throw apiError(401, 'Multi-factor authentication is required (not supported by the stand-in).')
  }
  const token = record.newAuthToken()
  $apis.enrichRecord(event, record)
  record.ignoreEmailVisibility(true)
  return { token, record: plain(record) }
}

/**
 * PocketBase's `dummyPasswordCheck`: for an unknown identity, one bcrypt comparison against any
 * record of the collection, so the answer takes as long as for a wrong password.
 */
function dummyPasswordCheck(collection: core.Collection): void {
  const any = new Record()
  try {
    $app.recordQuery(collection).limit(1).one(any)
  } catch {
    return
  }
  any.validatePassword('')
}

/** POST /api/collections/{c}/auth-with-password (apis/record_auth_with_password.go). */
export function authWithPassword(
  event: core.RequestEvent,
  collectionName: string,
  identity: string,
  password: string,
): AuthData {
  const collection = authCollection(collectionName)
  if (!collection.passwordAuth.enabled) {
    throw apiError(403, 'The collection is not configured to allow password authentication.')
  }
  if (!requireLength(identity, 255) || !requireLength(password, 255)) {
    throw apiError(400, 'An error occurred while validating the submitted data.')
  }
  // Email first, as PocketBase orders the identity fields.
  const identityFields = [...(collection.passwordAuth.identityFields as unknown as string[])].sort(
    (a, b) => Number(b === 'email') - Number(a === 'email'),
  )
  let record: core.Record | null = null
  for (const field of identityFields) {
    if (field === 'email' && !looksLikeEmail(identity)) continue
    try {
      record =
        field === 'email'
          ? $app.findAuthRecordByEmail(collection, identity)
          : $app.findFirstRecordByData(collection, field, identity)
      break
    } catch {
      // not found by this field: try the next
    }
  }
  if (!record?.validatePassword(password)) {
    if (!record) dummyPasswordCheck(collection)
    throw apiError(400, 'Failed to authenticate.')
  }
  // PocketBase 0.25 leaves the context 'default' here; newer versions say 'password'.
  return authResponse(event, collection, record, endpointRequestInfo('password', { identity, password }))
}

/** POST /api/collections/{c}/request-verification (apis/record_auth_verification_request.go). */
export function requestVerification(collectionName: string, email: string): void {
  const collection = authCollection(collectionName)
  if (collection.name === '_superusers') throw apiError(400, 'All superusers are verified by default.')
  requireEmail(email)
  let record: core.Record
  try {
    record = $app.findAuthRecordByEmail(collection, email)
  } catch {
    return // 204 either way: the answer must not tell whether the email exists
  }
  if (record.verified()) return
  try {
    // PocketBase sends in the background and only logs a failure; the caller never sees it.
    $mails.sendRecordVerification($app, record)
  } catch (error) {
    $app.logger().error('Failed to send verification email', 'error', String(error))
  }
}

/** POST /api/collections/{c}/confirm-verification (apis/record_auth_verification_confirm.go). */
export function confirmVerification(collectionName: string, token: string): void {
  const collection = authCollection(collectionName)
  if (collection.name === '_superusers') throw apiError(400, 'All superusers are verified by default.')
  if (!token) throw apiError(400, 'An error occurred while validating the submitted data.')
  let record: core.Record
  try {
    record = $app.findAuthRecordByToken(token, 'verification')
  } catch {
    throw apiError(400, 'Invalid or expired verification token.')
  }
  if (record.verified()) return
  record.setVerified(true)
  if (!record.collection().passwordAuth.enabled) (record as NewerRecord).setRandomPassword()
  try {
    $app.save(record)
  } catch (error) {
    throw apiError(400, 'An error occurred while saving the verified state.', validationData(error))
  }
}

/** POST /api/collections/{c}/request-otp (apis/record_auth_otp_request.go). */
export function requestOTP(collectionName: string, email: string): { otpId: string } {
  const collection = authCollection(collectionName)
  if (!collection.otp.enabled) throw apiError(403, 'The collection is not configured to allow OTP authentication.')
  requireEmail(email)
  let record: core.Record
  try {
    record = $app.findAuthRecordByEmail(collection, email)
  } catch {
    // A made-up id for an unknown email, as PocketBase answers (no enumeration).
    return { otpId: $security.randomStringWithAlphabet(15, 'abcdefghijklmnopqrstuvwxyz0123456789') }
  }
  const password = $security.randomStringWithAlphabet(collection.otp.length, '1234567890')
  const otp = new Record($app.findCachedCollectionByNameOrId('_otps'))
  otp.set('collectionRef', collection.id)
  otp.set('recordRef', record.id)
  otp.setPassword(password)
  $app.save(otp)
  try {
    $mails.sendRecordOTP($app, record, otp.id, password)
  } catch (error) {
    // As PocketBase: a code that could not be sent is deleted, and the failure only logged.
    $app.logger().error('Failed to send OTP email', 'error', String(error))
    $app.delete(otp)
  }
  return { otpId: otp.id }
}

/** POST /api/collections/{c}/auth-with-otp (apis/record_auth_with_otp.go), without its 5-per-3-minutes limit. */
export function authWithOTP(
  event: core.RequestEvent,
  collectionName: string,
  otpId: string,
  password: string,
): AuthData {
  const collection = authCollection(collectionName)
  if (!collection.otp.enabled) throw apiError(403, 'The collection is not configured to allow OTP authentication.')
  if (!requireLength(otpId, 255) || !requireLength(password, 71)) {
    throw apiError(400, 'An error occurred while validating the submitted data.')
  }
  const invalid = () => apiError(400, 'Invalid or expired OTP')
  let otp: core.OTP
  let record: core.Record
  try {
    otp = $app.findOTPById(otpId)
    record = $app.findRecordById(otp.collectionRef(), otp.recordRef())
  } catch {
    throw invalid()
  }
  if (otp.collectionRef() !== collection.id || otp.hasExpired(collection.otp.durationTime())) throw invalid()
  if (!(otp as unknown as core.Record).validatePassword(password)) throw invalid()

  const sentTo = (otp as NewerOTP).sentTo()
  try {
    $app.delete(otp)
  } catch (error) {
    $app.logger().error('Failed to delete used OTP', 'error', String(error))
  }
  // An OTP mailed to the record's own address proves the address: PocketBase marks it verified
  // and, unless MFA is on, resets the password (against pre-hijacked accounts).
  if (!record.verified() && sentTo !== '' && record.email() === sentTo) {
    record.setVerified(true)
    if (!collection.mfa.enabled) (record as NewerRecord).setRandomPassword()
    try {
      $app.save(record)
    } catch (error) {
      $app.logger().error('Failed to update record verified state after OTP', 'error', String(error))
    }
  }
  return authResponse(event, collection, record, endpointRequestInfo('otp', { otpId, password }))
}
