/**
 * One-time codes in PocketBase's own `_otps` collection, for the upgrade by emailed code: the code
 * is stored hashed by the collection's password field (bcrypt), bound to the guest by
 * `collectionRef` and `recordRef`, and mailed with PocketBase's OTP mail (its template and
 * `onMailerRecordOTPSend` hooks apply).
 */
import { parsePocketBaseDate } from '../dates'
import type { AuthRecord, OneTimeCode } from '../ports'

/** PocketBase's system collection of one-time passwords. */
const OTPS = '_otps'

export function createOneTimeCode(app: core.App, record: AuthRecord, code: string, sentTo: string): OneTimeCode {
  const otp = new Record(app.findCachedCollectionByNameOrId(OTPS))
  otp.set('collectionRef', record.collection().id)
  otp.set('recordRef', record.id)
  otp.setPassword(code) // hashed by the password field (bcrypt at its cost, 8)
  otp.set('sentTo', sentTo)
  app.save(otp)
  return oneTimeCode(otp)
}

export function findOneTimeCode(app: core.App, id: string): OneTimeCode | null {
  const otp = findOtp(app, id)
  return otp ? oneTimeCode(otp) : null
}

export function oneTimeCodeMatches(app: core.App, id: string, code: string): boolean {
  const otp = findOtp(app, id)
  return !!otp && otp.validatePassword(code)
}

/** False when the code is gone already (used by a concurrent request). */
export function deleteOneTimeCode(app: core.App, id: string): boolean {
  const otp = findOtp(app, id)
  if (!otp) return false
  app.delete(otp)
  return true
}

export function sendOneTimeCode(
  app: core.App,
  record: AuthRecord,
  address: string,
  codeId: string,
  code: string,
): void {
  // An unsaved copy addressed to the new email: PocketBase's OTP mail goes to the record's email.
  const copy = app.findRecordById(record.collection().id, record.id)
  copy.setEmail(address)
  $mails.sendRecordOTP(app, copy, codeId, code)
}

function findOtp(app: core.App, id: string): core.Record | null {
  try {
    return app.findRecordById(OTPS, id) ?? null
  } catch {
    return null // PocketBase's finders throw when nothing matches
  }
}

function oneTimeCode(otp: core.Record): OneTimeCode {
  return {
    id: otp.id,
    collectionId: otp.getString('collectionRef'),
    recordId: otp.getString('recordRef'),
    sentTo: otp.getString('sentTo'),
    createdMs: parsePocketBaseDate(otp.getString('created')) ?? 0,
  }
}
