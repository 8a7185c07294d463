/**
 * The client network an IP address belongs to: what rate limits count.
 *
 * Policy: one IPv6 address is nothing (a single customer line usually gets a whole /64, and
 * privacy extensions hand out new addresses all day), so IPv6 is counted per /64 by default.
 * IPv4 is counted per address (/32). Both prefix lengths are options.
 *
 * An IPv6 address that carries an IPv4 address stands for that IPv4 client and counts as its
 * network; otherwise one IPv4 address would buy a fresh quota under each spelling (and a 6to4
 * holder a whole /48 of /64 quotas):
 * - IPv4-mapped `::ffff:a.b.c.d` (what a dual-stack socket reports for an IPv4 client);
 * - IPv4-translated `::ffff:0:a.b.c.d` (SIIT);
 * - IPv4-compatible `::a.b.c.d` (deprecated; `::` and `::1` stay IPv6);
 * - NAT64's well-known prefix `64:ff9b::a.b.c.d` (RFC 6052);
 * - 6to4 `2002:AABB:CCDD::/48`, the IPv4 in bits 16-48 (RFC 3056);
 * - Teredo `2001:0::/32`, the client's public IPv4 inverted in the last 32 bits (RFC 4380).
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
    const embedded = embeddedIpv4(v6)
    if (embedded) return `4:${maskBits(embedded, 8, prefixes.ipv4Prefix).join('.')}/${prefixes.ipv4Prefix}`
    const groups = maskBits(v6, 16, prefixes.ipv6Prefix).map((g) => g.toString(16))
    return `6:${groups.join(':')}/${prefixes.ipv6Prefix}`
  }
  return `?:${address.slice(0, 64)}`
}

/** Keeps the first `prefix` bits of a big-endian list of `width`-bit parts. */
function maskBits(parts: number[], width: number, prefix: number): number[] {
  return parts.map((part, i) => {
    // Parts are at most 16 bits wide, so the mask needs no special case: all bits kept is
    // (2^width - 1), none kept is 0.
    const kept = Math.min(width, Math.max(0, prefix - i * width))
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
  // A zone names an interface, not a network: everything from the first '%' goes. The groups
  // are then checked one by one (parseGroups), which bounds the length too.
  const zone = text.indexOf('%')
  const address = zone === -1 ? text : text.slice(0, zone)
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

/**
 * The IPv4 address an IPv6 address stands for (see the list at the top), as four bytes, or null.
 * Local-use NAT64 prefixes (RFC 8215, `64:ff9b:1::/48`) place the IPv4 where their operator chose,
 * so they stay IPv6.
 */
function embeddedIpv4(g: number[]): number[] | null {
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0)
  if (zeros(0, 5) && g[5] === 0xffff) return bytesOf(g[6]!, g[7]!) // mapped
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return bytesOf(g[6]!, g[7]!) // translated
  if (zeros(0, 6) && (g[6] !== 0 || g[7]! > 1)) return bytesOf(g[6]!, g[7]!) // compatible
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return bytesOf(g[6]!, g[7]!) // NAT64 well-known
  if (g[0] === 0x2002) return bytesOf(g[1]!, g[2]!) // 6to4
  if (g[0] === 0x2001 && g[1] === 0) return bytesOf(g[6]! ^ 0xffff, g[7]! ^ 0xffff) // Teredo
  return null
}

function bytesOf(high: number, low: number): number[] {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff]
}

/** What the per-site tier counts: an IPv6 end site, the /48 a tunnel broker or RIR policy hands out. */
export const IPV6_SITE_PREFIX = 48

/**
 * The /48 an IPv6 network (a name from clientNetwork) lies in, or null when there is no wider
 * tier to count: an IPv4 network, a name that is not an address, or a network already /48 or wider.
 */
export function ipv6SiteOf(network: string): string | null {
  const match = /^6:([0-9a-f:]+)\/(\d+)$/.exec(network)
  if (!match || Number(match[2]) <= IPV6_SITE_PREFIX) return null
  const groups = match[1]!.split(':').map((g) => Number.parseInt(g, 16))
  if (groups.length !== 8) return null
  const site = maskBits(groups, 16, IPV6_SITE_PREFIX).map((g) => g.toString(16))
  return `6:${site.join(':')}/${IPV6_SITE_PREFIX}`
}
