/**
 * Keep-alive policy (pure decisions; the adapter performs the writes).
 *
 * A guest's account is only reachable through its token, so a token that expires loses the
 * guest's data. Every page request with a verified cookie whose token has used more than
 * `refreshAfterFraction` of its lifetime gets a fresh token and cookie (sliding session), for
 * guests and full users alike. A guest's last activity is written at most once per
 * `lastSeenWriteIntervalSeconds`, so the write cost is bounded no matter how busy the guest is.
 */

/** True when a token expiring at `expSeconds` has used more than `fraction` of `lifetimeSeconds`. */
export function shouldRefreshToken(
  expSeconds: number,
  lifetimeSeconds: number,
  nowMs: number,
  fraction: number,
): boolean {
  if (lifetimeSeconds <= 0) return false
  const remainingSeconds = expSeconds - nowMs / 1000
  const usedSeconds = lifetimeSeconds - remainingSeconds
  return usedSeconds > lifetimeSeconds * fraction
}

/**
 * True when a last-activity timestamp (PocketBase date string, '' when never written) is older
 * than `intervalSeconds`.
 */
export function shouldWriteLastSeen(lastSeen: string, nowMs: number, intervalSeconds: number): boolean {
  if (!lastSeen) return true
  const lastMs = parsePocketBaseDate(lastSeen)
  if (lastMs === null) return true
  return nowMs - lastMs >= intervalSeconds * 1000
}

/** PocketBase stores dates as 'YYYY-MM-DD HH:MM:SS.sssZ' (UTC). */
export function formatPocketBaseDate(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ')
}

export function parsePocketBaseDate(value: string): number | null {
  const ms = Date.parse(value.replace(' ', 'T'))
  return Number.isFinite(ms) ? ms : null
}
