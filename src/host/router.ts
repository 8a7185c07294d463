/**
 * File-system routing, as in PocketPages (pure string work on `/`-separated paths).
 *
 * Every file under the pages root is a route unless a path part starts with `+`, `_` or `-`
 * (`+config.js`, `+layout.ejs`, `_private/`). A file some plugin `handles` is a page, routed
 * without its extension (`index` answers for its folder); any other file is static, routed by its
 * full name. A route answers every URL that starts with its segments (`/login/x` renders
 * login.ejs, as upstream); the route with the most segments wins.
 */
import type { PagesRoute } from '../pocketpages/types'

export const isRoutable = (relativePath: string): boolean =>
  !relativePath.split('/').some((part) => /^[-+_]/.test(part))

/** The `+layout.*` files wrapping a page, nearest folder first; two in one folder is an error. */
export function findLayouts(relativePath: string, files: string[]): string[] {
  const layouts: string[] = []
  const dirs = relativePath.split('/').slice(0, -1)
  for (let depth = dirs.length; depth >= 0; depth--) {
    const prefix = [...dirs.slice(0, depth), '+layout.'].join('/')
    const here = files.filter((file) => file.startsWith(prefix) && !file.slice(prefix.length).includes('/'))
    if (here.length > 1) throw new Error(`Multiple layouts found for ${relativePath}`)
    layouts.push(...here)
  }
  return layouts
}

/** The route table; `handles(relativePath)` says whether a plugin renders the file. */
export function buildRoutes(root: string, files: string[], handles: (relativePath: string) => boolean): PagesRoute[] {
  const routes = files.filter(isRoutable).map((relativePath): PagesRoute => {
    const isStatic = !handles(relativePath)
    const parts = relativePath.split('/')
    if (!isStatic) parts.push(parts.pop()!.replace(/\.[^.]*$/, ''))
    return {
      relativePath,
      absolutePath: `${root}/${relativePath}`,
      segments: parts.map((nodeName) => ({ nodeName })),
      isStatic,
      layouts: isStatic ? [] : findLayouts(relativePath, files).map((layout) => `${root}/${layout}`),
    }
  })
  return routes.sort((a, b) => b.segments.length - a.segments.length)
}

/** `/a/b` tries the route `a/b`, then `a/b/index`; `/` is `index`. Null: not a page or file. */
export function resolveRoute(pathname: string, routes: PagesRoute[]): PagesRoute | null {
  const path = pathname.slice(1)
  for (const name of path && path !== 'index' ? [path, `${path}/index`] : ['index']) {
    const parts = name.split('/').filter((part) => part !== '')
    const route = routes.find((r) => r.segments.every((segment, i) => segment.nodeName === parts[i]))
    if (route) return route
  }
  return null
}
