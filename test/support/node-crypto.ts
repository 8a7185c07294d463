// The core's Crypto port on Node's crypto, for unit tests (in goja it is PocketBase's $security).
import { createHmac, randomInt } from 'node:crypto'
import type { Crypto } from '../../src/core/ports.ts'

export const nodeCrypto: Crypto = {
  randomString: (length, alphabet) => Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join(''),
  hmac: (value, key) => createHmac('sha256', key).update(value).digest('hex'),
}
