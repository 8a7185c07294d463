/**
 * The built-in `pocketpages-plugin-ejs`, on the real `ejs` package. As upstream: it handles its
 * extensions (option `extensions`, default ['.ejs']); `<script server>` blocks become `<% %>`;
 * a template gets every key of `api` as a local, plus `api` itself (locals are a snapshot,
 * `api.*` is live); `include('name')` searches `_private/name` (then with each extension) from the
 * template's folder up to the pages root, `include('/name')` is `<pagesRoot>/name`.
 * Differences: compiled templates are cached per VM (recompiled when a file's text changes), and
 * included partials are plain EJS (upstream's fork also runs other plugins' onRender over them).
 */
import ejs = require('ejs')

import type { PluginFactory } from '../pocketpages/types'
import { fileExists, readText } from './files'
import { stringify } from './global-api'
import { rewriteScriptServer } from './script-server'

const texts = new Map<string, string>()
const templates = new Map<string, { text: string; fn: (data: object) => string }>()
ejs.fileLoader = (path) => {
  const text = readText(path)
  texts.set(path, text)
  return rewriteScriptServer(text)
}
ejs.cache = {
  get: (path) => {
    const cached = templates.get(path)
    return cached && cached.text === readText(path) ? cached.fn : undefined
  },
  set: (path, fn) => templates.set(path, { text: texts.get(path) ?? '', fn }),
  reset: () => templates.clear(),
}

export const ejsPluginFactory: PluginFactory = ({ pagesRoot }, extra) => {
  const options = { extensions: ['.ejs'], ...extra }
  for (const key of Object.keys(options)) {
    if (!['name', 'extensions', 'debug'].includes(key)) throw new Error(`Invalid config key: ${key}`)
  }
  const handles = (filePath: string) => options.extensions.includes($filepath.ext(filePath))

  ejs.resolveInclude = (name, parent, isDir) => {
    if (isDir) return $filepath.join(pagesRoot, name)
    const tried: string[] = []
    for (let dir = $filepath.dir(parent); dir.startsWith(pagesRoot); dir = $filepath.dir(dir)) {
      const base = $filepath.join(dir, '_private', name)
      if (!base.startsWith(pagesRoot)) break
      const found = [base, ...options.extensions.map((ext: string) => base + ext)].find(fileExists)
      if (found) return found
      tried.push(base)
      if (dir === pagesRoot) break
    }
    throw new Error(`No partial '${name}' found in any _private directory. Tried: ${tried.join(', ')}`)
  }

  return {
    name: 'ejs',
    handles: ({ filePath }) => handles(filePath),
    onRender: ({ content, api, filePath }) => {
      if (!handles(filePath)) return content
      let output: unknown = ''
      // With a callback, renderFile runs synchronously and hands over errors.
      ejs.renderFile(filePath, { ...api, api }, { cache: true, root: pagesRoot, compileDebug: true }, (err, html) => {
        if (err) throw err
        output = html
      })
      return typeof output === 'string' ? output : output == null ? '' : stringify(output)
    },
  }
}
