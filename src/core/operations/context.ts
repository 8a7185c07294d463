/**
 * What every operation (one file each in this folder) works with: the request's session and the
 * PocketBase-facing ports. The adapter builds one per request; unit tests build one on fakes.
 */
import type { AuthSession } from '../auth-session'
import type { GuestTrail } from '../guest-trail'
import type { ResolvedOptions } from '../options'
import type { GuestCheck, MergeHook } from '../options-types'
import type { Backend, Crypto } from '../ports'
import type { PrivateKeys } from '../private-keys'

export interface OperationContext {
  readonly session: AuthSession
  readonly backend: Backend
  readonly options: ResolvedOptions
  readonly crypto: Crypto
  readonly keys: PrivateKeys
  /** The app's function options, looked up when needed (the adapter reads them in the serving VM). */
  readonly hooks: { onMerge(): MergeHook | null; beforeGuestSignIn(): GuestCheck | null }
  /** Handed to app hooks as `request` (PocketPages' request object). */
  readonly hookRequest: unknown
  /** The guest trace of this request (expiredGuest); absent where nothing reads it. */
  readonly trail?: GuestTrail
  now(): number
}

/** GET, HEAD and OPTIONS change nothing by HTTP's rules, so browsers send them cross-site freely. */
export function isSafeMethod(method: string): boolean {
  const m = method.toUpperCase()
  return m === 'GET' || m === 'HEAD' || m === 'OPTIONS'
}
