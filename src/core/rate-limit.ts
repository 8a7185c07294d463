/**
 * Guest sign-in rate limits: a sliding window over a log of sign-ins kept in SQLite.
 *
 * Policy: at most `perIp` guest sign-ins per client IP, and optionally `global` in total, in
 * any `windowSeconds`. The check and the guest's insert run in ONE transaction, and PocketBase
 * runs write transactions one at a time, so concurrent sign-ins across its pool of JS VMs are
 * counted exactly: a burst never gets one more than the limit. The IP is stored as a SHA-256
 * hash, not in clear. Rows older than the window are pruned by the cleanup job.
 */
import { SIGN_IN_LOG_TABLE } from './constants'
import { AnonymousAuthError, ErrorCodes } from './errors'

export interface RateLimits {
  perIp: number
  global: number
  windowSeconds: number
}

interface WindowCount {
  count: number
  oldest: number
}

/**
 * Counts this sign-in against the limits, or throws RATE_LIMITED with the seconds until a
 * slot frees up. Must run inside the transaction that creates the guest.
 */
export function consumeSignInAllowance(tx: core.App, ipKey: string, limits: RateLimits, nowMs: number): void {
  const sinceMs = nowMs - limits.windowSeconds * 1000
  if (limits.perIp > 0) {
    const used = countSince(tx, sinceMs, ipKey)
    if (used.count >= limits.perIp) throw limited('from this network address', limits, used, nowMs)
  }
  if (limits.global > 0) {
    const used = countSince(tx, sinceMs, null)
    if (used.count >= limits.global) throw limited('on this site', limits, used, nowMs)
  }
  tx.db()
    .newQuery(`INSERT INTO ${SIGN_IN_LOG_TABLE} (ipKey, created) VALUES ({:ipKey}, {:created})`)
    .bind({ ipKey, created: nowMs })
    .execute()
}

/** Deletes log rows no window can still see. Returns how many were removed. */
export function pruneSignInLog(app: core.App, windowSeconds: number, nowMs: number): number {
  const result = app
    .db()
    .newQuery(`DELETE FROM ${SIGN_IN_LOG_TABLE} WHERE created <= {:before}`)
    .bind({ before: nowMs - windowSeconds * 1000 })
    .execute()
  return Number(result.rowsAffected())
}

/** Seconds until the oldest sign-in in the window leaves it (at least 1). */
export function secondsUntilSlotFrees(oldestMs: number, windowSeconds: number, nowMs: number): number {
  return Math.max(1, Math.ceil((oldestMs + windowSeconds * 1000 - nowMs) / 1000))
}

function countSince(tx: core.App, sinceMs: number, ipKey: string | null): WindowCount {
  const row = new DynamicModel({ count: 0, oldest: 0 }) as unknown as WindowCount
  const filter = ipKey === null ? '' : 'ipKey = {:ipKey} AND '
  tx.db()
    .newQuery(
      `SELECT COUNT(*) AS count, COALESCE(MIN(created), 0) AS oldest FROM ${SIGN_IN_LOG_TABLE} WHERE ${filter}created > {:since}`,
    )
    .bind({ ipKey: ipKey ?? '', since: sinceMs })
    .one(row)
  return { count: Number(row.count), oldest: Number(row.oldest) }
}

function limited(scope: string, limits: RateLimits, used: WindowCount, nowMs: number): AnonymousAuthError {
  const retryAfterSeconds = secondsUntilSlotFrees(used.oldest, limits.windowSeconds, nowMs)
  return new AnonymousAuthError(
    ErrorCodes.RATE_LIMITED,
    `Too many guest sign-ins ${scope}. Try again in ${formatWait(retryAfterSeconds)}.`,
    { retryAfterSeconds },
  )
}

function formatWait(seconds: number): string {
  if (seconds < 90) return `${seconds} seconds`
  const minutes = Math.ceil(seconds / 60)
  return `${minutes} minutes`
}
