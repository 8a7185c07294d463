/**
 * The functions the plugin adds to every page's context (`api`), so `<script server>` blocks can
 * call them as bare names.
 */
import type { AuthData, GuestAuth } from '../core/guest-auth'
import type { UpgradeInput } from '../core/upgrade'

export interface AnonymousContextApi {
  /** Creates a guest, sets the `pb_auth` cookie and signs this request in. */
  signInAnonymously(options?: { collection?: string }): AuthData
  /** True when `record` (default: the signed-in user) is a guest. */
  isAnonymous(record?: core.Record): boolean
  /** Clears the cookie; this request is signed out. */
  signOut(): void
  /** Turns the signed-in guest into a full account with the same id. */
  upgradeAnonymousUser(input: UpgradeInput): AuthData
  /** Moves the signed-in guest's data into `into` (via `onMerge` or the default), deletes the guest, signs in as `into`. */
  mergeAnonymousUser(into: core.Record): AuthData
}

/**
 * `onError` sees every error thrown to the page (the adapter keeps the last one to answer with
 * its HTTP status if the page catches it and renders anyway).
 */
export function contextApiFor(auth: GuestAuth, onError: (error: unknown) => void): AnonymousContextApi {
  const reporting =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    (...args: A): R => {
      try {
        return fn(...args)
      } catch (error) {
        onError(error)
        throw error
      }
    }
  return {
    signInAnonymously: reporting((options?: { collection?: string }) => auth.signInAnonymously(options ?? {})),
    isAnonymous: (record) => auth.isAnonymous(record ?? auth.currentRecord),
    signOut: reporting(() => auth.signOut()),
    upgradeAnonymousUser: reporting((input: UpgradeInput) => auth.upgradeAnonymousUser(input)),
    mergeAnonymousUser: reporting((into: core.Record) => auth.mergeAnonymousUser(into)),
  }
}
