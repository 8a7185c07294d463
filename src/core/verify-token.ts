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
import type { AuthRecord, Backend } from './ports'
import { readTokenClaims, type TokenClaims, type UnverifiedClaimsParser } from './token-claims'

export type SessionRead =
  | { state: 'none' }
  | { state: 'invalid'; reason: string }
  | { state: 'valid'; record: AuthRecord; token: string; claims: TokenClaims }

export function readSession(
  backend: Backend,
  cookieLines: readonly string[],
  cookieName: string,
  collections: readonly string[],
  parseClaims: UnverifiedClaimsParser,
): SessionRead {
  const values = readCookieValues(cookieLines, cookieName)
  if (values.length === 0) return { state: 'none' }
  // Two cookies of the same name (e.g. one tossed in by a sibling subdomain): refuse to pick.
  if (values.length > 1) return { state: 'invalid', reason: 'duplicate cookie' }
  return verifyToken(backend, decodeAuthCookieToken(values[0]!), collections, parseClaims)
}

/** Verifies a token handed to `signIn()` or read from the cookie; same policy for both. */
export function verifyToken(
  backend: Backend,
  token: string | null,
  collections: readonly string[],
  parseClaims: UnverifiedClaimsParser,
): SessionRead {
  if (!token) return { state: 'invalid', reason: 'malformed cookie' }
  const claims = readTokenClaims(token, parseClaims)
  if (!claims) return { state: 'invalid', reason: 'malformed token' }
  // Cheap refusals before PocketBase checks the signature, algorithm (HS256 only) and type.
  if (claims.type !== 'auth') return { state: 'invalid', reason: 'not an auth token' }
  if (!isConfiguredCollection(backend, claims.collectionId, collections)) {
    return { state: 'invalid', reason: 'collection not configured' }
  }
  const record = backend.findAuthRecordByToken(token)
  if (!record || record.collection().id !== claims.collectionId || record.id !== claims.id) {
    return { state: 'invalid', reason: 'token rejected' }
  }
  return { state: 'valid', record, token, claims }
}

function isConfiguredCollection(backend: Backend, collectionId: string, collections: readonly string[]): boolean {
  // A configured collection that does not exist accepts nothing; the start-up check reports it.
  return collections.some((name) => backend.findCollection(name)?.id === collectionId)
}
