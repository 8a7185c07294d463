/**
 * Counter keys that reveal nothing: client networks, emails and the like are stored only as
 * HMACs under keys that never touch the disk.
 *
 * Policy: each kind of counter has its own series of random keys, one per period of its window's
 * length, held in `$app.store()` (memory shared by every JS VM of the process). A window spans at
 * most three periods, so the keys of the current and the two previous periods are kept and older
 * ones are dropped. A stolen database therefore holds HMACs whose keys were never written anywhere,
 * and after three periods no copy of a key exists even in memory. The price: a restart forgets the
 * keys, so counts start over.
 */
import { SECOND_MS } from './dates'
import type { Crypto, SharedMemory } from './ports'

const KEY_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
/** 43 characters of 62 symbols: 256 bits. */
const KEY_LENGTH = 43
/** Hex characters of the HMAC kept in a counter key: 128 bits, plenty against collisions. */
const HASH_LENGTH = 32

export class PrivateKeys {
  constructor(
    private readonly memory: SharedMemory,
    private readonly crypto: Crypto,
    private readonly storePrefix: string,
  ) {}

  /** The counter key for `value` now (under the current period's key). */
  current(kind: string, windowSeconds: number, value: string, nowMs: number): string {
    const period = Math.floor(nowMs / (windowSeconds * SECOND_MS))
    return this.hashIn(kind, windowSeconds, period, value)
  }

  /** Every counter key `value` may have had since `sinceMs` (a window's start), current first. */
  since(kind: string, windowSeconds: number, value: string, sinceMs: number, nowMs: number): string[] {
    const periodMs = windowSeconds * SECOND_MS
    const current = Math.floor(nowMs / periodMs)
    const oldest = Math.max(current - 2, Math.floor(sinceMs / periodMs))
    const keys: string[] = []
    for (let period = current; period >= oldest; period--) keys.push(this.hashIn(kind, windowSeconds, period, value))
    return keys
  }

  private hashIn(kind: string, windowSeconds: number, period: number, value: string): string {
    const key = this.keyOf(kind, windowSeconds, period)
    return `${kind}:${this.crypto.hmac(value, key).slice(0, HASH_LENGTH)}`
  }

  private keyOf(kind: string, windowSeconds: number, period: number): string {
    const name = (p: number) => `${this.storePrefix}key/${kind}/${windowSeconds}/${p}`
    // The common case, a key that exists, without handing the store a function to call.
    const existing = this.memory.get(name(period))
    if (existing !== undefined && existing !== null) return String(existing)
    // getOrSet runs its function under the store's lock: do nothing else with the store inside it.
    const key = this.memory.getOrSet(name(period), () => this.crypto.randomString(KEY_LENGTH, KEY_ALPHABET))
    // A period this process had no key for yet: the key three periods back can no longer be needed
    // (whichever VM gets here first removes it; the others find nothing to remove).
    this.memory.remove(name(period - 3))
    return String(key)
  }
}
