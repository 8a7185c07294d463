/** The core's Crypto and SharedMemory ports on PocketBase's `$security` and `$app.store()`. */
import { STORE_PREFIX } from '../constants'
import type { Crypto, SharedMemory } from '../ports'
import { PrivateKeys } from '../private-keys'

export const pocketBaseCrypto: Crypto = {
  randomString: (length, alphabet) => $security.randomStringWithAlphabet(length, alphabet),
  hmac: (value, key) => $security.hs256(value, key),
}

function pocketBaseMemory(): SharedMemory {
  const store = $app.store()
  return {
    get: (key) => store.get(key),
    getOrSet: (key, create) => store.getOrSet(key, create),
    remove: (key) => store.remove(key),
  }
}

let keys: PrivateKeys | undefined

/** The plugin's private keys: they live in `$app.store()`, shared by every JS VM; one object per VM. */
export function pocketBaseKeys(): PrivateKeys {
  keys ??= new PrivateKeys(pocketBaseMemory(), pocketBaseCrypto, STORE_PREFIX)
  return keys
}

/** Decodes a JWT's claims without verifying them; PocketBase's own decoder is far cheaper than one in JS. */
export function parseUnverifiedClaims(token: string): unknown {
  return $security.parseUnverifiedJWT(token)
}
