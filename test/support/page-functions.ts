// The page functions of one request on fakes: each is the operation the adapter's context API
// (src/plugin/context-api.ts) calls, on this request's context. Also what the adapter observes
// about the response's caching, read from the headers the session wrote.
import type { AuthSession } from '../../src/core/auth-session.ts'
import type { AttemptLimits } from '../../src/core/failed-attempts.ts'
import { failedAttempts } from '../../src/core/operations/app-throttle.ts'
import type { OperationContext } from '../../src/core/operations/context.ts'
import { ensureGuest } from '../../src/core/operations/ensure-guest.ts'
import { expiredGuest, guestExpiresAt } from '../../src/core/operations/guest-expiry.ts'
import { guestFormFields } from '../../src/core/operations/guest-form-fields.ts'
import { mergeAnonymousUser } from '../../src/core/operations/merge.ts'
import { type RequestUpgradeCodeInput, requestUpgradeCode } from '../../src/core/operations/request-upgrade-code.ts'
import { signIn } from '../../src/core/operations/sign-in.ts'
import { signInAnonymously } from '../../src/core/operations/sign-in-anonymously.ts'
import { signOut } from '../../src/core/operations/sign-out.ts'
import { type UpgradeInput, upgradeAnonymousUser } from '../../src/core/operations/upgrade.ts'
import { type UpgradeWithCodeInput, upgradeWithCode } from '../../src/core/operations/upgrade-with-code.ts'
import type { AuthRecord } from '../../src/core/ports.ts'
import type { FakeExchange } from './fake-exchange.ts'

export class PageFunctions {
  constructor(
    readonly session: AuthSession,
    private readonly exchange: FakeExchange,
    readonly ctx: OperationContext,
  ) {}

  get currentRecord(): AuthRecord | undefined {
    return this.session.record
  }
  get currentToken(): string | undefined {
    return this.session.token
  }
  /** The response carries a session: it varies by Cookie. */
  get touchedSession(): boolean {
    return this.exchange.responseHeader('Vary').some((v) => /\bcookie\b/i.test(v))
  }
  /** The response sets or clears the cookie: nothing may store it. */
  get wroteCookie(): boolean {
    return this.exchange.responseHeader('Cache-Control').some((v) => /\bno-store\b/i.test(v))
  }

  loadFromCookie(): void {
    this.session.readCookie()
  }
  signInAnonymously(options: { collection?: string } = {}) {
    return signInAnonymously(this.ctx, options)
  }
  isAnonymous(record: AuthRecord | undefined = this.session.record): boolean {
    return this.session.isAnonymous(record)
  }
  signIn(authData: { token?: unknown } | null | undefined) {
    return signIn(this.ctx, authData)
  }
  signOut(): void {
    signOut(this.ctx)
  }
  upgradeAnonymousUser(input: UpgradeInput) {
    return upgradeAnonymousUser(this.ctx, input)
  }
  mergeAnonymousUser(into: AuthRecord) {
    return mergeAnonymousUser(this.ctx, into)
  }
  failedAttempts(name: string, limits: AttemptLimits) {
    return failedAttempts(this.ctx, name, limits)
  }
  requestUpgradeCode(input: RequestUpgradeCodeInput) {
    return requestUpgradeCode(this.ctx, input)
  }
  upgradeWithCode(input: UpgradeWithCodeInput) {
    return upgradeWithCode(this.ctx, input)
  }
  ensureGuest(options: { collection?: string } = {}) {
    return ensureGuest(this.ctx, options)
  }
  guestFormFields(): string {
    return guestFormFields(this.ctx)
  }
  guestExpiresAt(record: AuthRecord | undefined = this.session.record) {
    return guestExpiresAt(this.ctx, record)
  }
  expiredGuest() {
    return expiredGuest(this.ctx)
  }
}
