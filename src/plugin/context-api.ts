/**
 * The functions the plugin adds to every page's context (`api`), so `<script server>` blocks can
 * call them as bare names. Each is one operation of src/core/operations, on this request's context.
 */

import type { AuthData, AuthSession } from '../core/auth-session'
import type { AttemptLimits } from '../core/failed-attempts'
import { type AttemptThrottle, failedAttempts } from '../core/operations/app-throttle'
import type { OperationContext } from '../core/operations/context'
import { mergeAnonymousUser } from '../core/operations/merge'
import { signIn } from '../core/operations/sign-in'
import { signInAnonymously } from '../core/operations/sign-in-anonymously'
import { signOut } from '../core/operations/sign-out'
import { type UpgradeInput, upgradeAnonymousUser } from '../core/operations/upgrade'
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
] as const satisfies readonly (keyof AnonymousContextApi)[]

/** What the page functions need from the adapter (its RequestSession implements it). */
export interface OperationRunner {
  readonly session: AuthSession
  /**
   * Runs `operation` on this request's operation context (built on the first call, so a page that
   * calls nothing pays nothing), remembering a thrown error: the adapter answers with its status
   * if the page catches it and renders anyway.
   */
  run<I, R>(operation: (ctx: OperationContext, input: I) => R, input: I): R
}

/** The page functions of one request: one small closure each, so a page can call them as bare names. */
export function contextApiFor(runner: OperationRunner): AnonymousContextApi {
  return {
    signInAnonymously: (options) => runner.run(signInAnonymously, options ?? {}),
    isAnonymous: (record) => runner.session.isAnonymous(record ?? runner.session.record),
    signIn: (authData) => runner.run(signIn, authData),
    signOut: () => runner.run(signOut, undefined),
    upgradeAnonymousUser: (input) => runner.run(upgradeAnonymousUser, input),
    mergeAnonymousUser: (into) => runner.run(mergeAnonymousUser, into),
    failedAttempts: (name, limits) => {
      const throttle = runner.run((ctx, _: undefined) => failedAttempts(ctx, name, limits), undefined)
      return { begin: (key) => runner.run((_ctx, _: undefined) => throttle.begin(key), undefined) }
    },
  }
}

/** Where defineContextFunctions keeps the request's functions on `api` (not enumerable). */
const FUNCTIONS = '__pocketpagesAnonymousFunctions'
const ignoreAssignment = () => {}
/**
 * One accessor per name for every request (they hold no request state: each reads the functions
 * of the `api` it is read on), instead of two closures per name per request.
 */
const ACCESSORS = CONTEXT_FUNCTIONS.map((name) => {
  const descriptor: PropertyDescriptor = {
    configurable: true,
    enumerable: true,
    get(this: { [FUNCTIONS]?: AnonymousContextApi }) {
      return this[FUNCTIONS]?.[name]
    },
    // Another plugin's assignment is ignored on purpose: the session has one owner.
    set: ignoreAssignment,
  }
  return [name, descriptor] as const
})

/**
 * Puts the functions on `api` so that they stay ours: another plugin (pocketpages-plugin-auth
 * defines `signIn`, `signOut` and `signInAnonymously` too) assigning the same name, before or
 * after us, does not replace them. Its own functions that call `api.signIn(...)` reach ours.
 */
export function defineContextFunctions(api: object, functions: AnonymousContextApi): void {
  Object.defineProperty(api, FUNCTIONS, { configurable: true, enumerable: false, writable: true, value: functions })
  for (const [name, descriptor] of ACCESSORS) Object.defineProperty(api, name, descriptor)
}
