/**
 * Reading the session back from the `pb_auth` cookie.
 *
 * Policy: the cookie signs in only when it holds exactly one value whose token PocketBase
 * verifies as an *auth* token (not a file, verification, password-reset or email-change token)
 * of one of the configured collections, for a record that still exists with the same token key.
 * Anything else (absent aside) is "invalid": the caller treats it as signed out and clears the
 * cookie. Nothing here throws on client input.
 */
import { decodeAuthCookieToken } from './auth-cookie'
import { readCookieValues } from './cookie'
import { readTokenClaims, type TokenClaims, type UnverifiedClaimsParser } from './token-claims'

export type SessionRead =
  | { state: 'none' }
  | { state: 'invalid'; reason: string }
  | { state: 'valid'; record: core.Record; token: string; claims: TokenClaims }

export function readSession(
  app: core.App,
  cookieHeader: string,
  cookieName: string,
  collections: string[],
  parseClaims: UnverifiedClaimsParser,
): SessionRead {
  const values = readCookieValues(cookieHeader, cookieName)
  if (values.length === 0) return { state: 'none' }
  // Two cookies of the same name (e.g. one tossed in by a sibling subdomain): refuse to pick.
  if (values.length > 1) return { state: 'invalid', reason: 'duplicate cookie' }

  const token = decodeAuthCookieToken(values[0]!)
  if (!token) return { state: 'invalid', reason: 'malformed cookie' }
  const claims = readTokenClaims(token, parseClaims)
  if (!claims) return { state: 'invalid', reason: 'malformed token' }
  // Cheap refusals before PocketBase checks the signature, algorithm (HS256 only) and type.
  if (claims.type !== 'auth') return { state: 'invalid', reason: 'not an auth token' }
  if (!isAllowedCollection(app, claims.collectionId, collections))
    return { state: 'invalid', reason: 'collection not configured' }

  let record: core.Record
  try {
    // "auth" restricts the accepted token type; PocketBase checks signature, expiry and token key.
    record = app.findAuthRecordByToken(token, 'auth')
  } catch {
    return { state: 'invalid', reason: 'token rejected' }
  }
  if (!record || record.collection().id !== claims.collectionId) return { state: 'invalid', reason: 'token rejected' }
  return { state: 'valid', record, token, claims }
}

function isAllowedCollection(app: core.App, collectionId: string, collections: string[]): boolean {
  for (const name of collections) {
    try {
      if (app.findCachedCollectionByNameOrId(name).id === collectionId) return true
    } catch {
      // A configured collection that does not exist accepts nothing; the start-up check reports it.
    }
  }
  return false
}
