/**
 * pocketpages-plugin-anonymous: the PocketPages adapter.
 *
 * A thin factory over the PocketBase-facing core (src/core). It uses only PocketPages' public
 * plugin interface (`onRequest`, `onExtendContextApi`, `onResponse`, `request`, `response`, `api`),
 * so it runs unchanged inside the real PocketPages. PocketPages calls the factory on every request,
 * so it does no more than resolve its options (cached per VM) and build closures.
 *
 *   // pb_hooks/pages/+config.js
 *   module.exports = { plugins: ['pocketpages-plugin-ejs', { name: 'pocketpages-plugin-anonymous' }] }
 */
import { PLUGIN_NAME } from '../core/constants'
import { AnonymousAuthError, describeError, ErrorCodes, isAnonymousAuthError } from '../core/errors'
import type { ResolvedOptions } from '../core/options'
import type { AnonymousPluginOptions } from '../core/options-types'
import type { Plugin, PluginFactory } from '../pocketpages/types'
import { type AnonymousContextApi, CONTEXT_FUNCTIONS, defineContextFunctions } from './context-api'
import { guardSessionCookies, keepSessionCookieOff } from './cookie-guard'
import { isPocketBaseRoute } from './exchange'
import * as hooks from './hooks'
import * as oauth2Hooks from './oauth2-hooks'
import { requestOptions } from './plugin-options'
import { RequestSession } from './request-session'

/**
 * The PocketPages plugin factory (PocketPages calls it; apps name the plugin in `+config.js`):
 *
 *   plugins: ['pocketpages-plugin-ejs', { name: 'pocketpages-plugin-anonymous', collection: 'users' }]
 */
const anonymousPlugin: PluginFactory<AnonymousPluginOptions> = (_config, extra) => {
  let options: ResolvedOptions
  try {
    options = requestOptions(anonymousPlugin, extra)
  } catch (error) {
    return misconfiguredPlugin(error)
  }

  // PocketPages builds the plugin list once per request, so this instance sees one request;
  // the identity check still guards against a host that reuses instances.
  let session: RequestSession | null = null
  const sessionFor = (request: RequestSession['request']) => {
    if (!session || session.request !== request) {
      session = new RequestSession(request, options)
    }
    return session
  }

  return {
    name: PLUGIN_NAME,
    onRequest: ({ request, response }) => {
      if (isPocketBaseRoute(request.url.pathname)) {
        keepSessionCookieOff(response, request.event.response.header(), options.cookie.name)
        return
      }
      const current = sessionFor(request)
      guardSessionCookies(response, current)
      current.read()
    },
    onExtendContextApi: ({ api }) => {
      const current = sessionFor(api.request)
      current.takeOver(api)
      defineContextFunctions(api, current.functions)
    },
    onResponse: ({ content, api }) => {
      const current = session && session.request === api.request ? session : null
      if (!current) return false
      current.enforceCacheRule()
      // A page that caught our error and rendered it still answers with the error's status.
      const failure = current.failure
      if (!options.respondWithErrorStatus || !isAnonymousAuthError(failure)) return false
      const headers = api.request.event.response.header()
      if (headers.get('Location')) return false // the page redirected after all
      if (failure.retryAfterSeconds !== undefined) headers.set('Retry-After', String(failure.retryAfterSeconds))
      api.response.html(failure.status, content)
      return true
    },
  } satisfies Plugin
}

/**
 * The plugin when +config.js gives it bad options (logged once, and at start-up): a page that
 * renders answers 500 with a page naming the problem; a page that calls a plugin function gets the
 * error thrown, so PocketPages' own 500 (with the message only under its `debug`). Better loud than
 * a silent downgrade.
 */
let misconfigurationLogged = false

