/**
 * Guest sign-in rate limits.
 *
 * Policy: at most `perNetwork` guest sign-ins per client network (see client-network.ts), and
 * optionally `global` in total, in any `windowSeconds`. The check and the count run in the SAME
 * transaction as the guest's insert, and PocketBase runs write transactions one at a time, so
 * concurrent sign-ins across its pool of JS VMs are counted exactly: a burst never gets one more
 * than the limit. Networks are stored only as HMACs under in-memory keys (private-keys.ts).
 */
import { addEvent, tally } from './counters'
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
  const sinceMs = nowMs - limits.windowSeconds * SECOND_MS
  if (limits.perNetwork > 0) {
    const used = tally(counters, keys.since(KIND, limits.windowSeconds, network, sinceMs, nowMs), limits, nowMs)
    if (used.count >= limits.perNetwork) {
      throw rateLimited('Too many guest sign-ins from your network.', used.secondsUntilBelow(limits.perNetwork))
    }
  }
  if (limits.global > 0) {
    const used = tally(counters, [GLOBAL_KEY], limits, nowMs)
    if (used.count >= limits.global) {
      throw rateLimited('Too many guest sign-ins on this site right now.', used.secondsUntilBelow(limits.global))
    }
  }
  if (limits.perNetwork > 0) addEvent(counters, keys.current(KIND, limits.windowSeconds, network, nowMs), limits, nowMs)
  if (limits.global > 0) addEvent(counters, GLOBAL_KEY, limits, nowMs)
}
