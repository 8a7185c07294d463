/**
 * When a guest expires, and how a browser learns that its guest did.
 *
 * Policy:
 * - A guest that stays away is deleted by the cleanup once its last activity (or, never recorded,
 *   its creation) is more than `cleanup.retentionDays` old (cleanup.ts). `guestExpiryMs` names that
 *   moment; every page view moves it (keep-alive.ts writes the activity at most once per interval).
 * - A browser keeps a small "guest trace" cookie while it holds a guest session: the collection's id
 *   and the day the guest's session cookie was last written (sign-in or keep-alive renewal), signed. Nothing in it, nor anything stored on the
 *   server, says which guest it was: many guests share a collection and a day. Once the guest is
 *   gone (deleted by the cleanup, or its session lapsed), a request that carries a valid trace and
 *   no session is "a browser whose guest expired", and the page can say so once.
 * - The trace is signed with a key derived from the collection's token secret, which only the server
 *   knows and which survives restarts (rotating it, which ends every session, also voids the traces).
 *   A forged or altered trace reads as no trace. Signing out, or becoming a full account, clears it:
 *   the guest did not expire then, it was ended or kept.
 */
import { DAY_MS, parsePocketBaseDate, SECOND_MS } from './dates'
import type { Crypto } from './ports'

/** When the cleanup may delete a guest that stays away from now on; null when it has no readable date. */
export function guestExpiryMs(lastSeen: string, created: string, retentionDays: number): number | null {
  const from = parsePocketBaseDate(lastSeen) ?? parsePocketBaseDate(created)
  return from === null ? null : from + retentionDays * DAY_MS
}

export interface GuestTrace {
  collectionId: string
  /** Whole days since the epoch (UTC) of the guest's last session cookie (its token's issue). */
  lastSeenDay: number
}

const VERSION = '1'
/** Hex characters of the HMAC kept: 128 bits. */
const MAC_LENGTH = 32
/** PocketBase collection ids: letters, digits and '_' (pbc_123...), at most 100 characters. */
const COLLECTION_ID = /^[A-Za-z0-9_]{1,100}$/
/** Domain separation: the token secret signs tokens; this key, derived from it, signs traces only. */
const KEY_LABEL = 'pocketpages-plugin-anonymous/guest-trace/v1'

/** The trace key of a collection, from its token secret. */
export function traceKey(crypto: Crypto, collectionSecret: string): string {
  return crypto.hmac(KEY_LABEL, collectionSecret)
}

export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS)
}

/** The cookie value: `1.<collectionId>.<day>.<mac>` (cookie-safe characters only). */
export function encodeTrace(crypto: Crypto, key: string, trace: GuestTrace): string {
  const body = `${VERSION}.${trace.collectionId}.${trace.lastSeenDay}`
  return `${body}.${crypto.hmac(body, key).slice(0, MAC_LENGTH)}`
}

/** The trace in a cookie value, or null for anything not signed by us. Never throws. */
export function decodeTrace(
  crypto: Crypto,
  value: string,
  keyOf: (collectionId: string) => string | null,
): GuestTrace | null {
  // Sizes need no check of their own: the id, the day and the MAC are bounded by the patterns below.
  if (typeof value !== 'string') return null
  const parts = value.split('.')
  if (parts.length !== 4 || parts[0] !== VERSION) return null
  const [, collectionId, day, mac] = parts as [string, string, string, string]
  if (!COLLECTION_ID.test(collectionId) || !/^\d{1,7}$/.test(day)) return null
  let key: string | null
  try {
    key = keyOf(collectionId)
  } catch {
    return null
  }
  if (!key) return null
  const expected = crypto.hmac(`${VERSION}.${collectionId}.${day}`, key).slice(0, MAC_LENGTH)
  // Compared as HMACs of both under the key (double HMAC): how long the comparison takes says
  // nothing about how much of a forged MAC was right.
  if (crypto.hmac(mac, key) !== crypto.hmac(expected, key)) return null
  return { collectionId, lastSeenDay: Number(day) }
}

/**
 * When a traced guest's data stopped being reachable: the end of its session (the cookie lives as
 * long as the token, and nothing else opens a guest), or earlier the cleanup's deletion. Day
 * precision: the trace keeps the day of the token's issue, not its time.
 */
export function traceExpiredAtMs(trace: GuestTrace, retentionDays: number, tokenLifetimeSeconds: number): number {
  const lastSeen = trace.lastSeenDay * DAY_MS
  return lastSeen + Math.min(retentionDays * DAY_MS, tokenLifetimeSeconds * SECOND_MS)
}

/** How long the trace cookie lives: past the cleanup, so the browser still has it afterwards. */
export function traceMaxAgeSeconds(retentionDays: number): number {
  return Math.ceil((retentionDays + 30) * (DAY_MS / SECOND_MS))
}
