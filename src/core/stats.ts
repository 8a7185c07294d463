/**
 * The operator's figures: guests created, upgraded (by path), merged, signed out and cleaned up,
 * per UTC day over the last 30 days, how many guests exist now, and the conversion rate.
 *
 * Policy:
 * - Aggregate counts only. An event adds 1 to the row (`stats:<event>`, UTC day) of the counters
 *   table: one upsert, no id, email or address. Stats buckets are plain words after `stats:`; every
 *   other bucket is `signin:*` or a kind and an HMAC (`signin:`, `fail/...`), so they cannot meet,
 *   and a stats row is never read by a rate limit (those read their own buckets by exact name).
 * - Counted in the event's own transaction where it has one (pass the transaction's backend), so
 *   a rolled-back event is not counted and a counted one happened.
 * - A day's row expires `KEEP_DAYS` after the day ends: past the window, so the counters' prune in
 *   the cleanup removes it, and never while the 30-day window can still see it.
 * - Conversion rate: (upgraded on every path + merged into an existing account) / created, all
 *   counted over the same 30 days; null when no guest was created in them. It compares event
 *   counts, not a cohort: a guest created before the window and converted in it counts above the
 *   line only, so it can exceed 1 after a quiet month.
 */
import { DAY_MS, formatPocketBaseDate } from './dates'
import { GUEST_PASSWORD_DIGEST } from './guest-identity'
import type { ResolvedOptions } from './options'
import type { Backend, CounterStore } from './ports'

/** Days the report covers, today (UTC, so far) included. */
export const STATS_WINDOW_DAYS = 30
/** A day's row lives this many days after the day ends (the window plus a margin). */
const KEEP_DAYS = STATS_WINDOW_DAYS + 2
/** Every stats bucket starts with this; no other bucket does (see the policy). */
export const STATS_BUCKET_PREFIX = 'stats:'

/**
 * How a guest became a full account. A new path is a word here, then one `recordEvent(tx,
 * 'upgraded-<path>', now)` in its operation's transaction; the report lists every path, 0 or not.
 */
export const UPGRADE_PATHS = ['password', 'code', 'oauth2'] as const
export type UpgradePath = (typeof UPGRADE_PATHS)[number]

export type StatsEvent = 'created' | `upgraded-${UpgradePath}` | 'merged' | 'signed-out' | 'cleaned-up'

const EVENTS: readonly StatsEvent[] = [
  'created',
  ...UPGRADE_PATHS.map((path) => `upgraded-${path}` as const),
  'merged',
  'signed-out',
  'cleaned-up',
]

export interface Figures {
  /** Guests created (guest sign-ins that made a guest). */
  created: number
  /** Guests that became full accounts, on every path. */
  upgraded: number
  upgradedBy: Record<UpgradePath, number>
  /** Guests merged into an existing account (signing in to it, or `mergeAnonymousUser`). */
  merged: number
  /** Guests ended by signing out (their data goes at the next cleanup). */
  signedOut: number
  /** Guests deleted by the cleanup. */
  cleanedUp: number
}

export interface DayFigures extends Figures {
  /** The UTC day, `YYYY-MM-DD`. */
  date: string
}

export interface StatsReport {
  windowDays: number
  /** Guests that exist now (flag and password marker, as guest-identity.ts), per collection. */
  guestsNow: { total: number; byCollection: Record<string, number> }
  /** The window's totals. */
  totals: Figures
  /** (upgraded + merged) / created over the window, 4 decimals; null when none was created. */
  conversionRate: number | null
  /** One entry per UTC day, oldest first; the last is today so far. */
  days: DayFigures[]
}

export function statsBucket(event: StatsEvent): string {
  return STATS_BUCKET_PREFIX + event
}

/** The UTC day number of a moment: the slot a stats event goes in. */
export function dayOf(nowMs: number): number {
  return Math.floor(nowMs / DAY_MS)
}

/**
 * Counts one `event` (or `count` of them) today: one upsert. Pass the event's transaction (`tx`)
 * where it has one, so the count commits or rolls back with it.
 */
