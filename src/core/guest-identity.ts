/**
 * What makes a record a guest.
 *
 * Policy: a record is a guest only when BOTH hold:
 * 1. its `anonymous` flag is true. The flag is what API rules read (`@request.auth.anonymous`);
 *    it is a hidden field, so no client can write it through the record APIs, but a superuser can.
 * 2. its password hash is the guest marker below. No client can ever store a hash (the record
 *    APIs only accept plain passwords and hash them), so this is state only server code writes.
 * Upgrade, merge and cleanup act only on guests by this definition, so a full account can never be
 * upgraded, merged away or deleted as a guest, even if its flag was set by mistake or by a superuser.
 *
 * The marker is a well-formed bcrypt hash: a random salt and a fixed, readable digest. No password
 * hashes to it (finding one is a bcrypt preimage), so nobody can log in to a guest by password, and
 * creating a guest runs no bcrypt. Well-formed matters: PocketBase's timing-safe password check may
 * run bcrypt against any record's hash, and a malformed one would return early.
 */
import type { AuthRecord, Backend, Crypto } from './ports'

/** bcrypt's base64 alphabet. */
const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
/**
 * A 22-character bcrypt salt encodes 128 bits in 132, so its last character carries 2 data bits:
 * only these four are canonical (what bcrypt itself writes).
 */
const SALT_LAST_CHARACTERS = '.Oeu'
/** 31 characters of the bcrypt alphabet, ending in a canonical character like a real digest. */
export const GUEST_PASSWORD_DIGEST = 'anonymousGuestHasNoPasswordHere'

const GUEST_HASH = new RegExp(
  `^\\$2[aby]\\$\\d\\d\\$[./A-Za-z0-9]{21}[${SALT_LAST_CHARACTERS}]${GUEST_PASSWORD_DIGEST}$`,
)

/** bcrypt's own default cost, which PocketBase uses when the password field's cost is 0. */
const DEFAULT_BCRYPT_COST = 10

/** The two-digit cost of a hash at the password field's `cost` (0 = bcrypt's default). */
function bcryptRounds(cost: number): string {
  return String(cost > 0 ? cost : DEFAULT_BCRYPT_COST).padStart(2, '0')
}

/** A guest marker hash at `cost` (the password field's cost, 0 = bcrypt's default). */
export function guestPasswordHash(crypto: Crypto, cost: number): string {
  const rounds = bcryptRounds(cost)
  const salt = crypto.randomString(21, BCRYPT_ALPHABET) + crypto.randomString(1, SALT_LAST_CHARACTERS)
  return `$2a$${rounds}$${salt}${GUEST_PASSWORD_DIGEST}`
}

/**
 * The password hash of a guest that became an account without choosing a password (an OAuth2
 * identity linked to it): well-formed like the marker, but with a random digest, so it is no
 * longer the guest marker and still no password hashes to it (a bcrypt preimage). The person signs
 * in with the identity, or sets a password through PocketBase's password reset.
 */
export function noPasswordHash(crypto: Crypto, cost: number): string {
  const rounds = bcryptRounds(cost)
  const salt = crypto.randomString(21, BCRYPT_ALPHABET) + crypto.randomString(1, SALT_LAST_CHARACTERS)
  const digest = crypto.randomString(30, BCRYPT_ALPHABET) + crypto.randomString(1, SALT_LAST_CHARACTERS)
  return `$2a$${rounds}$${salt}${digest}`
}

export function isGuestPasswordHash(hash: string): boolean {
  return GUEST_HASH.test(hash)
}

/** The two facts of a guest, as read from one record. */
export function isGuest(flag: boolean, passwordHash: string): boolean {
  return flag === true && isGuestPasswordHash(passwordHash)
}

/** Whether `record` is a guest (both facts); false for anything unreadable. */
export function isGuestRecord(
  backend: Backend,
  record: AuthRecord | null | undefined,
  anonymousField: string,
): boolean {
  if (!record) return false
  try {
    // The flag first: a full account (the flag unset) costs no read of its password hash.
    return record.getBool(anonymousField) === true && isGuestPasswordHash(backend.passwordHash(record))
  } catch {
    return false
  }
}
