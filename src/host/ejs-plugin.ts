/**
 * The built-in EJS renderer (the host's stand-in for `pocketpages-plugin-ejs`), on the real
 * `ejs` package. As in PocketPages:
 * - it handles files with its extensions (['.ejs'] by default; options: extensions, debug);
 * - `<script server>` blocks are server code (see ejs-source.ts);
 * - templates render with every key of `api` as a local, plus `api` itself. The locals are a
 *   copy: assigning `auth = x` in a page changes nothing outside, while `api.auth` and
 *   `request.auth` are the live objects;
 * - `include('name')` looks for `_private/name(.ejs)` from the template's folder up to the pages
 *   root; `include('/name')` starts at the pages root.
 *
 * Compiled templates are cached per VM and recompiled when a file's mtime or size changes.
 * Difference: PocketPages' EJS fork also runs other plugins' onRender over included partials;
 * stock `ejs` has no hook for that, so partials are plain EJS here.
 */
import ejs = require('ejs')

import type { Plugin, PluginFactory } from '../pocketpages/types'
import { ECHO_PRELUDE, prepareTemplate } from './ejs-source'
import { fileExists, fileStamp, readText } from './files'
import { stringify } from './stringify'

const VALID_OPTION_KEYS = ['name', 'extensions', 'debug']

type Template = (data: Record<string, unknown>) => string
const compiled = new Map<string, { stamp: string; fn: Template }>()

let ejsConfigured = false

/** Points this VM's ejs at PocketBase's file API and at a cache that notices edits. */
function configureEjs(): void {
  if (ejsConfigured) return
  ejsConfigured = true
  ejs.fileLoader = (path) => prepareTemplate(readText(path))
  ejs.cache = {
    get: (path) => {
      const entry = compiled.get(path)
      return entry && entry.stamp === fileStamp(path) ? entry.fn : undefined
    },
    set: (path, fn) => {
      compiled.set(path, { stamp: fileStamp(path), fn })
    },
    remove: (path) => {
      compiled.delete(path)
    },
    reset: () => compiled.clear(),
  }
}

function withExtension(base: string, extensions: string[]): string | null {
  if (fileExists(base)) return base
  for (const ext of extensions) {
    if (fileExists(base + ext)) return base + ext
  }
  return null
}

/**
 * Resolved include paths, per VM: a page's includes are resolved on every render, and a search
 * up the _private folders costs several file checks. A remembered path is re-checked once (so a
 * deleted partial is searched for again).
 */
const resolvedIncludes = new Map<string, string>()

function makeIncludeResolver(pagesRoot: string, extensions: string[]) {
  const resolve = searchInclude(pagesRoot, extensions)
  return (name: string, parentFile: string, isDir?: boolean): string => {
    const key = `${isDir ? 'root' : parentFile}\0${name}`
    const known = resolvedIncludes.get(key)
    if (known && fileExists(known)) return known
    const found = resolve(name, parentFile, isDir)
    resolvedIncludes.set(key, found)
    return found
  }
}

function searchInclude(pagesRoot: string, extensions: string[]) {
  return (name: string, parentFile: string, isDir?: boolean): string => {
    if (isDir) {
      const base = $filepath.join(pagesRoot, name)
      return withExtension(base, extensions) ?? base
    }
    const tried: string[] = []
    for (let dir = $filepath.dir(parentFile); dir.length >= pagesRoot.length; dir = $filepath.dir(dir)) {
      const base = $filepath.join(dir, '_private', name)
      const found = withExtension(base, extensions)
      if (found) return found
      tried.push(base)
      if (dir === pagesRoot) break
    }
    throw new Error(`No partial '${name}' found in any _private directory. Tried: ${tried.join(', ')}`)
  }
}

/** EJS error messages quote the template around the failing line: hide the host's prelude. */
function withoutPrelude(err: unknown): unknown {
  if (err instanceof Error && err.message.includes(ECHO_PRELUDE)) {
    err.message = err.message.split(ECHO_PRELUDE).join('')
  }
  return err
}

function render(filePath: string, locals: Record<string, unknown>, pagesRoot: string): string {
  let output: unknown = ''
  let failure: unknown
  let failed = false
  // With a callback, renderFile is synchronous (goja has no event loop).
  ejs.renderFile(filePath, locals, { cache: true, root: pagesRoot, compileDebug: true, async: false }, (err, html) => {
    if (err) {
      failed = true
      failure = err
    } else output = html
  })
  if (failed) throw withoutPrelude(failure)
  if (typeof output === 'string') return output
  return output === undefined || output === null ? '' : stringify(output)
}

export const ejsPluginFactory: PluginFactory = (config, extra) => {
  for (const key of Object.keys(extra)) {
    if (!VALID_OPTION_KEYS.includes(key)) throw new Error(`Invalid EJS plugin option: ${key}`)
  }
  const extensions: string[] = extra.extensions ?? ['.ejs']
  const { pagesRoot } = config
  configureEjs()
  ejs.resolveInclude = makeIncludeResolver(pagesRoot, extensions)
  const handles = (filePath: string) => extensions.includes($filepath.ext(filePath))

  const plugin: Plugin = {
    name: 'ejs',
    handles: ({ filePath }) => handles(filePath),
    onRender: ({ content, api, filePath }) => {
      if (!handles(filePath)) return content
      return render(filePath, { ...api, api }, pagesRoot)
    },
  }
  return plugin
}
