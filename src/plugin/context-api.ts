/**
 * The functions the plugin adds to every page's context (`api`), so `<script server>` blocks can
 * call them as bare names. Each is one operation of src/core/operations, on this request's context.
 *
 * Their types are the public ones (the package's declarations print them): records are
 * PocketBase's `core.Record`, which the core sees through its narrower AuthRecord port.
 */

import type { AuthSession } from '../core/auth-session'
import type { AttemptLimits } from '../core/failed-attempts'
import type { ExpiredGuest } from '../core/guest-trail'
import { type AttemptThrottle, failedAttempts } from '../core/operations/app-throttle'
import type { OperationContext } from '../core/operations/context'
import { ensureGuest } from '../core/operations/ensure-guest'
import { expiredGuest, guestExpiresAt } from '../core/operations/guest-expiry'
import { guestFormFields } from '../core/operations/guest-form-fields'
import { mergeAnonymousUser } from '../core/operations/merge'
import { requestUpgradeCode } from '../core/operations/request-upgrade-code'
import { signIn } from '../core/operations/sign-in'
import { signInAnonymously } from '../core/operations/sign-in-anonymously'
import { signOut } from '../core/operations/sign-out'
import { type UpgradeInput, upgradeAnonymousUser } from '../core/operations/upgrade'
import { upgradeWithCode } from '../core/operations/upgrade-with-code'
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

/** What the page functions need from the adapter (its RequestSession implements it). */
export interface OperationRunner {
  readonly session: AuthSession
  /** This request's operation context, built on the first call (a page that calls nothing pays nothing). */
  context(): OperationContext
  /**
   * Runs `operation` on the operation context, remembering a thrown error: the adapter answers
   * with its status if the page catches it and renders anyway.
   */
  run<I, R>(operation: (ctx: OperationContext, input: I) => R, input: I): R
}

/** The page functions of one request: one small closure each, so a page can call them as bare names. */
export function contextApiFor(runner: OperationRunner): AnonymousContextApi {
  return {
    signInAnonymously: (options) => published(runner.run(signInAnonymously, options ?? {})),
    isAnonymous: (record) => runner.session.isAnonymous((record as AuthRecord | undefined) ?? runner.session.record),
    signIn: (authData) => published(runner.run(signIn, authData)),
    signOut: () => runner.run(signOut, undefined),
    upgradeAnonymousUser: (input) => published(runner.run(upgradeAnonymousUser, input)),
    mergeAnonymousUser: (into) => published(runner.run(mergeAnonymousUser, into as unknown as AuthRecord)),
    failedAttempts: (name, limits) => {
      const throttle = runner.run((ctx, _: undefined) => failedAttempts(ctx, name, limits), undefined)
      return { begin: (key) => runner.run((_ctx, _: undefined) => throttle.begin(key), undefined) }
    },
    requestUpgradeCode: (input) => runner.run(requestUpgradeCode, input),
    upgradeWithCode: (input) => published(runner.run(upgradeWithCode, input)),
    ensureGuest: (options) => {
      const session = runner.run(ensureGuest, options ?? {})
      return session ? published(session) : null
    },
    guestFormFields: () => runner.run(guestFormFields, undefined),
    guestExpiresAt: (record) =>
      guestExpiresAt(runner.context(), (record as AuthRecord | undefined) ?? runner.session.record),
    expiredGuest: () => expiredGuest(runner.context()),
  }
}

/** The core's session for the page: its record is the `core.Record` the PocketBase backend gave it. */
function published(session: { token: string; record: AuthRecord }): AuthData {
  return session as unknown as AuthData
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
