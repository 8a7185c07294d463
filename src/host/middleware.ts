/**
 * The `routerUse` middleware: serves pages, as PocketPages' MiddlewareHandler does.
 *
 * For every request it sees: run the plugin factories, call each plugin's `onRequest` (even for
 * /api/ requests: plugins filter for themselves), then look for a route. No route: hand the
 * request on to PocketBase. A static file: serve it. A page: build the context, let plugins
 * extend it, render. An error while serving a route is logged and answered with a 500 page
 * (details only in debug mode); errors before routing (a plugin's onRequest) propagate to
 * PocketBase, as in PocketPages.
 */
import { makeContextApi } from './context'
import { errorPage } from './html'
import { error } from './log'
import { renderPage } from './render'
import { makeRequest } from './request'
import { makeResponse } from './response'
import { resolveRoute } from './router'
import { getConfig, getRoutes, instantiatePlugins, pagesRoot } from './state'

export function MiddlewareHandler(e: core.RequestEvent): void {
  if (!e.request?.url) {
    e.next()
    return
  }

  const config = getConfig()
  const routes = getRoutes()
  const plugins = instantiatePlugins(config, routes)
  const request = makeRequest(e)
  const response = makeResponse(e)

  for (const plugin of plugins) plugin.onRequest?.({ request, response })

  const resolved = resolveRoute(request.url.pathname, routes)
  if (!resolved) {
    e.next()
    return
  }
  if (e.written()) return // a plugin already answered in onRequest

  const { route } = resolved
  try {
    if (route.isStatic) {
      response.file(route.absolutePath)
      return
    }

    // Query values first, route params over them (PocketPages merges them the same way).
    const params = { ...request.url.query, ...resolved.params }
    const api = makeContextApi({ request, response, route, routes, params, pagesRoot: pagesRoot() })
    for (const plugin of plugins) plugin.onExtendContextApi?.({ api, route })

    renderPage(e, plugins, api, route)
  } catch (err) {
    error(`pocketpages: error serving ${request.method} /${route.relativePath}:`, err)
    if (!e.written()) response.html(500, errorPage(err, Boolean(config.debug), __hooks))
  }
}
