/**
 * Sliding-window counting in time slots: what every rate limit and throttle is built on.
 *
 * Policy: a window of `windowSeconds` is counted in 60 slots. An event at time t is added to the
 * slot that contains t. The count at `now` sums every slot that overlaps [now - window, now], the
 * oldest one whole, so the count is never less than the events truly inside the window: a limit
 * checked against it is never exceeded in any window, and errs, by at most one slot (1/60 of the
 * window), on the strict side. Reading costs at most 61 rows per key, whatever the number of events,
 * so a limit of 10,000 costs what a limit of 30 does.
 */
import { SECOND_MS } from './dates'
import type { CounterSlot, CounterStore } from './ports'

export const SLOTS_PER_WINDOW = 60

export interface Window {
  windowSeconds: number
}

export interface Tally {
  count: number
  /** Seconds until the count drops below `limit` with no new events (at least 1). */
  secondsUntilBelow(limit: number): number
}

export function slotLengthMs(window: Window): number {
  return Math.max(1, Math.ceil((window.windowSeconds * SECOND_MS) / SLOTS_PER_WINDOW))
}

export function slotAt(window: Window, nowMs: number): number {
  return Math.floor(nowMs / slotLengthMs(window))
}

/** The first slot that overlaps the window ending at `nowMs`. */
function windowStartSlot(window: Window, nowMs: number): number {
  return Math.floor((nowMs - window.windowSeconds * SECOND_MS) / slotLengthMs(window))
}

/** When a slot's row stops mattering: once the slot has left every window that can see it. */
function slotExpiresAtMs(window: Window, slot: number): number {
  return (slot + 1) * slotLengthMs(window) + window.windowSeconds * SECOND_MS
}

/** The events counted under any of `keys` in the window ending at `nowMs`. */
export function tally(store: CounterStore, keys: string[], window: Window, nowMs: number): Tally {
  const fromSlot = windowStartSlot(window, nowMs)
  // The sum is what every request needs; the slots themselves only when a limit is reached.
  const count = store.total(keys, fromSlot)
  return {
    count,
    secondsUntilBelow: (limit) => secondsUntilBelow(store.read(keys, fromSlot), count, limit, window, nowMs),
  }
}

/** Adds `delta` (1 for an event, -1 to take one back) to `key`'s slot at `atMs`. */
export function addEvent(store: CounterStore, key: string, window: Window, atMs: number, delta = 1): void {
  const slot = slotAt(window, atMs)
  store.add(key, slot, slotExpiresAtMs(window, slot), delta)
}

/**
 * Adds one event to `key` unless the window over `keys` already holds `limit`: the check and the
 * count in one statement. Returns null when it counted; the refusal's tally (for `Retry-After`)
 * when it did not.
 */
export function addEventBelow(
  store: CounterStore,
  limit: number,
  keys: string[],
  key: string,
  window: Window,
  nowMs: number,
): Tally | null {
  const slot = slotAt(window, nowMs)
  const within = { keys, fromSlot: windowStartSlot(window, nowMs) }
  if (store.addBelow(limit, within, key, slot, slotExpiresAtMs(window, slot))) return null
  // Refused: the window's slots give both the count and when it falls below the limit.
  const rows = store.read(keys, within.fromSlot)
  const count = rows.reduce((sum, row) => sum + row.count, 0)
  return { count, secondsUntilBelow: (below) => secondsUntilBelow(rows, count, below, window, nowMs) }
}

function secondsUntilBelow(rows: CounterSlot[], count: number, limit: number, window: Window, nowMs: number): number {
  let remaining = count
  let freedAtMs = nowMs
  // A slot stops being counted when its row expires; drop slots oldest first.
  for (const row of [...rows].sort((a, b) => a.slot - b.slot)) {
    if (remaining < limit) break
    remaining -= row.count
    freedAtMs = slotExpiresAtMs(window, row.slot)
  }
  return Math.max(1, Math.ceil((freedAtMs - nowMs) / SECOND_MS))
}
