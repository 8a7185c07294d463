/**
 * `asset(path)`: the URL of a static file under the pages root, fingerprinted with its content
 * hash (`/assets/app.css` -> `/assets/app.<sha256>.css`) so browsers can cache it for good.
 * An absolute path is a URL; a relative one is relative to the page's folder. A path that is
 * not a known static file comes back unchanged.
 *
 * Deliberate difference: PocketPages returns relative paths relative to a folder-name prefix;
 * this returns an absolute URL for them, which works from any page URL.
 */
import { fingerprinted, type HostRoute, resolveRoute } from './router'

function normalize(path: string): string {
  const out: string[] = []
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') out.pop()
    else out.push(part)
  }
  return out.join('/')
}

function staticUrl(route: HostRoute): string {
  const names = route.segments.map((segment) => segment.nodeName)
  const last = names.pop()!
  return `/${[...names, route.fingerprint ? fingerprinted(last, route.fingerprint) : last].join('/')}`
}

export function assetUrl(path: string, page: HostRoute, routes: HostRoute[]): string {
  if (path.startsWith('/')) {
    const found = resolveRoute(path, routes)
    if (!found?.route.isStatic || !found.route.fingerprint) return path
    const slash = path.lastIndexOf('/')
    return `${path.slice(0, slash + 1)}${fingerprinted(path.slice(slash + 1), found.route.fingerprint)}`
  }
  const pageDir = page.relativePath.split('/').slice(0, -1).join('/')
  const relativePath = normalize(`${pageDir}/${path}`)
  const route = routes.find((r) => r.isStatic && r.relativePath === relativePath)
  return route ? staticUrl(route) : path
}
