/**
 * File-system routing, as in PocketPages.
 *
 * Every file under the pages root is a route unless one of its path parts starts with `+`, `_`
 * or `-` (`+config.js`, `+layout.ejs`, `_private/`). Folders named `(group)` organise files
 * without appearing in the URL. A file some plugin `handles` (`.ejs` for the EJS plugin) is a
 * page: its extension is dropped, `index` answers for its folder and `[name]` parts capture
 * `params.name`. Any other file is static and answers under its full name, or under its
 * fingerprinted name (`app.<sha256>.css`) that `asset()` produces.
 *
 * Deliberate difference from PocketPages 0.22: a route matches only a URL with the same number
 * of segments (PocketPages also serves `about.ejs` at `/about/anything`).
 *
 * Everything here is pure string work on `/`-separated paths relative to the pages root.
 */
import type { PagesRoute } from '../pocketpages/types'

export interface HostRoute extends PagesRoute {
  /** sha256 of a static file's content ('' for pages): lets `asset()` URLs bust caches. */
  fingerprint: string
}

export interface ResolvedRoute {
  route: HostRoute
  params: Record<string, string>
}

const NOT_ROUTABLE = /^[-+_]/
const PARAM = /^\[([^\]]+)\]$/
const LAYOUT = /^\+layout\.[^/]+$/

function parentDirs(relativePath: string): string[] {
  const parts = relativePath.split('/').slice(0, -1)
  const dirs: string[] = []
  for (let i = parts.length; i >= 0; i--) dirs.push(parts.slice(0, i).join('/'))
  return dirs
}

function stripExtension(name: string): string {
  const dot = name.lastIndexOf('.')
  return dot > 0 ? name.slice(0, dot) : name
}

/** Whether a file (path relative to the pages root) can be requested at all. */
export function isRoutable(relativePath: string): boolean {
  return !relativePath.split('/').some((part) => NOT_ROUTABLE.test(part))
}

/** Inserts a fingerprint before the extension: `app.css` -> `app.<fp>.css`. */
export function fingerprinted(name: string, fingerprint: string): string {
  const dot = name.lastIndexOf('.')
  return dot > 0 ? `${name.slice(0, dot)}.${fingerprint}${name.slice(dot)}` : `${name}.${fingerprint}`
}

/**
 * The `+layout.*` files that wrap a page, nearest folder first, up to the root.
 * Only layouts some plugin handles count; two in one folder is an error (as in PocketPages).
 */
export function findLayouts(
  relativePath: string,
  files: string[],
  handles: (relativePath: string) => boolean,
): string[] {
  const layouts: string[] = []
  for (const dir of parentDirs(relativePath)) {
    const here = files.filter((file) => {
      const slash = file.lastIndexOf('/')
      const fileDir = slash === -1 ? '' : file.slice(0, slash)
      return fileDir === dir && LAYOUT.test(file.slice(slash + 1)) && handles(file)
    })
    if (here.length > 1) throw new Error(`Multiple layouts found for ${relativePath}: ${here.join(', ')}`)
    if (here[0] !== undefined) layouts.push(here[0])
  }
  return layouts
}

function specificity(route: HostRoute): number[] {
  return route.segments.map((segment) => (segment.paramName ? 1 : 10))
}

/** Static segments beat params; compared left to right, then by total. */
function bySpecificity(a: HostRoute, b: HostRoute): number {
  const sa = specificity(a)
  const sb = specificity(b)
  const total = (s: number[]) => s.reduce((sum, n) => sum + n, 0)
  if (total(sa) !== total(sb)) return total(sb) - total(sa)
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    if (sa[i] !== sb[i]) return (sb[i] ?? 0) - (sa[i] ?? 0)
  }
  return 0
}

/**
 * Builds the route table from every file under the pages root (relative, `/`-separated).
 * `handles(relativePath)` says whether a plugin renders the file (else it is static).
 * The result is sorted so that `resolveRoute` can take the first match.
 */
export function buildRoutes(
  pagesRoot: string,
  files: string[],
  handles: (relativePath: string) => boolean,
): HostRoute[] {
  const routes: HostRoute[] = []
  for (const relativePath of files.filter(isRoutable)) {
    const isStatic = !handles(relativePath)
    const parts = relativePath.split('/').filter((part) => !part.startsWith('('))
    if (parts.length === 0) continue
    const segments = parts.map((part, i) => {
      const nodeName = !isStatic && i === parts.length - 1 ? stripExtension(part) : part
      const param = PARAM.exec(nodeName)
      return param ? { nodeName, paramName: param[1] } : { nodeName }
    })
    routes.push({
      relativePath,
      absolutePath: `${pagesRoot}/${relativePath}`,
      segments,
      isStatic,
      fingerprint: '',
      layouts: isStatic ? [] : findLayouts(relativePath, files, handles).map((layout) => `${pagesRoot}/${layout}`),
    })
  }
  return routes.sort(bySpecificity)
}

function decodeSegment(part: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    return part
  }
}

function matchRoute(route: HostRoute, parts: string[]): Record<string, string> | null {
  if (route.segments.length !== parts.length) return null
  const params: Record<string, string> = {}
  for (let i = 0; i < parts.length; i++) {
    const segment = route.segments[i]!
    const part = parts[i]!
    if (segment.paramName) {
      params[segment.paramName] = part
      continue
    }
    const isLast = i === parts.length - 1
    const viaFingerprint =
      isLast &&
      route.isStatic &&
      route.fingerprint !== '' &&
      fingerprinted(segment.nodeName, route.fingerprint) === part
    if (segment.nodeName !== part && !viaFingerprint) return null
  }
  return params
}

/**
 * Finds the route for a URL path: `/a/b` tries the file `a/b` then `a/b/index`; `/` tries
 * `index`. Returns null when nothing matches (the request then goes on to PocketBase).
 */
export function resolveRoute(pathname: string, routes: HostRoute[]): ResolvedRoute | null {
  const path = pathname.replace(/^\/+/, '')
  const candidates = path === '' || path === 'index' ? ['index'] : [path, `${path}/index`]
  for (const candidate of candidates) {
    const parts = candidate
      .split('/')
      .filter((part) => part !== '')
      .map(decodeSegment)
    for (const route of routes) {
      const params = matchRoute(route, parts)
      if (params) return { route, params }
    }
  }
  return null
}
