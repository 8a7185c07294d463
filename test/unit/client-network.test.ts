// The client network an address counts under (client-network.ts): a table of addresses, and
// hostile strings that must never throw.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { clientNetwork, ipv6SiteOf } from '../../src/core/client-network.ts'

const defaults = { ipv4Prefix: 32, ipv6Prefix: 64 }

describe('clientNetwork: addresses', () => {
  const table: [string, string, { ipv4Prefix: number; ipv6Prefix: number }?][] = [
    ['192.0.2.1', '4:192.0.2.1/32'],
    [' 192.0.2.1 ', '4:192.0.2.1/32'],
    ['0.0.0.0', '4:0.0.0.0/32'],
    ['255.255.255.255', '4:255.255.255.255/32'],
    ['192.0.2.77', '4:192.0.2.0/24', { ipv4Prefix: 24, ipv6Prefix: 64 }],
    ['192.0.2.77', '4:192.0.2.64/26', { ipv4Prefix: 26, ipv6Prefix: 64 }],
    ['192.0.2.77', '4:128.0.0.0/1', { ipv4Prefix: 1, ipv6Prefix: 64 }],
    ['2001:db8:1:2:3:4:5:6', '6:2001:db8:1:2:0:0:0:0/64'],
    ['2001:DB8:1:2::9', '6:2001:db8:1:2:0:0:0:0/64'],
    ['::1', '6:0:0:0:0:0:0:0:0/64'],
    ['::', '6:0:0:0:0:0:0:0:0/64'],
    ['2001:db8::', '6:2001:db8:0:0:0:0:0:0/64'],
    ['fe80::1%eth0', '6:fe80:0:0:0:0:0:0:0/64'],
    ['2001:db8:1:2:3:4:5:6', '6:2001:db8:1:2:3:4:5:6/128', { ipv4Prefix: 32, ipv6Prefix: 128 }],
    ['2001:db8:1:2:3:4:5:6', '6:2001:db8:1:0:0:0:0:0/56', { ipv4Prefix: 32, ipv6Prefix: 56 }],
    ['2001:db8:1:ff:3:4:5:6', '6:2001:db8:1:f0:0:0:0:0/60', { ipv4Prefix: 32, ipv6Prefix: 60 }],
    ['2001:db8:1:2:3:4:5:6', '6:2000:0:0:0:0:0:0:0/4', { ipv4Prefix: 32, ipv6Prefix: 4 }],
    ['::ffff:192.0.2.1', '4:192.0.2.1/32'],
    ['::FFFF:192.0.2.1', '4:192.0.2.1/32'],
    ['::ffff:c000:0201', '4:192.0.2.1/32'],
    ['::ffff:192.0.2.77', '4:192.0.2.0/24', { ipv4Prefix: 24, ipv6Prefix: 64 }],
    ['0:0:0:0:0:ffff:192.0.2.1', '4:192.0.2.1/32'],
    ['::fffe:192.0.2.1', '6:0:0:0:0:0:0:0:0/64'],
    ['::1:ffff:192.0.2.1', '6:0:0:0:0:0:0:0:0/64'],
    ['2001:db8:1:2:3:4::8', '6:2001:db8:1:2:0:0:0:0/64'],
    ['1234:5678:9abc:def0:1234:5678:255.255.255.255', '6:1234:5678:9abc:def0:0:0:0:0/64'],
  ]
  for (const [ip, network, prefixes] of table) {
    it(`${JSON.stringify(ip)}${prefixes ? ` (/${prefixes.ipv4Prefix}, /${prefixes.ipv6Prefix})` : ''} -> ${network}`, () => {
      assert.equal(clientNetwork(ip, prefixes ?? defaults), network)
    })
  }
})

