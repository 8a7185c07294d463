/**
 * The functions the plugin adds to every page's context (`api`), so `<script server>` blocks can
 * call them as bare names. Each is one operation of src/core/operations, on this request's context.
 *
 * Their types are the public ones (the package's declarations print them): records are
 * PocketBase's `core.Record`, which the core sees through its narrower AuthRecord port.
 */

import type { AttemptLimits } from '../core/failed-attempts'
import type { ExpiredGuest } from '../core/guest-trail'
import { type AttemptThrottle, failedAttempts } from '../core/operations/app-throttle'
import type { OperationContext } from '../core/operations/context'
import { ensureGuest } from '../core/operations/ensure-guest'
import { expiredGuest, guestExpiresAt } from '../core/operations/guest-expiry'
import { guestFormFields } from '../core/operations/guest-form-fields'
import { mergeAnonymousUser } from '../core/operations/merge'
import { type RequestUpgradeCodeInput, requestUpgradeCode } from '../core/operations/request-upgrade-code'
import { signIn } from '../core/operations/sign-in'
import { signInAnonymously } from '../core/operations/sign-in-anonymously'
import { signOut } from '../core/operations/sign-out'
import { type UpgradeInput, upgradeAnonymousUser } from '../core/operations/upgrade'
import { type UpgradeWithCodeInput, upgradeWithCode } from '../core/operations/upgrade-with-code'
import type { AuthRecord } from '../core/ports'

/** A session the plugin started: its token (also in the cookie) and its record. */
export interface AuthData {
  token: string
  record: core.Record
}

export interface AnonymousContextApi {
  /** Creates a guest, sets the session cookie and signs this request in. */
  signInAnonymously(options?: { collection?: string }): AuthData
  /** True when `record` (default: the signed-in user) is a guest. */
  isAnonymous(record?: core.Record): boolean
  /** Signs in to an existing account with a token the app obtained; a guest session is merged into it. */
  signIn(authData: { token: string; record?: unknown }): AuthData
  /** Clears the cookie; this request is signed out. A guest is ended for good. */
  signOut(): void
  /** Turns the signed-in guest into a full account with the same id. */
  upgradeAnonymousUser(input: UpgradeInput): AuthData
  /** Moves the signed-in guest's data into `into` (via `onMerge` or the default), deletes the guest, signs in as `into`. */
  mergeAnonymousUser(into: core.Record): AuthData
  /** A throttle for one of the app's forms: `failedAttempts(name, limits).begin(key)`, then `.succeeded()`. */
  failedAttempts(name: string, limits: AttemptLimits): AttemptThrottle
  /** Mails a one-time code to `email` for the signed-in guest; nothing changes until it comes back. */
  requestUpgradeCode(input: { email: string }): { otpId: string }
  /** The right code saves the guest under that email in place (or signs in to the account that has it, guest merged in). */
  upgradeWithCode(input: { otpId: string; code: string }): AuthData
  /** The signed-in user, or a new guest (one per browser, however often its form is submitted); null for prefetches and crawlers. */
  ensureGuest(options?: { collection?: string }): AuthData | null
  /** Hidden input(s) for a form that creates a guest: ties duplicate submissions to one guest. */
  guestFormFields(): string
  /** When the cleanup deletes this guest (default: the signed-in user) if it stays away; null for a full account. */
  guestExpiresAt(record?: core.Record): Date | null
  /** `{ expiredAt }` on the first request of a browser whose guest expired; null otherwise. */
  expiredGuest(): ExpiredGuest | null
}

/** Names of the context functions, also the ones another plugin must not replace. */
export const CONTEXT_FUNCTIONS = [
  'signInAnonymously',
  'isAnonymous',
  'signIn',
  'signOut',
  'upgradeAnonymousUser',
  'mergeAnonymousUser',
  'failedAttempts',
  'requestUpgradeCode',
  'upgradeWithCode',
  'ensureGuest',
  'guestFormFields',
  'guestExpiresAt',
  'expiredGuest',
] as const satisfies readonly (keyof AnonymousContextApi)[]

/**
 * `onError` sees every error thrown to the page (the adapter keeps the last one to answer with
 * its HTTP status if the page catches it and renders anyway).
 */
export function contextApiFor(ctx: OperationContext, onError: (error: unknown) => void): AnonymousContextApi {
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
    signInAnonymously: reporting((options?: { collection?: string }) =>
      published(signInAnonymously(ctx, options ?? {})),
    ),
    isAnonymous: (record) => ctx.session.isAnonymous(record ?? ctx.session.record),
    signIn: reporting((authData: { token: string }) => published(signIn(ctx, authData))),
    signOut: reporting(() => signOut(ctx)),
    upgradeAnonymousUser: reporting((input: UpgradeInput) => published(upgradeAnonymousUser(ctx, input))),
    mergeAnonymousUser: reporting((into: core.Record) => published(mergeAnonymousUser(ctx, into))),
    failedAttempts: reporting((name: string, limits: AttemptLimits) => {
      const throttle = failedAttempts(ctx, name, limits)
      return { begin: reporting((key: string) => throttle.begin(key)) }
    }),
    requestUpgradeCode: reporting((input: RequestUpgradeCodeInput) => requestUpgradeCode(ctx, input)),
    upgradeWithCode: reporting((input: UpgradeWithCodeInput) => published(upgradeWithCode(ctx, input))),
    ensureGuest: reporting((options?: { collection?: string }) => {
      const session = ensureGuest(ctx, options ?? {})
      return session ? published(session) : null
    }),
    guestFormFields: reporting(() => guestFormFields(ctx)),
    guestExpiresAt: (record) => guestExpiresAt(ctx, (record as AuthRecord | undefined) ?? ctx.session.record),
    expiredGuest: () => expiredGuest(ctx),
  }
}

/** The core's session for the page: its record is the `core.Record` the PocketBase backend gave it. */
function published(session: { token: string; record: AuthRecord }): AuthData {
  return session as unknown as AuthData
}

/**
 * Puts the functions on `api` so that they stay ours: another plugin (pocketpages-plugin-auth
 * defines `signIn`, `signOut` and `signInAnonymously` too) assigning the same name, before or
 * after us, does not replace them. Its own functions that call `api.signIn(...)` reach ours.
 */
export function defineContextFunctions(api: object, functions: AnonymousContextApi): void {
  for (const name of CONTEXT_FUNCTIONS) {
    Object.defineProperty(api, name, {
      configurable: true,
      enumerable: true,
      get: () => functions[name],
      // Another plugin's assignment is ignored on purpose: the session has one owner.
      set: () => {},
    })
  }
}
