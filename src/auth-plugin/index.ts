/**
 * Stand-in for pocketpages-plugin-auth 0.2.2, the sign-in plugin real PocketPages apps use, which
 * the npm registry here does not have. Written from its public source (benallfree/pocketpages,
 * packages/plugins/auth/src/index.ts at d7586c9: 0.2.2 plus the unreleased cookie fix #108, which
 * clears bad cookies with `maxAge: 0`), so that this repo can test its plugin beside it. Bundled by
 * scripts/build.mjs to pb_hooks/lib/pocketpages-plugin-auth.js; `require('pocketpages-plugin-auth')`
 * resolves to it here.
 *
 * Same as upstream wherever a page or another plugin can see it:
 * - the factory adds createUser, createAnonymousUser, createPaswordlessUser (sic), requestVerification,
 *   confirmVerification and requestOTP to `globalApi`; the plugin is named 'auth';
 * - `onRequest` skips a request whose `request.auth` is set, reads `request.cookies('pb_auth')`,
 *   verifies its token with `$app.findAuthRecordByToken(token)` WITHOUT a token type (so file,
 *   verification and reset tokens are accepted too: an upstream flaw the anonymous plugin must
 *   override), enriches the record, sets `request.auth`/`request.authToken`; a cookie that is not
 *   an object or whose token fails is cleared with `response.cookie('pb_auth', '', { maxAge: 0 })`;
 * - `onExtendContextApi` assigns registerWithPassword, signInWithPassword, signInAnonymously,
 *   signInWithOTP, signOut and signIn onto `api`, each looking the others up on `api` when called
 *   (so another plugin's same-named function is what runs); every sign-in ends in
 *   `api.signIn(authData)`, which writes `api.response.cookie('pb_auth', { token, record })` with
 *   PocketPages' defaults only (Path=/: no HttpOnly, SameSite, Secure or expiry); signOut writes
 *   `pb_auth=''` with maxAge 0;
 * - signInAnonymously: email `anonymous-<10 digits from 1-9>@example.com`, password of 40 such digits,
 *   created like an API sign-up, then signed in with that password. As upstream, its `collection`
 *   option reaches the sign-in but not the creation (which always uses 'users');
 * - results are plain JSON, as the SDK returns them; failures throw with PocketBase's message.
 *
 * Differences:
 * - Upstream calls PocketBase's REST API over HTTP through pocketpages-plugin-js-sdk's `pb()`
 *   (default host http://localhost:8090, so it needs that plugin listed first and the right host).
 *   The stand-in does the same operations in-process (./pocketbase-api.ts): same checks, messages
 *   and statuses, but PocketBase's request-level hooks (onRecordCreateRequest,
 *   onRecordAuthWithPasswordRequest, onRecordAuthRequest, ...) and its built-in rate limiter do not
 *   run, the auth response's enrich hooks see the page's request, and the created record's JSON is
 *   not enriched. Thrown errors carry `status` and `response.{code,message,data}` like the SDK's
 *   ClientResponseError, but are plain Errors.
 * - Not reproduced: MFA (an MFA-enabled collection makes sign-in throw 401, as the SDK would, but
 *   no MFA record is made), login alert emails and auth origins, the OTP endpoint's 5-attempt
 *   limit and reuse of the last OTP after 10 requests, the verification email's 2-minute resend
 *   guard, and create rules other than null (refused, 403) or '' (public); mails are sent before
 *   the call returns (PocketBase sends them in the background; failures are only logged either way).
 * - OAuth2 (requestOAuth2Login, signInWithOAuth2) is left out: it needs real providers, and could
 *   be neither done faithfully nor tested here. Pages that call them find them undefined.
 * - Never logs tokens or passwords (upstream's debug lines print both).
 */
import type { PagesGlobalApi, PagesRequestContext, PluginFactory } from '../pocketpages/types'
import {
  type AuthData,
  authWithOTP,
  authWithPassword,
  confirmVerification,
  createRecordAsGuest,
  type PlainRecord,
  requestOTP,
  requestVerification,
} from './pocketbase-api'

export type { AuthData }
export type AuthOptions = { collection: string }
export type CreateUserOptions = { sendVerificationEmail: boolean } & AuthOptions

const COOKIE = 'pb_auth'
const DEFAULT_COLLECTION = 'users'

const collectionOf = (options?: Partial<AuthOptions>) => options?.collection ?? DEFAULT_COLLECTION

/** Upstream's `safeParseJson`: the parsed value, or the input when it is not JSON. */
function safeParseJson(value: unknown): unknown {
  if (!value) return value
  try {
    return JSON.parse(value as string)
  } catch {
    return value
  }
}

function toPlainObject(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? JSON.parse(JSON.stringify(value)) : value
}

