/**
 * The `onBootstrap` step, as PocketPages' AfterBootstrapHandler: load the config, instantiate
 * the plugins once to learn which files they render, build the route table from the files
 * under pb_hooks/pages, fingerprint static files, and share the table with every VM.
 * A missing pages folder or a bad config stops startup with a clear error.
 */
import type { PagesRoute, Plugin } from '../pocketpages/types'
import { dirExists, listFiles, readText } from './files'
import { info } from './log'
import { buildRoutes } from './router'
import { getConfig, instantiatePlugins, pagesRoot, saveRoutes } from './state'

function handledBy(plugins: Plugin[], root: string) {
  return (relativePath: string): boolean => {
    const absolutePath = $filepath.join(root, relativePath)
    const route: PagesRoute = { relativePath, absolutePath, segments: [], isStatic: false, layouts: [] }
    return plugins.some((plugin) => plugin.handles?.({ route, filePath: absolutePath }) ?? false)
  }
}

export function AfterBootstrapHandler(_e?: core.BootstrapEvent): void {
  const root = pagesRoot()
  if (!dirExists(root)) {
    throw new Error(`${root} must exist: pages live in <hooksDir>/pages (check --hooksDir)`)
  }
  const config = getConfig()
  const plugins = instantiatePlugins(config, [])
  const routes = buildRoutes(root, listFiles(root), handledBy(plugins, root))
  for (const route of routes) {
    if (route.isStatic) route.fingerprint = $security.sha256(readText(route.absolutePath))
  }
  saveRoutes(routes)
  info(`pocketpages: ${routes.length} routes from ${root}, plugins: ${plugins.map((p) => p.name).join(', ')}`)
}
