/**
 * `resolve(path, { mode })`: loads a module from the nearest `_private/` folder, searching from
 * the page's folder up to the pages root (a leading `/` means the root's `_private/`), as in
 * PocketPages. Modes: 'require' (default: `require()` it), 'raw' (its text), 'script' (text in a
 * <script> tag), 'style' (text in a <style> tag). Goja only.
 */
import { fileExists, readText } from './files'

type ResolveMode = 'require' | 'raw' | 'script' | 'style'
const EXTENSIONS = ['', '.js', '.json']
const SAFE_MODULE_HEADER = "if (typeof module === 'undefined') { module = { exports: {} } };"

function findModule(base: string): string | null {
  for (const ext of EXTENSIONS) {
    if (fileExists(base + ext)) return base + ext
  }
  return null
}

function candidates(pagesRoot: string, fromDir: string, path: string): string[] {
  if (path.startsWith('/')) return [$filepath.join(pagesRoot, '_private', path)]
  const dirs: string[] = []
  for (let dir = fromDir; dir.length >= pagesRoot.length; dir = $filepath.dir(dir)) {
    dirs.push($filepath.join(dir, '_private', path))
    if (dir === pagesRoot) break
  }
  return dirs
}

function load(file: string, mode: ResolveMode): unknown {
  switch (mode) {
    case 'raw':
      return readText(file)
    case 'script':
      return `<script>\n${SAFE_MODULE_HEADER}\n${readText(file)}\n</script>`
    case 'style':
      return `<style>\n${readText(file)}\n</style>`
    default:
      return require(file)
  }
}

export function makeResolve(pagesRoot: string, fromDir: string) {
  return (path: string, options?: { mode?: ResolveMode }): any => {
    const tried = candidates(pagesRoot, fromDir, path)
    for (const base of tried) {
      const file = findModule(base)
      if (file) return load(file, options?.mode ?? 'require')
    }
    throw new Error(`No module '${path}' found in _private directories from ${fromDir} up to ${pagesRoot}`)
  }
}
