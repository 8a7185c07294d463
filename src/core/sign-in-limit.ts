/**
 * Guest sign-in rate limits.
 *
 * Policy: at most `perNetwork` guest sign-ins per client network (see client-network.ts), at most
 * `perIpv6Site` per IPv6 /48 (one end site holds 65,536 /64 networks: without this tier the holder
 * of a /48, free from a tunnel broker, would get 65,536 quotas), and optionally `global` in total,
 * in any `windowSeconds`. The check and the count run in the SAME
 * transaction as the guest's insert, and PocketBase runs write transactions one at a time, so
 * concurrent sign-ins across its pool of JS VMs are counted exactly: a burst never gets one more
 * than the limit. A refusal throws, which rolls the transaction back: a network's count added
 * before the global cap refused is undone with it. Networks are stored only as HMACs under
 * in-memory keys (private-keys.ts).
 */
import { ipv6SiteOf } from './client-network'
import { addEventBelow } from './counters'
import { SECOND_MS } from './dates'
import { rateLimited } from './errors'
import type { CounterStore } from './ports'
import type { PrivateKeys } from './private-keys'

export interface SignInLimits {
  perNetwork: number
  perIpv6Site: number
  global: number
  windowSeconds: number
}

const KIND = 'signin'
const GLOBAL_KEY = 'signin:*'

/** Counts one guest sign-in from `network`, or throws RATE_LIMITED. Call inside the guest's insert transaction. */
export function countGuestSignIn(
  counters: CounterStore,
  keys: PrivateKeys,
  network: string,
  limits: SignInLimits,
  nowMs: number,
): void {
  if (limits.perNetwork > 0) countNetwork(counters, keys, network, limits.perNetwork, limits, nowMs)
  // Only IPv6 networks narrower than a /48 have a site tier: IPv4 sign-ins cost nothing more.
  const site = limits.perIpv6Site > 0 ? ipv6SiteOf(network) : null
  if (site) countNetwork(counters, keys, site, limits.perIpv6Site, limits, nowMs)
  if (limits.global > 0) {
    const refused = addEventBelow(counters, limits.global, [GLOBAL_KEY], GLOBAL_KEY, limits, nowMs)
    if (refused) {
      throw rateLimited('Too many guest sign-ins on this site right now.', refused.secondsUntilBelow(limits.global))
    }
  }
}

function countNetwork(
  counters: CounterStore,
  keys: PrivateKeys,
  network: string,
  limit: number,
  limits: SignInLimits,
  nowMs: number,
): void {
  const sinceMs = nowMs - limits.windowSeconds * SECOND_MS
  // The current period's key comes first: the count goes there. A /48's name differs from every
  // narrower network's name (the prefix length is part of it), so the tiers never share a key.
  const networkKeys = keys.since(KIND, limits.windowSeconds, network, sinceMs, nowMs)
  const refused = addEventBelow(counters, limit, networkKeys, networkKeys[0]!, limits, nowMs)
  if (refused) throw rateLimited('Too many guest sign-ins from your network.', refused.secondsUntilBelow(limit))
}
