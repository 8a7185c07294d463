/**
 * The part of Node's `path` the bundled `ejs` uses once the EJS plugin has replaced its
 * include resolver: basename and extname, to name compiled templates.
 */
export const basename = (path: string, ext = ''): string => {
  const base = path.slice(path.lastIndexOf('/') + 1)
  return ext && base !== ext && base.endsWith(ext) ? base.slice(0, -ext.length) : base
}

export const extname = (path: string): string => /[^/.](\.[^./]*)$/.exec(path)?.[1] ?? ''

export default { basename, extname }
