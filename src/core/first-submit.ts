/**
 * One guest per browser when its first form is submitted several times at once (a double click,
 * a retry, ten tabs' worth of impatience).
 *
 * Policy (the double-submit pair):
 * - The form page (`guestFormFields()`) gives the browser a secret in an HttpOnly cookie (kept
 *   while the browser has one) and puts a fresh random nonce in the form. Neither alone means
 *   anything: the pair does.
 * - `ensureGuest()` on a POST that carries both derives the guest's email from them,
 *   HMAC(key, secret + nonce), under a key derived from the collection's token secret (server-only,
 *   stable across restarts). The email is all that is stored: no secret, no nonce.
 * - The lookup and the creation run in one write transaction, and PocketBase runs write
 *   transactions one at a time: the first request creates the guest, the others find it. A request
 *   signs in to a guest found this way only when it is still a guest, was created less than
 *   `PAIR_TTL_SECONDS` ago, and was not signed out; otherwise the pair is spent and a new guest is
 *   made (with a random email).
 * - What this cannot give away: the nonce is in the page (a cache, a log, another browser may see
 *   it) but the secret is not; a request with the nonce and another browser's secret, or none,
 *   derives another email and gets a guest of its own. A request with both is one that already
 *   holds this browser's cookies, i.e. its session: it gains nothing it did not have. The nonce is
 *   per page view, so a secret forced into a browser (cookie tossing) cannot be paired with a form
 *   the attacker has not seen.
 */
import { readCookieValues } from './cookie'
import { parsePocketBaseDate, SECOND_MS } from './dates'
import type { ResolvedOptions } from './options'
import type { Crypto } from './ports'

/** The form field of the nonce. */
export const NONCE_FIELD = 'guestNonce'
/** How long the guest of a pair may be handed to its duplicates. */
export const PAIR_TTL_SECONDS = 120

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
/** 32 characters of 62 symbols: 190 bits. */
const SECRET_LENGTH = 32
/** 24 characters of 62 symbols: 142 bits. */
const NONCE_LENGTH = 24
const SECRET_SHAPE = new RegExp(`^[A-Za-z0-9]{${SECRET_LENGTH}}$`)
const NONCE_SHAPE = new RegExp(`^[A-Za-z0-9]{${NONCE_LENGTH}}$`)
/** The guest email's random part has this many characters of [a-z0-9], like a random guest's. */
const EMAIL_LENGTH = 20
const EMAIL_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'
const KEY_LABEL = 'pocketpages-plugin-anonymous/first-submit/v1'

/** The secret cookie's name: the session cookie's plus a suffix (a `__Host-` prefix carries over). */
export function formKeyCookieName(options: Pick<ResolvedOptions, 'cookie'>): string {
  return `${options.cookie.name}_form`
}

/** The secret cookie lives a day: long enough for a form left open, short enough to be renewed. */
export const FORM_KEY_MAX_AGE_SECONDS = 86_400

export function newFormSecret(crypto: Crypto): string {
  return crypto.randomString(SECRET_LENGTH, ALPHABET)
}

export function newNonce(crypto: Crypto): string {
  return crypto.randomString(NONCE_LENGTH, ALPHABET)
}

/** The browser's secret: exactly one well-formed value, else null. Never throws. */
export function readFormSecret(cookieLines: readonly string[], name: string): string | null {
  const values = readCookieValues(cookieLines, name)
  return values.length === 1 && SECRET_SHAPE.test(values[0]!) ? values[0]! : null
}

/** A well-formed nonce from the form, else null. */
export function readNonce(value: unknown): string | null {
  return typeof value === 'string' && NONCE_SHAPE.test(value) ? value : null
}

/** The email of the guest of one (secret, nonce) pair in a collection with this token secret. */
export function pairEmail(
  crypto: Crypto,
  collectionSecret: string,
  pair: { secret: string; nonce: string },
  options: Pick<ResolvedOptions, 'emailPrefix' | 'emailDomain'>,
): string {
  const key = crypto.hmac(KEY_LABEL, collectionSecret)
  const mac = crypto.hmac(`${pair.secret}.${pair.nonce}`, key)
  let local = ''
  // One hex byte per character: 20 characters of ~5.2 bits each (the modulo bias is irrelevant
  // here; the email only has to be unique and unguessable without the secret).
  for (let i = 0; i < EMAIL_LENGTH; i++) local += EMAIL_ALPHABET[Number.parseInt(mac.slice(i * 2, i * 2 + 2), 16) % 36]
  return `${options.emailPrefix}${local}@${options.emailDomain}`.toLowerCase()
}

/**
 * Whether the guest found for a pair may be handed to this request: created within the pair's
 * lifetime and not signed out (sign-out sets its activity to the epoch). The caller has checked
 * that it is still a guest.
 */
export function mayAdopt(created: string, lastSeen: string, nowMs: number): boolean {
  const createdMs = parsePocketBaseDate(created) ?? parsePocketBaseDate(lastSeen)
  const lastSeenMs = parsePocketBaseDate(lastSeen)
  if (createdMs === null || lastSeenMs === null || lastSeenMs <= 0) return false
  const age = nowMs - createdMs
  return age >= -60 * SECOND_MS && age <= PAIR_TTL_SECONDS * SECOND_MS
}

/** The hidden input of the form (the nonce is [A-Za-z0-9] only: nothing to escape). */
export function nonceInput(nonce: string): string {
  return `<input type="hidden" name="${NONCE_FIELD}" value="${nonce}" />`
}
