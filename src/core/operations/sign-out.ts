/**
 * signOut(): clears the cookie and signs this request out; a guest is ended for good.
 *
 * Precondition: the request comes from this site: another site's auto-submitted form must not be
 * able to throw a guest's account away.
 *
 * Policy: a guest's cookie is its only credential, so signing out ends the guest: its token key is
 * rotated (every token it had stops working, including copies) and its last activity is set to the
 * epoch, so the next cleanup run deletes it through PocketBase (cascades and hooks apply). This runs
 * in one transaction that re-reads the guest: when a concurrent upgrade or merge changed the session
 * first, that one wins and nothing is done (or counted in the stats) here. Full accounts only lose
 * the cookie (elsewhere).
 */
import { PLUGIN_NAME } from '../constants'
import { formatPocketBaseDate } from '../dates'
import { isGuestRecord } from '../guest-identity'
import type { ResolvedOptions } from '../options'
import type { AuthRecord, Backend } from '../ports'
import { recordEvent } from '../stats'
import type { OperationContext } from './context'

export function signOut(ctx: OperationContext): void {
  const { session, backend, options } = ctx
  session.refuseCrossSite()
  const guest = session.record
  if (guest && session.isAnonymous(guest)) {
    try {
      endGuest(backend, guest, options, ctx.now())
    } catch (error) {
      // Signing out must always work for the browser; the guest then ends by inactivity instead.
      backend.log.warn(
        `${PLUGIN_NAME}: could not end the guest on sign-out`,
        'recordId',
        guest.id,
        'error',
        String(error),
      )
    }
  }
  session.end()
}

/** True when this call ended the guest; false when another request had already changed it. */
export function endGuest(
  backend: Backend,
  guest: AuthRecord,
  options: Pick<ResolvedOptions, 'anonymousField' | 'lastSeenField'>,
  nowMs: number,
): boolean {
  return backend.transaction((tx) => {
    const fresh = tx.findRecordById(guest.collection(), guest.id)
    if (!fresh || fresh.tokenKey() !== guest.tokenKey() || !isGuestRecord(tx, fresh, options.anonymousField))
      return false
    fresh.refreshTokenKey()
    fresh.set(options.lastSeenField, formatPocketBaseDate(0))
    tx.save(fresh)
    recordEvent(tx, 'signed-out', nowMs)
    return true
  })
}
