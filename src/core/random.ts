/** Guest emails, random from PocketBase's CSPRNG (`$security.randomStringWithAlphabet`, Go's crypto/rand). */
import type { Crypto } from './ports'

const EMAIL_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'
/** 20 characters from 36 symbols: 20 * log2(36) = 103.4 bits, above the 96 bits we promise. */
export const EMAIL_RANDOM_LENGTH = 20

/** `anonymous-<random>@example.com`, lower-case so PocketBase's case-insensitive unique index agrees. */
export function randomGuestEmail(crypto: Crypto, prefix: string, domain: string): string {
  return `${prefix}${crypto.randomString(EMAIL_RANDOM_LENGTH, EMAIL_ALPHABET)}@${domain}`.toLowerCase()
}
