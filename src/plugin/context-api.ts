/**
 * The functions the plugin adds to every page's context (`api`), so `<script server>` blocks can
 * call them as bare names. Each is one operation of src/core/operations, on this request's context.
 */

import type { AuthData } from '../core/auth-session'
import type { AttemptLimits } from '../core/failed-attempts'
import { type AttemptThrottle, failedAttempts } from '../core/operations/app-throttle'
import type { OperationContext } from '../core/operations/context'
import { mergeAnonymousUser } from '../core/operations/merge'
import { type RequestUpgradeCodeInput, requestUpgradeCode } from '../core/operations/request-upgrade-code'
import { signIn } from '../core/operations/sign-in'
import { signInAnonymously } from '../core/operations/sign-in-anonymously'
import { signOut } from '../core/operations/sign-out'
import { type UpgradeInput, upgradeAnonymousUser } from '../core/operations/upgrade'
import { type UpgradeWithCodeInput, upgradeWithCode } from '../core/operations/upgrade-with-code'
import type { AuthRecord } from '../core/ports'

export interface AnonymousContextApi {
  /** Creates a guest, sets the session cookie and signs this request in. */
  signInAnonymously(options?: { collection?: string }): AuthData
  /** True when `record` (default: the signed-in user) is a guest. */
  isAnonymous(record?: AuthRecord): boolean
  /** Signs in to an existing account with a token the app obtained; a guest session is merged into it. */
  signIn(authData: { token: string; record?: unknown }): AuthData
  /** Clears the cookie; this request is signed out. A guest is ended for good. */
  signOut(): void
  /** Turns the signed-in guest into a full account with the same id. */
  upgradeAnonymousUser(input: UpgradeInput): AuthData
  /** Moves the signed-in guest's data into `into` (via `onMerge` or the default), deletes the guest, signs in as `into`. */
  mergeAnonymousUser(into: AuthRecord): AuthData
  /** A throttle for one of the app's forms: `failedAttempts(name, limits).begin(key)`, then `.succeeded()`. */
  failedAttempts(name: string, limits: AttemptLimits): AttemptThrottle
  /** Mails a one-time code to `email` for the signed-in guest; nothing changes until it comes back. */
  requestUpgradeCode(input: { email: string }): { otpId: string }
  /** The right code saves the guest under that email in place (or signs in to the account that has it, guest merged in). */
  upgradeWithCode(input: { otpId: string; code: string }): AuthData
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
    signInAnonymously: reporting((options?: { collection?: string }) => signInAnonymously(ctx, options ?? {})),
    isAnonymous: (record) => ctx.session.isAnonymous(record ?? ctx.session.record),
    signIn: reporting((authData: { token: string }) => signIn(ctx, authData)),
    signOut: reporting(() => signOut(ctx)),
    upgradeAnonymousUser: reporting((input: UpgradeInput) => upgradeAnonymousUser(ctx, input)),
    mergeAnonymousUser: reporting((into: AuthRecord) => mergeAnonymousUser(ctx, into)),
    failedAttempts: reporting((name: string, limits: AttemptLimits) => {
      const throttle = failedAttempts(ctx, name, limits)
      return { begin: reporting((key: string) => throttle.begin(key)) }
    }),
    requestUpgradeCode: reporting((input: RequestUpgradeCodeInput) => requestUpgradeCode(ctx, input)),
    upgradeWithCode: reporting((input: UpgradeWithCodeInput) => upgradeWithCode(ctx, input)),
  }
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