describe('clientNetwork: an IPv6 address that carries an IPv4 address counts as that IPv4 network', () => {
  // 198.51.100.7 = c633:6407; every row must land on the same quota as the bare address.
  const v4 = '4:198.51.100.7/32'
  const table: [string, string, string][] = [
    ['the address itself', '198.51.100.7', v4],
    ['IPv4-mapped', '::ffff:198.51.100.7', v4],
    ['IPv4-mapped, hex', '::ffff:c633:6407', v4],
    ['IPv4-translated (SIIT)', '::ffff:0:198.51.100.7', v4],
    ['IPv4-translated, hex', '::ffff:0:c633:6407', v4],
    ['IPv4-translated, written out', '0:0:0:0:ffff:0:c633:6407', v4],
    ['IPv4-compatible', '::198.51.100.7', v4],
    ['IPv4-compatible, hex', '::c633:6407', v4],
    ['NAT64 well-known prefix', '64:ff9b::198.51.100.7', v4],
    ['NAT64 well-known prefix, hex', '64:ff9b::c633:6407', v4],
    ['NAT64, capitals', '64:FF9B::C633:6407', v4],
    ['6to4, the relay address', '2002:c633:6407::1', v4],
    ['6to4, another /64 of the same /48', '2002:c633:6407:1::1', v4],
    ['6to4, the last /64 of the /48', '2002:c633:6407:ffff:1:2:3:4', v4],
    ['6to4 with the IPv4 repeated at the end', '2002:c633:6407::198.51.100.7', v4],
    ['Teredo (client IPv4 inverted in the last 32 bits)', '2001:0:4136:e378:8000:63bf:39cc:9bf8', v4],
    ['Teredo, another server and port', '2001:0:5ef5:79fb:0:f227:39cc:9bf8', v4],
    ['6to4 of another IPv4 is another network', '2002:c633:64ff::1', '4:198.51.100.255/32'],
    ['IPv4-compatible with a zero low half', '::c633:0', '4:198.51.0.0/32'],
    ['IPv4-compatible of a small address (not :: or ::1)', '::2', '4:0.0.0.2/32'],
  ]
  for (const [label, ip, network] of table) {
    it(`${label}: ${ip} -> ${network}`, () => {
      assert.equal(clientNetwork(ip, defaults), network, `${ip} must share the quota of its IPv4 address`)
    })
  }
  it('the IPv4 prefix applies to the embedded address', () => {
    const wide = { ipv4Prefix: 24, ipv6Prefix: 64 }
    for (const ip of ['2002:c633:64ff::1', '64:ff9b::198.51.100.200', '::ffff:0:198.51.100.1', '::198.51.100.9']) {
      assert.equal(clientNetwork(ip, wide), '4:198.51.100.0/24', `${ip} under ipv4Prefix 24`)
    }
  })
  const stillIpv6: [string, string, string][] = [
    ['the unspecified address', '::', '6:0:0:0:0:0:0:0:0/64'],
    ['loopback', '::1', '6:0:0:0:0:0:0:0:0/64'],
    [
      'a local-use NAT64 prefix (the IPv4 sits where its operator chose)',
      '64:ff9b:1::c633:6407',
      '6:64:ff9b:1:0:0:0:0:0/64',
    ],
    ['NAT64 look-alike with bits set in the suffix', '64:ff9b:0:0:1::c633:6407', '6:64:ff9b:0:0:0:0:0:0/64'],
    ['2001:db8 is documentation, not Teredo', '2001:db8::c633:6407', '6:2001:db8:0:0:0:0:0:0/64'],
    ['2003::/16 is not 6to4', '2003:c633:6407::1', '6:2003:c633:6407:0:0:0:0:0/64'],
    ['ffff in the wrong group', '::ffff:0:0:c633:6407', '6:0:0:0:ffff:0:0:0:0/64'],
    ['translated look-alike: ffff followed by a non-zero group', '::ffff:1:c633:6407', '6:0:0:0:0:0:0:0:0/64'],
    ['NAT64 look-alike: 64 without ff9b', '64:1::c633:6407', '6:64:1:0:0:0:0:0:0/64'],
    ['NAT64 look-alike: ff9b without 64', '65:ff9b::c633:6407', '6:65:ff9b:0:0:0:0:0:0/64'],
  ]
  for (const [label, ip, network] of stillIpv6) {
    it(`stays IPv6: ${label}: ${ip} -> ${network}`, () => {
      assert.equal(clientNetwork(ip, defaults), network, `${ip} carries no client IPv4`)
    })
  }
})

