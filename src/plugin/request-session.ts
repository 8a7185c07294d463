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
 *
 * Cost (issue 19): this runs on every page view, so each part is built when first needed: a
 * request without our cookie builds no session, and the operation context (backend, keys, hooks)
 * exists only once a page calls an operation.
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
import { type AnonymousContextApi, contextApiFor, type OperationRunner } from './context-api'
import { type CookieGuard, dropSessionClearings, isCookieDeletion, type ResponseHeaders } from './cookie-guard'
import { PagesExchange } from './exchange'

const now = () => Date.now()
const NONE_ISSUED: readonly string[] = []

export class RequestSession implements CookieGuard, OperationRunner {
  readonly cookieName: string
  /** Set once the page context exists: from then on, session cookie writes are ours to handle. */
  api: PagesRequestContext | undefined
  /** The last plugin error thrown to the page, to answer with its status. */
  failure: unknown
  private readonly byHeader: boolean
  private exchangeValue: PagesExchange | undefined
  private sessionValue: AuthSession | undefined
  private trailValue: GuestTrail | undefined
  private contextValue: OperationContext | undefined
  private functionsValue: AnonymousContextApi | undefined
  private cookieSentValue: boolean | undefined

  constructor(
    readonly request: PagesRequest,
    private readonly options: ResolvedOptions,
  ) {
    this.cookieName = options.cookie.name
    this.byHeader = !!request.event.auth
  }

  get exchange(): PagesExchange {
    this.exchangeValue ??= new PagesExchange(this.request)
    return this.exchangeValue
  }

  /** Whether some Cookie line of the request names the session cookie (a cheap test; parsing decides). */
  private get cookieSent(): boolean {
    this.cookieSentValue ??= mentions(this.exchange.cookieLines(), this.cookieName)
    return this.cookieSentValue
  }

  /** The session, with its guest trail (the trace cookie that follows a guest's session cookie). */
  get session(): AuthSession {
    if (!this.sessionValue) {
      const backend = pocketBaseBackend($app as unknown as core.App)
      const exchange = this.exchange
      const trail = new GuestTrail({
        backend,
        options: this.options,
        exchange,
        crypto: pocketBaseCrypto,
        parseClaims: parseUnverifiedClaims,
        now,
      })
      this.sessionValue = new AuthSession(
        {
          backend,
          options: this.options,
          exchange,
          parseClaims: parseUnverifiedClaims,
          now,
          onAuthChange: () => this.apply(),
          listener: trail,
        },
        this.byHeader
          ? { record: this.request.event.auth as unknown as AuthRecord, token: bearerToken(this.request) }
          : {},
      )
      trail.attach(this.sessionValue)
      this.trailValue = trail
    }
    return this.sessionValue
  }

  /** The page functions (read by every page: the EJS plugin copies every key of `api`). */
  get functions(): AnonymousContextApi {
    this.functionsValue ??= contextApiFor(this)
    return this.functionsValue
  }

  run<I, R>(operation: (ctx: OperationContext, input: I) => R, input: I): R {
    try {
      return operation(this.context(), input)
    } catch (error) {
      this.failure = error
      throw error
    }
  }

  /** onRequest: reads the cookie unless an Authorization header authenticated the request. */
  read(): void {
    // Built here, in onRequest, whatever happens next: it guards the page's body() (exchange.ts).
    const exchange = this.exchange
    // An earlier plugin's clearing of a cookie the request did not carry (see dropSessionClearings).
    if (!this.cookieSent) dropSessionClearings(exchange.responseHeaders(), this.cookieName)
    if (this.byHeader) return
    // No Cookie line names our cookie: signed out, and nothing to clear; no session is built.
    if (this.cookieSent) {
      try {
        // pocketpages-plugin-auth, listed first, resolved the cookie already: verify its record.
        this.session.readCookie({ record: this.request.auth as unknown as AuthRecord, token: this.request.authToken })
      } catch (error) {
        // Reading a session must never turn a page view into an error: log it, stay signed out.
        $app.logger().error(`${PLUGIN_NAME}: could not read the session cookie`, 'error', describeError(error))
      }
    }
    this.apply()
  }

  /** onExtendContextApi: our decision over anything another plugin's onRequest did. */
  takeOver(api: PagesRequestContext): void {
    this.api = api
    if (!this.byHeader) this.apply()
  }

  /** onResponse: the cache rule again, once the page has run (only if a session was read or written). */
  enforceCacheRule(): void {
    this.sessionValue?.enforceCacheRule()
  }

  responseHeaders(): ResponseHeaders {
    return this.exchange.responseHeaders()
  }

  issuedCookies(): readonly string[] {
    return this.exchangeValue?.issuedCookies ?? NONE_ISSUED
  }

  /** A write of the session cookie by page code or another plugin; false lets it through. */
  routeSessionWrite(value: unknown, options: CookieSerializeOptions | undefined): boolean {
    // Before the page: other plugins' writes go out as written, except a clearing of a cookie the
    // request did not carry, which is dropped (see dropSessionClearings).
    if (!this.api) return isCookieDeletion(value, options) && !this.cookieSent
    if (isCookieDeletion(value, options)) this.functions.signOut()
    else this.functions.signIn({ token: tokenFromCookieValue(value) ?? '' })
    return true
  }

  context(): OperationContext {
    if (!this.contextValue) {
      const options = this.options
      const session = this.session // builds the trail too
      this.contextValue = {
        session,
        backend: pocketBaseBackend($app as unknown as core.App),
        options,
        crypto: pocketBaseCrypto,
        keys: pocketBaseKeys(),
        hooks: { onMerge: () => options.onMerge, beforeGuestSignIn: () => options.beforeGuestSignIn },
        hookRequest: this.request,
        now,
        trail: this.trailValue!,
      }
    }
    return this.contextValue
  }

  private apply(): void {
    const session = this.sessionValue
    const record = session?.record as unknown as core.Record | undefined
    this.request.auth = record
    this.request.authToken = session?.token
    if (this.api) this.api.auth = record
  }
}

/** True when some Cookie line contains `name` (a cheap test before parsing; parsing decides). */
function mentions(lines: readonly string[], name: string): boolean {
  for (const line of lines) if (line.includes(name)) return true
  return false
}

function bearerToken(request: PagesRequest): string | undefined {
  const header = request.header('Authorization')
  if (!header) return undefined
  return header.replace(/^Bearer\s+/i, '') || undefined
}
