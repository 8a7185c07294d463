/**
 * guestExpiresAt(record) and expiredGuest(): what a page can tell a person about the end of a guest
 * (policy: guest-expiry.ts, guest-trail.ts). Both only read; expiredGuest() clears the trace it
 * reports, so it reports once.
 */
import { guestExpiryMs } from '../guest-expiry'
import type { ExpiredGuest } from '../guest-trail'
import type { AuthRecord } from '../ports'
import type { OperationContext } from './context'

/** When the cleanup deletes this guest if it stays away from now on; null for a full account or no user. */
export function guestExpiresAt(ctx: OperationContext, record: AuthRecord | null | undefined): Date | null {
  if (!record || !ctx.session.isAnonymous(record)) return null
  const ms = guestExpiryMs(
    record.getString(ctx.options.lastSeenField),
    record.getString('created'),
    ctx.options.cleanup.retentionDays,
  )
  return ms === null ? null : new Date(ms)
}

/** Truthy (`{ expiredAt }`) on the first request of a browser whose guest expired; null otherwise. */
export function expiredGuest(ctx: OperationContext): ExpiredGuest | null {
  return ctx.trail?.expired() ?? null
}
