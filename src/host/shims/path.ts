/**
 * The part of Node's `path` (POSIX flavour) that the bundled `ejs` package uses:
 * dirname, extname, basename, resolve, join. Pure JS, no goja globals.
 */

function normalizeParts(path: string): string {
  const absolute = path.startsWith('/')
  const out: string[] = []
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop()
      else if (!absolute) out.push('..')
    } else out.push(part)
  }
  const joined = out.join('/')
  return absolute ? `/${joined}` : joined || '.'
}

export function join(...parts: string[]): string {
  return normalizeParts(parts.filter((p) => p !== '').join('/'))
}

export function resolve(...parts: string[]): string {
  let path = ''
  for (let i = parts.length - 1; i >= 0 && !path.startsWith('/'); i--) {
    const part = parts[i]!
    if (part !== '') path = path ? `${part}/${path}` : part
  }
  // goja has no process.cwd(); the host only resolves absolute paths.
  return normalizeParts(path.startsWith('/') ? path : `/${path}`)
}

export function dirname(path: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path
  const slash = trimmed.lastIndexOf('/')
  if (slash === -1) return '.'
  if (slash === 0) return '/'
  return trimmed.slice(0, slash)
}

export function basename(path: string, ext?: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path
  const base = trimmed.slice(trimmed.lastIndexOf('/') + 1)
  return ext && base.endsWith(ext) && base !== ext ? base.slice(0, -ext.length) : base
}

export function extname(path: string): string {
  const base = basename(path)
  const dot = base.lastIndexOf('.')
  return dot > 0 ? base.slice(dot) : ''
}

export const sep = '/'

export default { join, resolve, dirname, basename, extname, sep }
