/**
 * The page context `api`: `globalApi` plus everything about this request. Built after the
 * plugins' `onRequest`, so `auth` is whatever they left in `request.auth`. Plugins extend it in
 * `onExtendContextApi`; the EJS plugin hands each key to the template as a local.
 */
import type { PagesRequest, PagesRequestContext, PagesResponse, RedirectOptions } from '../pocketpages/types'
import { assetUrl } from './asset'
import { globalApi } from './global-api'
import { makeResolve } from './resolve'
import type { HostRoute } from './router'
import { stringify } from './stringify'

export interface ContextInput {
  request: PagesRequest
  response: PagesResponse
  route: HostRoute
  routes: HostRoute[]
  params: Record<string, unknown>
  pagesRoot: string
}

/** `echo` formatting: objects JSON-encoded, everything else as text, joined by spaces. */
export function echoText(args: unknown[]): string {
  return args.map((arg) => (typeof arg === 'object' && arg !== null ? stringify(arg) : String(arg))).join(' ')
}

function makeMeta() {
  const meta: Record<string, string> = {}
  return (key: string, value?: string) => {
    if (value !== undefined) meta[key] = value
    return meta[key]
  }
}

export function makeContextApi({
  request,
  response,
  route,
  routes,
  params,
  pagesRoot,
}: ContextInput): PagesRequestContext {
  return {
    ...globalApi,
    params: params as PagesRequestContext['params'],
    auth: request.auth,
    request,
    response,
    formData: request.formData,
    body: request.body,
    /** Writes straight to the response (in a template, `echo` appends to the output instead). */
    echo: (...args: unknown[]) => {
      const text = echoText(args)
      response.write(text)
      return text
    },
    /**
     * Redirects; a `message` travels in the `__flash` query parameter, as in PocketPages
     * (which adds an empty `__flash=` even without a message; this host does not).
     */
    redirect: (path: string, options?: Partial<RedirectOptions>) => {
      const url = globalApi.url(path)
      if (options?.message) url.query.__flash = options.message
      response.redirect(options?.message ? url.toString() : path, options?.status ?? 302)
    },
    meta: makeMeta(),
    asset: (path: string) => assetUrl(path, route, routes),
    resolve: makeResolve(pagesRoot, $filepath.dir(route.absolutePath)) as PagesRequestContext['resolve'],
    slot: '',
    slots: {},
    data: {},
  }
}
