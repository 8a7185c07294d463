/**
 * The client network an IP address belongs to: what rate limits count.
 *
 * Policy: one IPv6 address is nothing (a single customer line usually gets a whole /64, and
 * privacy extensions hand out new addresses all day), so IPv6 is counted per /64 by default.
 * IPv4 is counted per address (/32). An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a
 * dual-stack socket reports for an IPv4 client) is IPv4. Both prefix lengths are options.
 * Never throws: a value that is not an IP address is its own network.
 */

export interface NetworkPrefixes {
  ipv4Prefix: number
  ipv6Prefix: number
}

/** A stable name of the network, e.g. `4:192.0.2.0/24` or `6:2001:db8:0:1:0:0:0:0/64`. */
export function clientNetwork(ip: string, prefixes: NetworkPrefixes): string {
  const address = ip.trim().toLowerCase()
  const v4 = parseIpv4(address)
  if (v4) return `4:${maskBits(v4, 8, prefixes.ipv4Prefix).join('.')}/${prefixes.ipv4Prefix}`
  const v6 = parseIpv6(address)
  if (v6) {
    if (isIpv4Mapped(v6)) {
      const mapped = [v6[6]! >> 8, v6[6]! & 0xff, v6[7]! >> 8, v6[7]! & 0xff]
      return `4:${maskBits(mapped, 8, prefixes.ipv4Prefix).join('.')}/${prefixes.ipv4Prefix}`
    }
    const groups = maskBits(v6, 16, prefixes.ipv6Prefix).map((g) => g.toString(16))
    return `6:${groups.join(':')}/${prefixes.ipv6Prefix}`
  }
  return `?:${address.slice(0, 64)}`
}

/** Keeps the first `prefix` bits of a big-endian list of `width`-bit parts. */
function maskBits(parts: number[], width: number, prefix: number): number[] {
  return parts.map((part, i) => {
    const kept = Math.min(width, Math.max(0, prefix - i * width))
    if (kept === width) return part
    if (kept === 0) return 0
    return part & (((1 << kept) - 1) << (width - kept))
  })
}

// Four decimal parts without leading zeros: `010` is octal to some parsers and decimal to others.
const IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/

function parseIpv4(text: string): number[] | null {
  const match = IPV4.exec(text)
  if (!match) return null
  const bytes = [Number(match[1]), Number(match[2]), Number(match[3]), Number(match[4])]
  return bytes.every((value) => value <= 255) ? bytes : null
}

/** Eight 16-bit groups, or null. Accepts `::` compression, a trailing dotted IPv4 and a zone (`%eth0`). */
function parseIpv6(text: string): number[] | null {
  const address = text.replace(/%[^%]*$/, '')
  if (!/^[0-9a-f:.]+$/.test(address) || address.length > 45) return null
  const halves = address.split('::')
  if (halves.length > 2) return null
  const head = parseGroups(halves[0]!)
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : []
  if (!head || !tail) return null
  if (halves.length === 1) return head.length === 8 ? head : null
  const missing = 8 - head.length - tail.length
  if (missing < 1) return null
  return [...head, ...new Array<number>(missing).fill(0), ...tail]
}

function parseGroups(text: string): number[] | null {
  if (text === '') return []
  const groups: number[] = []
  const parts = text.split(':')
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part)
      if (!v4) return null
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!)
      continue
    }
    if (!/^[0-9a-f]{1,4}$/.test(part)) return null
    groups.push(Number.parseInt(part, 16))
  }
  return groups
}

/** `::ffff:a.b.c.d`. */
function isIpv4Mapped(groups: number[]): boolean {
  return groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff
}
