/**
 * Base64url decoding to a string, for reading JWT segments. goja has no atob/Buffer, and the
 * input is client-controlled: invalid input returns null instead of throwing.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const VALUE_OF: Record<string, number> = Object.create(null)
for (let i = 0; i < ALPHABET.length; i++) VALUE_OF[ALPHABET[i]!] = i

/** Decodes base64url (no padding required) into a UTF-8 string; null if it is not valid. */
export function decodeBase64UrlToString(input: string): string | null {
  if (input.length % 4 === 1) return null
  const bytes: number[] = []
  let buffer = 0
  let bits = 0
  for (let i = 0; i < input.length; i++) {
    const value = VALUE_OF[input[i]!]
    if (value === undefined) return null
    buffer = (buffer << 6) | value
    bits += 6
    if (bits >= 8) {
      bits -= 8
      bytes.push((buffer >> bits) & 0xff)
    }
  }
  return utf8Decode(bytes)
}

/** Strict UTF-8 decoding; null on malformed sequences. */
function utf8Decode(bytes: number[]): string | null {
  let out = ''
  for (let i = 0; i < bytes.length; ) {
    const b0 = bytes[i]!
    let codePoint: number
    let extra: number
    if (b0 < 0x80) {
      codePoint = b0
      extra = 0
    } else if (b0 >= 0xc2 && b0 < 0xe0) {
      codePoint = b0 & 0x1f
      extra = 1
    } else if (b0 >= 0xe0 && b0 < 0xf0) {
      codePoint = b0 & 0x0f
      extra = 2
    } else if (b0 >= 0xf0 && b0 < 0xf5) {
      codePoint = b0 & 0x07
      extra = 3
    } else {
      return null
    }
    for (let k = 1; k <= extra; k++) {
      const b = bytes[i + k]
      if (b === undefined || (b & 0xc0) !== 0x80) return null
      codePoint = (codePoint << 6) | (b & 0x3f)
    }
    out += String.fromCodePoint(codePoint)
    i += extra + 1
  }
  return out
}
