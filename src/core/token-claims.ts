/**
 * Reads a JWT's header and claims WITHOUT verifying it.
 *
 * Only for cheap pre-checks before PocketBase verifies the signature (`findAuthRecordByToken`),
 * and for the keep-alive decision on a token that has already been verified. Never trust
 * anything read here on its own.
 */
import { MAX_TOKEN_LENGTH } from './constants'
import { decodeBase64UrlToString } from './base64url'

export interface TokenClaims {
  alg: string
  type: string
  id: string
  collectionId: string
  /** Expiry, in seconds since the Unix epoch. */
  exp: number
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

/** Returns the claims PocketBase puts in its tokens, or null if `token` is not shaped like one. */
export function readTokenClaims(token: unknown): TokenClaims | null {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !JWT_SHAPE.test(token)) return null
  const [headerPart, payloadPart] = token.split('.') as [string, string, string]
  const header = parseJsonObject(decodeBase64UrlToString(headerPart))
  const payload = parseJsonObject(decodeBase64UrlToString(payloadPart))
  if (!header || !payload) return null
  const { alg } = header
  const { type, id, collectionId, exp } = payload
  if (typeof alg !== 'string' || typeof type !== 'string' || typeof id !== 'string') return null
  if (typeof collectionId !== 'string' || typeof exp !== 'number' || !Number.isFinite(exp)) return null
  return { alg, type, id, collectionId, exp }
}

function parseJsonObject(text: string | null): Record<string, unknown> | null {
  if (text === null) return null
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null
  } catch {
    return null
  }
}