function misconfiguredPlugin(error: unknown): Plugin {
  const message = describeError(error)
  if (!misconfigurationLogged) $app.logger().error(`${PLUGIN_NAME}: ${message}`)
  misconfigurationLogged = true
  const fail = () => {
    throw isAnonymousAuthError(error) ? error : new AnonymousAuthError(ErrorCodes.INVALID_OPTIONS, message)
  }
  const functions = Object.fromEntries(CONTEXT_FUNCTIONS.map((name) => [name, fail])) as unknown as AnonymousContextApi
  return {
    name: PLUGIN_NAME,
    onExtendContextApi: ({ api }) => defineContextFunctions(api, functions),
    onResponse: ({ api }) => {
      const page = `<!doctype html><title>Configuration error</title><h1>Configuration error</h1><p>${escapeHtml(message)}</p>`
      api.response.html(500, page)
      return true
    },
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/**
 * Registers the plugin's PocketBase hooks: the configuration check at start-up, the cleanup cron
 * job and its superuser route. Call at the top level of a pb_hooks/*.pb.js file.
 */
export function registerHooks(): void {
  hooks.registerHooks(anonymousPlugin)
}

/**
 * Logs configuration problems found in +config.js's options (what start-up runs).
 * @internal the hooks registerHooks() adds call it through require()
 */
export function checkConfiguration(): void {
  hooks.checkConfiguration(anonymousPlugin)
}

/**
 * Runs the cleanup once with the options in +config.js (what the cron job calls).
 * @internal the hooks registerHooks() adds call it through require()
 */
export function runCleanupJob() {
  return hooks.runCleanup(anonymousPlugin)
}

/**
 * The handler of POST /api/pocketpages-anonymous/cleanup (superusers only).
 * @internal the hooks registerHooks() adds call it through require()
 */
export function handleCleanupRequest(e: core.RequestEvent) {
  return hooks.handleCleanupRequest(anonymousPlugin, e)
}

/**
 * The handler of GET /api/pocketpages-anonymous/stats (superusers only).
 * @internal the hooks registerHooks() adds call it through require()
 */
export function handleStatsRequest(e: core.RequestEvent) {
  return hooks.handleStatsRequest(anonymousPlugin, e)
}

/**
 * PocketBase's auth-with-oauth2 for a guest (see oauth2-hooks.ts).
 * @internal the hooks registerHooks() adds call it through require()
 */
export function handleOAuth2Request(e: core.RecordAuthWithOAuth2RequestEvent) {
  return oauth2Hooks.handleOAuth2Request(anonymousPlugin, e)
}

/**
 * An `_externalAuths` row being created (see oauth2-hooks.ts).
 * @internal the hooks registerHooks() adds call it through require()
 */
export function handleExternalAuthCreate(e: core.RecordEvent) {
  return oauth2Hooks.handleExternalAuthCreate(anonymousPlugin, e)
}

/**
 * The plugin's entry in the `plugins` list of `pb_hooks/pages/+config.js`: its name and options.
 * In a `// @ts-check` +config.js, give it to a variable with a JSDoc `@type` (see the README).
 */
export type AnonymousPluginEntry = { name: typeof PLUGIN_NAME } & AnonymousPluginOptions

// Types only: the package's declarations (scripts/build.mjs, rolldown-plugin-dts) are bundled from these exports.
export type { CleanupReport } from '../core/cleanup'
export type { AnonymousAuthErrorDetails, ErrorCode } from '../core/errors'
export type { Attempt, AttemptLimits } from '../core/failed-attempts'
export type { ExpiredGuest } from '../core/guest-trail'
export type { AttemptThrottle } from '../core/operations/app-throttle'
export type { UpgradeInput } from '../core/operations/upgrade'
export type {
  GuestCheck,
  GuestCheckContext,
  GuestDeleteCheck,
  GuestDeleteContext,
  MergeContext,
  MergeHook,
} from '../core/options-types'
export type { DayFigures, Figures, StatsReport, UpgradePath } from '../core/stats'
export type { AuthData } from './context-api'
export type { AnonymousContextApi, AnonymousPluginOptions }

export { AnonymousAuthError, ErrorCodes, isAnonymousAuthError }
export default anonymousPlugin
