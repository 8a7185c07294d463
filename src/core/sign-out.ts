/**
 * Signing a guest out for good.
 *
 * Policy: a guest's cookie is its only credential, so signing out ends the guest: its token key is
 * rotated (every token it had stops working, including copies) and its last activity is set to the
 * epoch, so the next cleanup run deletes it through PocketBase (cascades and hooks apply). This runs
 * in one transaction that re-reads the guest: when a concurrent upgrade or merge changed the session
 * first, that one wins and nothing is done here. Full accounts only lose the cookie (elsewhere).
 */
import { formatPocketBaseDate } from './dates'
import { isGuestRecord } from './guest-identity'
import type { ResolvedOptions } from './options'
import type { AuthRecord, Backend } from './ports'

/** True when this call ended the guest; false when another request had already changed it. */
export function endGuest(
  backend: Backend,
  guest: AuthRecord,
  options: Pick<ResolvedOptions, 'anonymousField' | 'lastSeenField'>,
): boolean {
  return backend.transaction((tx) => {
    const fresh = tx.findRecordById(guest.collection(), guest.id)
    if (!fresh || fresh.tokenKey() !== guest.tokenKey() || !isGuestRecord(tx, fresh, options.anonymousField))
      return false
    fresh.refreshTokenKey()
    fresh.set(options.lastSeenField, formatPocketBaseDate(0))
    tx.save(fresh)
    return true
  })
}
