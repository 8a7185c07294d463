/** The core's Crypto and SharedMemory ports on PocketBase's `$security` and `$app.store()`. */
import type { Crypto, SharedMemory } from '../ports'

export const pocketBaseCrypto: Crypto = {
  randomString: (length, alphabet) => $security.randomStringWithAlphabet(length, alphabet),
  hmac: (value, key) => $security.hs256(value, key),
}

export function pocketBaseMemory(): SharedMemory {
  const store = $app.store()
  return {
    get: (key) => store.get(key),
    getOrSet: (key, create) => store.getOrSet(key, create),
    remove: (key) => store.remove(key),
  }
}

/** Decodes a JWT's claims without verifying them; PocketBase's own decoder is far cheaper than one in JS. */
export function parseUnverifiedClaims(token: string): unknown {
  return $security.parseUnverifiedJWT(token)
}
