/**
 * Keep-alive policy (pure decisions; auth-session.ts performs the writes).
 *
 * A guest's account is only reachable through its token, so a token that expires loses the
 * guest's data. Every page request with a verified cookie whose token has used more than
 * `refreshAfterFraction` of its lifetime gets a fresh token and cookie (sliding session), for
 * guests and full users alike, if the token is one PocketBase itself would refresh (auth-session.ts
 * checks its `refreshable` claim: impersonation tokens are never extended). A guest's last activity is written at most once per
 * `lastSeenWriteIntervalSeconds`, so the write cost is bounded no matter how busy the guest is.
 */
import { parsePocketBaseDate, SECOND_MS } from './dates'

/** True when a token expiring at `expSeconds` has used more than `fraction` of `lifetimeSeconds`. */
export function shouldRefreshToken(
  expSeconds: number,
  lifetimeSeconds: number,
  nowMs: number,
  fraction: number,
): boolean {
  if (lifetimeSeconds <= 0) return false
  const remainingSeconds = expSeconds - nowMs / SECOND_MS
  const usedSeconds = lifetimeSeconds - remainingSeconds
  return usedSeconds > lifetimeSeconds * fraction
}

/** True when a last-activity date ('' when never written) is `intervalSeconds` old or older. */
export function shouldWriteLastSeen(lastSeen: string, nowMs: number, intervalSeconds: number): boolean {
  const lastMs = parsePocketBaseDate(lastSeen)
  if (lastMs === null) return true
  return nowMs - lastMs >= intervalSeconds * SECOND_MS
}
