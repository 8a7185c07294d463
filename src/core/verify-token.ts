/**
 * Verifying a session token: the `pb_auth` cookie's, or one handed to `signIn()`.
 *
 * Policy: the cookie signs in only when it holds exactly one value, across all Cookie header lines,
 * whose token PocketBase verifies as an *auth* token (not a file, verification, password-reset or
 * email-change token) of one of the configured collections, for a record that still exists with
 * the same token key. Anything else (absent aside) is "invalid": the caller treats it as signed out
 * and clears the cookie. Nothing here throws on client input.
 */
import { decodeAuthCookieToken } from './auth-cookie'
import { readCookieValues } from './cookie'
import type { AuthRecord, Backend, CollectionInfo } from './ports'
import { readTokenClaims, type TokenClaims, type UnverifiedClaimsParser } from './token-claims'

export type SessionRead =
  | { state: 'none' }
  | { state: 'invalid'; reason: string }
  | { state: 'valid'; record: AuthRecord; collection: CollectionInfo; token: string; claims: TokenClaims }

/**
 * A record another plugin (listed before this one) already resolved from the same cookie in this
 * request, with the token it resolved it from: pocketpages-plugin-auth sets `request.auth` and
 * `request.authToken`. Used only to skip a second read of the same record; see verifyToken.
 */
export interface LoadedAuth {
  record: AuthRecord | undefined
  token: string | undefined
}

export function readSession(
  backend: Backend,
  cookieLines: readonly string[],
  cookieName: string,
  collections: readonly string[],
  parseClaims: UnverifiedClaimsParser,
  loaded?: LoadedAuth,
): SessionRead {
  const values = readCookieValues(cookieLines, cookieName)
  if (values.length === 0) return { state: 'none' }
  // Two cookies of the same name (e.g. one tossed in by a sibling subdomain): refuse to pick.
  if (values.length > 1) return { state: 'invalid', reason: 'duplicate cookie' }
  return verifyToken(backend, decodeAuthCookieToken(values[0]!), collections, parseClaims, loaded)
}

/**
 * Verifies a token handed to `signIn()` or read from the cookie; same policy for both.
 *
 * `loaded`: when another plugin already resolved this very token to a record in this request, that
 * record is verified instead of read again (cost: one signature check instead of a database read).
 * The checks are the same as findAuthRecordByToken's on the record it reads (signature under the
 * record's token key and collection secret, HS256, expiry, type), and the ones below apply to it
 * alike; a record that does not verify is ignored, and the token is resolved as usual.
 */
export function verifyToken(
  backend: Backend,
  token: string | null,
  collections: readonly string[],
  parseClaims: UnverifiedClaimsParser,
  loaded?: LoadedAuth,
): SessionRead {
  if (!token) return { state: 'invalid', reason: 'malformed cookie' }
  const claims = readTokenClaims(token, parseClaims)
  if (!claims) return { state: 'invalid', reason: 'malformed token' }
  // A cheap refusal before PocketBase checks the signature, algorithm (HS256 only) and type.
  if (claims.type !== 'auth') return { state: 'invalid', reason: 'not an auth token' }
  const record = reusable(backend, loaded, token, claims.id) ?? backend.findAuthRecordByToken(token)
  if (!record || record.id !== claims.id) return { state: 'invalid', reason: 'token rejected' }
  // The collection is checked on the record PocketBase resolved (one lookup per read, not one per
  // configured collection): the signature was made with that collection's secret.
  const collection = record.collection()
  if (collection.id !== claims.collectionId) return { state: 'invalid', reason: 'token rejected' }
  if (!isConfiguredCollection(collection, collections)) return { state: 'invalid', reason: 'collection not configured' }
  return { state: 'valid', record, collection, token, claims }
}

function reusable(backend: Backend, loaded: LoadedAuth | undefined, token: string, id: string): AuthRecord | null {
  const record = loaded?.record
  if (!record || loaded.token !== token || record.id !== id) return null
  return backend.verifiesAuthToken(record, token) ? record : null
}

/** The option names collections; an id names one too (as PocketBase's own lookups accept both). */
function isConfiguredCollection(collection: CollectionInfo, collections: readonly string[]): boolean {
  return collections.includes(collection.name) || collections.includes(collection.id)
}
