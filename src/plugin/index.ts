/**
 * pocketpages-plugin-anonymous: the PocketPages adapter.
 *
 * A thin factory over the PocketBase-facing core (src/core). It uses only PocketPages' public
 * plugin interface (`onRequest`, `onExtendContextApi`, `request`, `response`, `api`), so it runs
 * unchanged in the real PocketPages. PocketPages calls the factory on every request, so it does
 * no more than resolve its options and build closures.
 *
 *   // pb_hooks/pages/+config.js
 *   module.exports = { plugins: ['pocketpages-plugin-ejs', { name: 'pocketpages-plugin-anonymous' }] }
 */
import { PLUGIN_NAME } from '../core/constants'
import { AnonymousAuthError, ErrorCodes, isAnonymousAuthError } from '../core/errors'
import { GuestAuth } from '../core/guest-auth'
import type { AnonymousPluginOptions, ResolvedOptions } from '../core/options'
import type { PagesRequest, PagesRequestContext, Plugin, PluginFactory } from '../pocketpages/types'
import { pocketBaseApp } from './app'
import { registerHooks as registerHooksFor, runCleanup } from './cleanup-job'
import { logConfigurationProblems } from './configuration-check'
import { contextApiFor } from './context-api'
import { guardSessionCookies } from './cookie-guard'
import { exchangeFor, isPocketBaseRoute, type PagesExchange } from './exchange'
import { resolveOptionsCached } from './options-cache'
import { readPluginOptionsFromPagesConfig } from './pages-config'

const anonymousPlugin: PluginFactory<AnonymousPluginOptions> = (_config, extra) => {
  const options = resolveOptionsCached(extra)

  // PocketPages builds the plugin list once per request, so this instance sees one request;
  // the identity check still guards against a host that reuses instances.
  let scope: {
    request: PagesRequest
    auth: GuestAuth
    exchange: PagesExchange
    api?: PagesRequestContext
    failure?: unknown
  } | null = null
  const scopeFor = (request: PagesRequest) => {
    if (!scope || scope.request !== request) {
      const exchange = exchangeFor(request)
      scope = { request, exchange, auth: createGuestAuth(request, exchange, options, () => scope) }
    }
    return scope
  }

  const plugin: Plugin = {
    name: PLUGIN_NAME,
    onRequest: ({ request, response }) => {
      if (isPocketBaseRoute(request.url.pathname)) return
      const current = scopeFor(request)
      guardSessionCookies(
        response,
        () => request.event.response.header(),
        () => current.exchange.issuedCookies,
      )
      try {
        current.auth.loadFromCookie()
      } catch (error) {
        // Reading a session must never turn a page view into an error: log it, stay signed out.
        $app.logger().error(`${PLUGIN_NAME}: could not read the session cookie`, 'error', describe(error))
      }
    },
    onExtendContextApi: ({ api }) => {
      const current = scopeFor(api.request)
      current.api = api
      Object.assign(
        api,
        contextApiFor(current.auth, (error) => {
          current.failure = error
        }),
      )
    },
    onResponse: ({ content, api }) => {
      // A page that caught our error and rendered it still answers with the error's status.
      const failure = scope && scope.request === api.request ? scope.failure : undefined
      if (!options.respondWithErrorStatus || !isAnonymousAuthError(failure)) return false
      const headers = api.request.event.response.header()
      if (headers.get('Location')) return false // the page redirected after all
      if (failure.retryAfterSeconds !== undefined) headers.set('Retry-After', String(failure.retryAfterSeconds))
      api.response.html(failure.status, content)
      return true
    },
  }
  return plugin
}

function createGuestAuth(
  request: PagesRequest,
  exchange: PagesExchange,
  options: ResolvedOptions,
  currentScope: () => { api?: PagesRequestContext } | null,
): GuestAuth {
  return new GuestAuth(
    {
      app: pocketBaseApp(),
      options,
      exchange,
      random: (length, alphabet) => $security.randomStringWithAlphabet(length, alphabet),
      sha256: (value) => $security.sha256(value),
      parseClaims: (token) => $security.parseUnverifiedJWT(token),
      // Upstream PocketPages keeps its config in $app.store(), so a function option such as
      // onMerge reaches us bound to the JS VM that ran bootstrap, which may be serving another
      // request right now (goja VMs are not thread-safe). Read the hook from +config.js in this
      // VM instead; fall back to the option when the config cannot be matched.
      mergeHook: () => mergeHookFromPagesConfig() ?? options.onMerge,
      now: () => Date.now(),
      onAuthChange: (record, token) => {
        request.auth = record
        request.authToken = token
        const api = currentScope()?.api
        if (api) api.auth = record
      },
    },
    { record: request.auth, token: request.authToken ?? bearerToken(request) },
  )
}

function mergeHookFromPagesConfig(): ResolvedOptions['onMerge'] {
  try {
    return readPluginOptionsFromPagesConfig(anonymousPlugin)?.onMerge ?? null
  } catch {
    return null
  }
}

function bearerToken(request: PagesRequest): string | undefined {
  const header = request.header('Authorization')
  if (!header) return undefined
  return header.replace(/^Bearer\s+/i, '') || undefined
}

function describe(error: unknown): string {
  if (isAnonymousAuthError(error)) return `${error.code}: ${error.message}`
  return error instanceof Error ? error.message : String(error)
}

/**
 * Registers the plugin's PocketBase hooks: the configuration check at start-up, the cleanup cron
 * job and its superuser route. Call at the top level of a pb_hooks/*.pb.js file.
 */
export function registerHooks(): void {
  registerHooksFor(anonymousPlugin)
}

/** Logs configuration problems found in +config.js's options (what start-up runs). */
export function checkConfiguration(): void {
  const options = readPluginOptionsFromPagesConfig(anonymousPlugin)
  if (options) logConfigurationProblems(options)
}

/** Runs the cleanup once with the options in +config.js (what the cron job calls). */
export function runCleanupJob() {
  return runCleanup(anonymousPlugin)
}

/** The handler of POST /api/pocketpages-anonymous/cleanup (superusers only). */
export function handleCleanupRequest(e: core.RequestEvent) {
  const report = runCleanup(anonymousPlugin)
  if (!report) return e.json(404, { message: `${PLUGIN_NAME} is not listed in pb_hooks/pages/+config.js` })
  return e.json(200, report)
}

export type { AnonymousPluginOptions }
export { AnonymousAuthError, ErrorCodes, isAnonymousAuthError }
export default anonymousPlugin
