/**
 * PocketPages' two handlers: the `onBootstrap` step that builds the route table, and the
 * `routerUse` middleware that serves pages, as upstream's AfterBootstrapHandler and
 * MiddlewareHandler.
 *
 * PocketBase runs handlers in a pool of VMs that share only `$app.store()`: the route table (plain
 * data) is stored there as JSON and parsed once per VM; each VM loads +config.js itself.
 */
import type { PagesConfig, PagesRequestContext, PagesRoute, Plugin } from '../pocketpages/types'
import { EJS_PLUGIN_NAME, loadConfig, normalizePluginEntry } from './config'
import { ejsPluginFactory } from './ejs-plugin'
import { dirExists, listFiles } from './files'
import { globalApi } from './global-api'
import { errorPage, makeRequest, makeResponse } from './http'
import { buildRoutes, resolveRoute } from './router'

const ROUTES_KEY = '__pocketpages_routes'
const pagesRoot = () => $filepath.join(__hooks, 'pages')
let config: PagesConfig | undefined
let routes: PagesRoute[] | undefined

const getConfig = () => {
  config ??= loadConfig(pagesRoot(), globalApi)
  return config
}

/** Runs every plugin factory, in config order (upstream does it on every request). */
function loadPlugins(currentConfig: PagesConfig, currentRoutes: PagesRoute[]): Plugin[] {
  const load = (name: string) => {
    if (name === EJS_PLUGIN_NAME) return ejsPluginFactory
    const mod = require(name)
    return mod.default ?? mod
  }
  return currentConfig.plugins.map((entry) => {
    const { fn, options } = normalizePluginEntry(entry, load)
    let name = '?'
    const dbg = (...args: unknown[]) => {
      if (options.debug || currentConfig.debug === 'verbose') globalApi.dbg(`[${name}]`, ...args)
    }
    const plugin = fn({ pagesRoot: pagesRoot(), config: currentConfig, globalApi, routes: currentRoutes, dbg }, options)
    name = plugin.name
    return plugin
  })
}

export function AfterBootstrapHandler(): void {
  const root = pagesRoot()
  if (!dirExists(root)) throw new Error(`${root} must exist. Did you launch pocketbase with --dir or --hooksDir`)
  const plugins = loadPlugins(getConfig(), [])
  routes = buildRoutes(root, listFiles(root), (relativePath) => {
    const route = { relativePath, absolutePath: `${root}/${relativePath}`, segments: [], isStatic: false, layouts: [] }
    return plugins.some((plugin) => plugin.handles?.({ route, filePath: route.absolutePath }))
  })
  $app.store().set(ROUTES_KEY, JSON.stringify(routes))
  globalApi.info(`pocketpages: ${routes.length} routes, plugins: ${plugins.map((p) => p.name).join(', ')}`)
}

export function MiddlewareHandler(e: core.RequestEvent) {
  if (!e.request?.url) return e.next()
  const currentConfig = getConfig()
  routes ??= JSON.parse(String($app.store().get(ROUTES_KEY))) as PagesRoute[]
  const plugins = loadPlugins(currentConfig, routes)
  const request = makeRequest(e)
  const response = makeResponse(e)
  for (const plugin of plugins) plugin.onRequest?.({ request, response })

  const route = resolveRoute(request.url.pathname, routes)
  if (!route) return e.next()
  try {
    if (route.isStatic) return response.file(route.absolutePath)

    const api: PagesRequestContext = {
      ...globalApi,
      params: request.url.query,
      auth: request.auth,
      request,
      response,
      formData: request.formData,
      body: request.body,
      // Upstream also appends `?__flash=<message>` (flash messages); this host does not.
      redirect: (path, options) => response.redirect(path, options?.status ?? 302),
      slot: '',
    }
    for (const plugin of plugins) plugin.onExtendContextApi?.({ api, route })

    const render = (filePath: string, content: string) =>
      plugins.reduce(
        (out, plugin) => plugin.onRender?.({ content: out, api, route, filePath, plugins }) ?? out,
        content,
      )
    let content = render(route.absolutePath, '')
    // As upstream: a page that set another content type has answered; JSON output is sent as JSON.
    const contentType = response.header('Content-Type')
    if (contentType && contentType !== 'text/html') return
    try {
      return response.json(200, JSON.parse(content))
    } catch {
      // not JSON: wrap it in its layouts
    }
    for (const layout of route.layouts) {
      api.slot = content.trim()
      content = render(layout, content)
    }
    const defaultResponder: Plugin = {
      name: 'builtin',
      onResponse: () => {
        response.html(200, content)
        return true
      },
    }
    for (const plugin of [...plugins, defaultResponder]) {
      if (plugin.onResponse?.({ content, api, route })) return
    }
  } catch (err) {
    globalApi.error(`pocketpages: error serving ${request.method} ${request.url.pathname}:`, err)
    // As upstream: a thrown BadRequestError answers 400 (its text only in debug mode).
    if (err instanceof BadRequestError) return response.html(400, currentConfig.debug ? `${err}` : 'Bad Request')
    response.html(500, errorPage(err, Boolean(currentConfig.debug), __hooks))
  }
}
