/**
 * One request, as the adapter keeps it between PocketPages' hooks: the core's session and
 * operation context, and the page functions bound to them.
 *
 * Policy: the plugin is the one reader of the session cookie, whatever the order of plugins in
 * +config.js. It reads in `onRequest` (so later plugins see the result) and, in
 * `onExtendContextApi`, which runs after every plugin's `onRequest`, puts its decision back if
 * another plugin changed `request.auth` meanwhile (pocketpages-plugin-auth reads the cookie its own,
 * laxer way when listed after us). An `Authorization` header, which PocketBase itself verifies into
 * `e.auth`, always wins over the cookie.
 */
import { tokenFromCookieValue } from '../core/auth-cookie'
import { AuthSession } from '../core/auth-session'
import { PLUGIN_NAME } from '../core/constants'
import { describeError } from '../core/errors'
import { GuestTrail } from '../core/guest-trail'
import type { OperationContext } from '../core/operations/context'
import type { ResolvedOptions } from '../core/options'
import { pocketBaseBackend } from '../core/pocketbase/backend'
import { parseUnverifiedClaims, pocketBaseCrypto, pocketBaseKeys } from '../core/pocketbase/runtime'
import type { AuthRecord } from '../core/ports'
import type { CookieSerializeOptions, PagesRequest, PagesRequestContext } from '../pocketpages/types'
import { type AnonymousContextApi, contextApiFor } from './context-api'
import { isCookieDeletion } from './cookie-guard'
import { exchangeFor, type PagesExchange } from './exchange'

export class RequestSession {
  readonly exchange: PagesExchange
  readonly session: AuthSession
  readonly functions: AnonymousContextApi
  /** Set once the page context exists: from then on, session cookie writes are ours to handle. */
  api: PagesRequestContext | undefined
  /** The last plugin error thrown to the page, to answer with its status. */
  failure: unknown
  private readonly byHeader: boolean

  constructor(
    readonly request: PagesRequest,
    options: ResolvedOptions,
  ) {
    this.exchange = exchangeFor(request)
    this.byHeader = !!request.event.auth
    const backend = pocketBaseBackend($app as unknown as core.App)
    const now = () => Date.now()
    const trail = new GuestTrail({
      backend,
      options,
      exchange: this.exchange,
      crypto: pocketBaseCrypto,
      parseClaims: parseUnverifiedClaims,
      now,
    })
    this.session = new AuthSession(
      {
        backend,
        options,
        exchange: this.exchange,
        parseClaims: parseUnverifiedClaims,
        now,
        onAuthChange: () => this.apply(),
        listener: trail,
      },
      this.byHeader ? { record: request.event.auth as unknown as AuthRecord, token: bearerToken(request) } : {},
    )
    trail.attach(this.session)
    const ctx: OperationContext = {
      session: this.session,
      backend,
      options,
      crypto: pocketBaseCrypto,
      keys: pocketBaseKeys(),
      hooks: { onMerge: () => options.onMerge, beforeGuestSignIn: () => options.beforeGuestSignIn },
      hookRequest: request,
      now,
      trail,
    }
    this.functions = contextApiFor(ctx, (error) => {
      this.failure = error
    })
  }

  /** onRequest: reads the cookie unless an Authorization header authenticated the request. */
  read(): void {
    if (this.byHeader) return
    try {
      this.session.readCookie()
    } catch (error) {
      // Reading a session must never turn a page view into an error: log it, stay signed out.
      $app.logger().error(`${PLUGIN_NAME}: could not read the session cookie`, 'error', describeError(error))
    }
    this.apply()
  }

  /** onExtendContextApi: our decision over anything another plugin's onRequest did. */
  takeOver(api: PagesRequestContext): void {
    this.api = api
    if (!this.byHeader) this.apply()
  }

  /** A write of the session cookie by page code or another plugin; false lets it through. */
  routeCookieWrite(value: unknown, options: CookieSerializeOptions | undefined): boolean {
    if (!this.api) return false
    if (isCookieDeletion(value, options)) this.functions.signOut()
    else this.functions.signIn({ token: tokenFromCookieValue(value) ?? '' })
    return true
  }

  private apply(): void {
    const record = this.session.record as unknown as core.Record | undefined
    this.request.auth = record
    this.request.authToken = this.session.token
    if (this.api) this.api.auth = record
  }
}

function bearerToken(request: PagesRequest): string | undefined {
  const header = request.header('Authorization')
  if (!header) return undefined
  return header.replace(/^Bearer\s+/i, '') || undefined
}
