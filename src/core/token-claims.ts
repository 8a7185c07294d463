/**
 * Reads a JWT's claims WITHOUT verifying it.
 *
 * Only for cheap pre-checks before PocketBase verifies the token (`findAuthRecordByToken`, which
 * also enforces HS256), and for the keep-alive decision on a token that has been verified. Never
 * trust anything read here on its own. The decoding itself is PocketBase's
 * (`$security.parseUnverifiedJWT`): in goja a JavaScript base64 decoder cost 30 times more.
 */
import { MAX_TOKEN_LENGTH } from './constants'

export interface TokenClaims {
  type: string
  id: string
  collectionId: string
  /** Expiry, in seconds since the Unix epoch. */
  exp: number
  /**
   * PocketBase's `refreshable` claim: true on the tokens of sign-ins, false on impersonation
   * tokens (and absent from none of its own). Its auth-refresh extends only tokens where it is
   * true, so the keep-alive does the same.
   */
  refreshable: boolean
}

/** Decodes a JWT's payload without verifying it; may throw on malformed input. */
export type UnverifiedClaimsParser = (token: string) => unknown

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

/** Returns the claims PocketBase puts in its tokens, or null if `token` is not shaped like one. Never throws. */
export function readTokenClaims(token: unknown, parse: UnverifiedClaimsParser): TokenClaims | null {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !JWT_SHAPE.test(token)) return null
  let payload: unknown = null
  try {
    payload = parse(token)
  } catch {
    // Not a token: the payload stays null, refused below.
  }
  // A number, string or array has none of the claims checked below; only these two cannot be read.
  if (payload === null || payload === undefined) return null
  const { type, id, collectionId, exp, refreshable } = payload as Record<string, unknown>
  if (typeof type !== 'string' || typeof id !== 'string' || typeof collectionId !== 'string') return null
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return null
  return { type, id, collectionId, exp, refreshable: refreshable === true }
}
