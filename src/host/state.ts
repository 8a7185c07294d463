/**
 * What the host keeps between requests, and where.
 *
 * PocketBase runs handlers in a pool of VMs, each with its own module cache, and shares only
 * `$app.store()` between them. Values stored there are converted to Go values, and a function
 * stored there belongs to the VM that stored it (calling it from another VM is unsafe). So:
 * - the route table (plain data) is built once at bootstrap and stored as a JSON string;
 *   each VM parses it once;
 * - the config (which holds plugin factories) is never stored: each VM requires +config.js
 *   itself and keeps the result in module scope.
 * PocketPages stores the whole config, functions included, in the store.
 */
import type { PagesConfig, Plugin, PluginFactory } from '../pocketpages/types'
import { EJS_PLUGIN_NAME, loadConfig } from './config'
import { ejsPluginFactory } from './ejs-plugin'
import { globalApi } from './global-api'
import { setVerbose, systemDbg } from './log'
import { loadPlugins, requireFactory } from './plugins'
import type { HostRoute } from './router'

const ROUTES_STORE_KEY = '__pocketpages_routes'

let config: PagesConfig | undefined
let routes: HostRoute[] | undefined

export function pagesRoot(): string {
  return $filepath.join(__hooks, 'pages')
}

/** This VM's config, loaded on first use. */
export function getConfig(): PagesConfig {
  if (!config) {
    config = loadConfig(pagesRoot(), globalApi)
    setVerbose(config.debug === 'verbose')
  }
  return config
}

export function saveRoutes(table: HostRoute[]): void {
  $app.store().set(ROUTES_STORE_KEY, JSON.stringify(table))
  routes = table
}

/** The route table built at bootstrap, parsed once per VM. */
export function getRoutes(): HostRoute[] {
  if (!routes) {
    const json = $app.store().get(ROUTES_STORE_KEY)
    if (typeof json !== 'string') throw new Error('pocketpages: no route table; did the onBootstrap handler run?')
    routes = JSON.parse(json) as HostRoute[]
  }
  return routes
}

/** A plugin package by name; 'pocketpages-plugin-ejs' is the built-in renderer. */
export function loadFactory(name: string): PluginFactory {
  return name === EJS_PLUGIN_NAME ? ejsPluginFactory : requireFactory(name)
}

/** Runs every plugin factory (PocketPages does so on each request). */
export function instantiatePlugins(currentConfig: PagesConfig, currentRoutes: HostRoute[]): Plugin[] {
  return loadPlugins(
    { pagesRoot: pagesRoot(), config: currentConfig, globalApi, routes: currentRoutes, systemDbg },
    loadFactory,
  )
}
