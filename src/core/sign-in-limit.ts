/**
 * Guest sign-in rate limits.
 *
 * Policy: at most `perNetwork` guest sign-ins per client network (see client-network.ts), and
 * optionally `global` in total, in any `windowSeconds`. The check and the count run in the SAME
 * transaction as the guest's insert, and PocketBase runs write transactions one at a time, so
 * concurrent sign-ins across its pool of JS VMs are counted exactly: a burst never gets one more
 * than the limit. A refusal throws, which rolls the transaction back: a network's count added
 * before the global cap refused is undone with it. Networks are stored only as HMACs under
 * in-memory keys (private-keys.ts).
 */
import { addEventBelow } from './counters'
import { SECOND_MS } from './dates'
import { rateLimited } from './errors'
import type { CounterStore } from './ports'
import type { PrivateKeys } from './private-keys'

export interface SignInLimits {
  perNetwork: number
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
  if (limits.perNetwork > 0) {
    const sinceMs = nowMs - limits.windowSeconds * SECOND_MS
    // The current period's key comes first: the count goes there.
    const networkKeys = keys.since(KIND, limits.windowSeconds, network, sinceMs, nowMs)
    const refused = addEventBelow(counters, limits.perNetwork, networkKeys, networkKeys[0]!, limits, nowMs)
    if (refused) {
      throw rateLimited('Too many guest sign-ins from your network.', refused.secondsUntilBelow(limits.perNetwork))
    }
  }
  if (limits.global > 0) {
    const refused = addEventBelow(counters, limits.global, [GLOBAL_KEY], GLOBAL_KEY, limits, nowMs)
    if (refused) {
      throw rateLimited('Too many guest sign-ins on this site right now.', refused.secondsUntilBelow(limits.global))
    }
  }
}
