/**
 * Throttling failed attempts: upgrades, and an app's own forms (the demo's password sign-in).
 *
 * Policy: an attempt is counted BEFORE the work it guards (a lookup, bcrypt), in one short
 * transaction with the check, so a burst of concurrent attempts cannot all pass the check and all do
 * the expensive work; an attempt that succeeds is taken back. So at most `perKey` failed (or still
 * running) attempts per key, e.g. a guest or an email, and `perNetwork` per client network, are let
 * through in any `windowSeconds`. Keys and networks are stored only as HMACs (private-keys.ts).
 */
import { addEvent, tally } from './counters'
import { SECOND_MS } from './dates'
import { rateLimited } from './errors'
import type { Backend } from './ports'
import type { PrivateKeys } from './private-keys'

export interface AttemptLimits {
  perKey: number
  perNetwork: number
  windowSeconds: number
}

export interface Attempt {
  /** Takes the attempt back: it succeeded, so it must not count against anyone. */
  succeeded(): void
}

export interface AttemptScope {
  /** Names the throttle, e.g. 'upgrade' or 'password-sign-in'. */
  name: string
  /** What the attempt is about (a guest id, an email). */
  key: string
  network: string
  /** The start of the RATE_LIMITED message, e.g. 'Too many failed sign-in attempts.' */
  refusal: string
}

export function beginAttempt(
  backend: Backend,
  keys: PrivateKeys,
  scope: AttemptScope,
  limits: AttemptLimits,
  nowMs: number,
): Attempt {
  const sinceMs = nowMs - limits.windowSeconds * SECOND_MS
  const byKey = `fail/${scope.name}`
  const byNetwork = `fail/${scope.name}/network`
  const counted = backend.transaction((tx) => {
    const checks: [string, string, number][] = [
      [byKey, scope.key, limits.perKey],
      [byNetwork, scope.network, limits.perNetwork],
    ]
    for (const [kind, value, limit] of checks) {
      const used = tally(tx.counters, keys.since(kind, limits.windowSeconds, value, sinceMs, nowMs), limits, nowMs)
      if (used.count >= limit) throw rateLimited(scope.refusal, used.secondsUntilBelow(limit))
    }
    const added = checks.map(([kind, value]) => keys.current(kind, limits.windowSeconds, value, nowMs))
    for (const key of added) addEvent(tx.counters, key, limits, nowMs)
    return added
  })
  let open = true
  return {
    succeeded: () => {
      if (!open) return
      open = false
      // Same time, so the same slot: the count goes back to what it was.
      for (const key of counted) addEvent(backend.counters, key, limits, nowMs, -1)
    },
  }
}