/** The functions the factory adds to `globalApi` (upstream names, typo included). */
function extendGlobalApi(globalApi: PagesGlobalApi): void {
  const { dbg } = globalApi

  globalApi.createUser = (email: string, password: string, options?: Partial<CreateUserOptions>): PlainRecord => {
    if (!email.trim()) throw new Error('Email is required')
    if (!password.trim()) throw new Error('Password is required')
    const user = createRecordAsGuest(collectionOf(options), { email, password, passwordConfirm: password })
    dbg(`created user: ${user.id}`)
    if (options?.sendVerificationEmail === undefined || options.sendVerificationEmail) {
      globalApi.requestVerification(email, options)
    }
    return user
  }
  globalApi.createAnonymousUser = (options?: Partial<AuthOptions>) => {
    const email = `anonymous-${$security.randomStringWithAlphabet(10, '123456789')}@example.com`
    return { email, ...globalApi.createPaswordlessUser(email, { ...options, sendVerificationEmail: false }) }
  }
  globalApi.createPaswordlessUser = (email: string, options?: Partial<CreateUserOptions>) => {
    const password = $security.randomStringWithAlphabet(40, '123456789')
    return { password, user: globalApi.createUser(email, password, options) }
  }
  globalApi.requestVerification = (email: string, options?: Partial<AuthOptions>) =>
    requestVerification(collectionOf(options), email)
  globalApi.confirmVerification = (token: string, options?: Partial<AuthOptions>) =>
    confirmVerification(collectionOf(options), token)
  globalApi.requestOTP = (email: string, options?: Partial<AuthOptions>) => {
    try {
      globalApi.createPaswordlessUser(email, { sendVerificationEmail: false, ...options })
    } catch {
      // the user most likely exists already
    }
    return requestOTP(collectionOf(options), email)
  }
}

/** The page functions, each calling the others through `api`, as upstream does. */
function extendContextApi(api: PagesRequestContext): void {
  const { dbg } = api
  const event = () => api.request.event

  api.registerWithPassword = (email: string, password: string, options?: Partial<CreateUserOptions>): AuthData => {
    api.createUser(email, password, options)
    return api.signInWithPassword(email, password, options)
  }
  api.signInWithPassword = (email: string, password: string, options?: Partial<AuthOptions>): AuthData => {
    const authData = authWithPassword(event(), collectionOf(options), email, password)
    api.signIn(authData)
    return authData
  }
  api.signInAnonymously = (options?: Partial<AuthOptions>): AuthData => {
    // Upstream passes no options here: the guest is always created in 'users'.
    const { email, password } = api.createAnonymousUser()
    return api.signInWithPassword(email, password, options)
  }
  api.signInWithOTP = (otpId: string, password: string, options?: Partial<AuthOptions>): AuthData => {
    const authData = authWithOTP(event(), collectionOf(options), otpId, String(password))
    api.signIn(authData)
    return authData
  }
  api.signOut = () => {
    api.response.cookie(COOKIE, '', { maxAge: 0 })
  }
  api.signIn = (authData: { token: string; record?: unknown }) => {
    const { record, token } = authData
    if (!record) throw new Error('No auth record found')
    dbg(`signing in and saving to the ${COOKIE} cookie: ${(record as { id?: string }).id}`)
    api.response.cookie(COOKIE, { token, record: toPlainObject(record) })
  }
}

const authPluginFactory: PluginFactory = (config) => {
  const { globalApi } = config
  const { dbg } = globalApi
  extendGlobalApi(globalApi)

  return {
    name: 'auth',
    onRequest: ({ request, response }) => {
      if (request.auth) {
        dbg(`skipping cookie auth because auth record already set: ${request.auth.id}`)
        return
      }
      const rawCookie = request.cookies<string>(COOKIE)
      if (!rawCookie) return
      const cookieRecordAuth = safeParseJson(rawCookie) as { token?: string } | null
      if (typeof cookieRecordAuth !== 'object') {
        dbg('invalid auth cookie format')
        response.cookie(COOKIE, '', { maxAge: 0 })
        return
      }
      if (!cookieRecordAuth?.token) return
      try {
        // No token type: any token of the record verifies here (upstream behaviour, kept on purpose).
        const record = $app.findAuthRecordByToken(cookieRecordAuth.token)
        if (!record) {
          response.cookie(COOKIE, '', { maxAge: 0 })
          return
        }
        $apis.enrichRecord(request.event, record)
        request.auth = record
        request.authToken = cookieRecordAuth.token
      } catch (e) {
        dbg(`error fetching auth record: ${e}`)
        response.cookie(COOKIE, '', { maxAge: 0 })
      }
    },
    onExtendContextApi: ({ api }) => extendContextApi(api),
  }
}

export default authPluginFactory