export function recordEvent(on: { counters: CounterStore }, event: StatsEvent, nowMs: number, count = 1): void {
  // A typo'd kind would count where no report looks: refuse it loudly instead.
  if (!EVENTS.includes(event)) throw new TypeError(`recordEvent: unknown event '${String(event)}'`)
  if (count === 0) return
  const day = dayOf(nowMs)
  on.counters.add(statsBucket(event), day, (day + 1 + KEEP_DAYS) * DAY_MS, count)
}

type StatsOptions = Pick<ResolvedOptions, 'collections' | 'anonymousField'>

/** The report at `nowMs`: one read per event kind and one count per collection. */
export function readStats(backend: Backend, options: StatsOptions, nowMs: number): StatsReport {
  const today = dayOf(nowMs)
  const firstDay = today - STATS_WINDOW_DAYS + 1
  const days: DayFigures[] = []
  for (let day = firstDay; day <= today; day++) {
    days.push({ date: formatPocketBaseDate(day * DAY_MS).slice(0, 10), ...emptyFigures() })
  }
  for (const event of EVENTS) {
    for (const row of backend.counters.read([statsBucket(event)], firstDay)) {
      // A row from a later day (the clock went back) is not in the window.
      const entry = days[row.slot - firstDay]
      if (entry) addTo(entry, event, row.count)
    }
  }
  const totals = emptyFigures()
  for (const day of days) addFigures(totals, day)
  return {
    windowDays: STATS_WINDOW_DAYS,
    guestsNow: countGuestsNow(backend, options),
    totals,
    conversionRate: conversionRate(totals),
    days,
  }
}

/** (upgraded + merged) / created, to 4 decimals; null when nothing was created. */
export function conversionRate(figures: Pick<Figures, 'created' | 'upgraded' | 'merged'>): number | null {
  if (figures.created <= 0) return null
  return Math.round(((figures.upgraded + figures.merged) / figures.created) * 10_000) / 10_000
}

/** The report's totals as log key-values: the cleanup's log line carries the same figures. */
export function statsLogFields(report: StatsReport): unknown[] {
  const { totals } = report
  const fields: unknown[] = ['guestsNow', report.guestsNow.total, 'created30d', totals.created]
  fields.push('upgraded30d', totals.upgraded)
  for (const path of UPGRADE_PATHS) fields.push(`upgraded30d.${path}`, totals.upgradedBy[path])
  fields.push('merged30d', totals.merged, 'signedOut30d', totals.signedOut, 'cleanedUp30d', totals.cleanedUp)
  fields.push('conversionRate30d', report.conversionRate)
  return fields
}

function countGuestsNow(backend: Backend, options: StatsOptions): StatsReport['guestsNow'] {
  const byCollection: Record<string, number> = {}
  let total = 0
  for (const name of options.collections) {
    const collection = backend.findCollection(name)
    const count = collection ? backend.countGuests(collection, options.anonymousField, GUEST_PASSWORD_DIGEST) : 0
    byCollection[name] = count
    total += count
  }
  return { total, byCollection }
}

function emptyFigures(): Figures {
  const upgradedBy = {} as Record<UpgradePath, number>
  for (const path of UPGRADE_PATHS) upgradedBy[path] = 0
  return { created: 0, upgraded: 0, upgradedBy, merged: 0, signedOut: 0, cleanedUp: 0 }
}

function addTo(figures: Figures, event: StatsEvent, count: number): void {
  if (event === 'created') figures.created += count
  else if (event === 'merged') figures.merged += count
  else if (event === 'signed-out') figures.signedOut += count
  else if (event === 'cleaned-up') figures.cleanedUp += count
  else {
    const path = event.slice('upgraded-'.length) as UpgradePath
    figures.upgradedBy[path] += count
    figures.upgraded += count
  }
}

function addFigures(into: Figures, day: Figures): void {
  into.created += day.created
  into.upgraded += day.upgraded
  for (const path of UPGRADE_PATHS) into.upgradedBy[path] += day.upgradedBy[path]
  into.merged += day.merged
  into.signedOut += day.signedOut
  into.cleanedUp += day.cleanedUp
}
