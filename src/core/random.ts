/**
 * Random values for guests, from PocketBase's CSPRNG (`$security.randomStringWithAlphabet`,
 * Go's crypto/rand). The generator is passed in so the pure parts can be tested in Node.
 */

export type RandomStringFn = (length: number, alphabet: string) => string

const EMAIL_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'
/** 20 characters from 36 symbols: 20 * log2(36) = 103.4 bits, above the 96 bits we promise. */
export const EMAIL_RANDOM_LENGTH = 20

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** `anonymous-<random>@example.com`, lower-case so PocketBase's case-insensitive unique index agrees. */
export function randomGuestEmail(random: RandomStringFn, prefix: string, domain: string): string {
  return `${prefix}${random(EMAIL_RANDOM_LENGTH, EMAIL_ALPHABET)}@${domain}`.toLowerCase()
}

/**
 * A well-formed bcrypt hash (cost 10) whose 22-character salt and 31-character digest are random:
 * no password was ever hashed to produce it, so no password matches it (finding one is a bcrypt
 * preimage). Storing it instead of hashing a random password skips bcrypt on sign-in entirely,
 * and nobody, including us, can log in to a guest by password.
 */
export function unusablePasswordHash(random: RandomStringFn): string {
  return `$2a$10$${random(53, BCRYPT_ALPHABET)}`
}
