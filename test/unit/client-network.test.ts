// The client network an address counts under (client-network.ts): a table of addresses, and
// hostile strings that must never throw.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { clientNetwork } from '../../src/core/client-network.ts'

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
    ['64:ff9b::192.0.2.1', '6:64:ff9b:0:0:0:0:0:0/64'],
    ['2001:db8:1:2:3:4::8', '6:2001:db8:1:2:0:0:0:0/64'],
    ['1234:5678:9abc:def0:1234:5678:255.255.255.255', '6:1234:5678:9abc:def0:0:0:0:0/64'],
  ]
  for (const [ip, network, prefixes] of table) {
    it(`${JSON.stringify(ip)}${prefixes ? ` (/${prefixes.ipv4Prefix}, /${prefixes.ipv6Prefix})` : ''} -> ${network}`, () => {
      assert.equal(clientNetwork(ip, prefixes ?? defaults), network)
    })
  }
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