describe('ipv6SiteOf: the /48 tier above a narrower IPv6 network', () => {
  const table: [string, string | null][] = [
    ['6:2001:db8:1:2:0:0:0:0/64', '6:2001:db8:1:0:0:0:0:0/48'],
    ['6:2001:db8:1:ff00:0:0:0:0/56', '6:2001:db8:1:0:0:0:0:0/48'],
    ['6:2001:db8:1:2:3:4:5:6/128', '6:2001:db8:1:0:0:0:0:0/48'],
    ['6:2001:db8:1:0:0:0:0:0/49', '6:2001:db8:1:0:0:0:0:0/48'],
    ['6:2001:db8:1:0:0:0:0:0/48', null],
    ['6:2001:db8:0:0:0:0:0:0/32', null],
    ['4:198.51.100.7/32', null],
    ['?:2001:db8::1', null],
    ['?:6:1:2:3/64', null],
    // Names clientNetwork gives a string that is not an address: never a site, however they read.
    ['?:6:1:2:3:4:5:6:7:8/64', null],
    ['6:2001:db8:1:2:0:0:0:0/64x', null],
    ['6:1:2:3/64', null],
    ['', null],
  ]
  for (const [network, site] of table) {
    it(`${JSON.stringify(network)} -> ${site}`, () => {
      assert.equal(ipv6SiteOf(network), site, 'the site tier of a network name')
    })
  }
  it('every /64 of one /48 has the same site, and the site of a name from clientNetwork', () => {
    const sites = new Set(
      ['2001:db8:9:0::1', '2001:db8:9:1::1', '2001:db8:9:ffff:1:2:3:4'].map((ip) =>
        ipv6SiteOf(clientNetwork(ip, defaults)),
      ),
    )
    assert.deepEqual([...sites], ['6:2001:db8:9:0:0:0:0:0/48'], 'one /48, one site')
  })
})

describe('clientNetwork: anything else is its own network, and nothing throws', () => {
  const hostile: [string, string][] = [
    ['', '?:'],
    ['unknown', '?:unknown'],
    ['192.0.2', '?:192.0.2'],
    ['192.0.2.1.5', '?:192.0.2.1.5'],
    ['192.0.2.256', '?:192.0.2.256'],
    ['192.0.2.01', '?:192.0.2.01'],
    ['192.0.2.1000', '?:192.0.2.1000'],
    ['192.0.2.-1', '?:192.0.2.-1'],
    ['1.2.3.4:80', '?:1.2.3.4:80'],
    ['[::1]', '?:[::1]'],
    ['1:2:3:4:5:6:7', '?:1:2:3:4:5:6:7'],
    ['1:2:3:4:5:6:7:8:9', '?:1:2:3:4:5:6:7:8:9'],
    ['1:2:3:4:5:6:7::8', '?:1:2:3:4:5:6:7::8'],
    ['1::2::3', '?:1::2::3'],
    ['12345::', '?:12345::'],
    ['g::1', '?:g::1'],
    [':::', '?::::'],
    ['::ffff:192.0.2.256', '?:::ffff:192.0.2.256'],
    ['::ffff:192.0.2', '?:::ffff:192.0.2'],
    ['1:2:3:4:5:6:7:8%', '6:1:2:3:4:0:0:0:0/64'],
    ['fe80::1%eth0%1', '6:fe80:0:0:0:0:0:0:0/64'],
    ['fe80::1%', '6:fe80:0:0:0:0:0:0:0/64'],
    ['%eth0', '?:%eth0'],
    ['2001:db8::1 ::2', '?:2001:db8::1 ::2'],
    ['2001:db8::x', '?:2001:db8::x'],
    ['2001:db8::1/64', '?:2001:db8::1/64'],
    ['__proto__', '?:__proto__'],
    ['::192.0.2.1:5', '?:::192.0.2.1:5'],
    [`${'1:'.repeat(30)}1`, `?:${`${'1:'.repeat(30)}1`.slice(0, 64)}`],
    ['x'.repeat(200), `?:${'x'.repeat(64)}`],
  ]
  for (const [ip, network] of hostile) {
    it(JSON.stringify(ip.length > 40 ? `${ip.slice(0, 40)}…` : ip), () => {
      assert.equal(clientNetwork(ip, defaults), network)
    })
  }
})
