/**
 * How many code mails may go out: mail to any address anyone types is an abuse vector (bombing
 * someone's inbox, the sender's reputation), so it is limited three ways at once.
 *
 * Policy: at most `sendsPerGuest` per guest, `sendsPerNetwork` per client network and
 * `sendsPerAddress` per address (whoever asks) in any `sendWindowSeconds`. The three checks and
 * the three counts run in one transaction before anything is mailed: a refusal counts nothing,
 * and a burst cannot all pass the checks. A mail that then fails still counts (retrying against a
 * broken mail server gains nothing). Every key is an HMAC under the in-memory keys of
 * private-keys.ts: the address is case-folded first and is never stored, nor is the network.
 */
import { addEvent, tally } from './counters'
import { SECOND_MS } from './dates'
import { rateLimited } from './errors'
import type { Backend } from './ports'
import type { PrivateKeys } from './private-keys'

export interface SendLimits {
  sendsPerGuest: number
  sendsPerNetwork: number
  sendsPerAddress: number
  sendWindowSeconds: number
}

export interface Sender {
  guestId: string
  network: string
  address: string
}

/** Counts one code mail, or throws RATE_LIMITED (with the longest wait among the limits reached). */
export function countCodeSend(
  backend: Backend,
  keys: PrivateKeys,
  sender: Sender,
  limits: SendLimits,
  nowMs: number,
): void {
  const window = { windowSeconds: limits.sendWindowSeconds }
  const sinceMs = nowMs - limits.sendWindowSeconds * SECOND_MS
  const checks: [kind: string, value: string, limit: number, refusal: string][] = [
    ['code/guest', sender.guestId, limits.sendsPerGuest, 'Too many codes were asked for on this account.'],
    ['code/network', sender.network, limits.sendsPerNetwork, 'Too many codes were asked for from your network.'],
    ['code/address', sender.address.toLowerCase(), limits.sendsPerAddress, 'Too many codes were sent to this address.'],
  ]
  backend.transaction((tx) => {
    for (const [kind, value, limit, refusal] of checks) {
      const used = tally(tx.counters, keys.since(kind, window.windowSeconds, value, sinceMs, nowMs), window, nowMs)
      if (used.count >= limit) throw rateLimited(refusal, used.secondsUntilBelow(limit))
    }
    for (const [kind, value] of checks) {
      addEvent(tx.counters, keys.current(kind, window.windowSeconds, value, nowMs), window, nowMs)
    }
  })
}
