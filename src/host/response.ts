/**
 * `response`: writes through PocketBase's request event, as in PocketPages.
 *
 * Deliberate difference: `cookie()` *appends* a Set-Cookie header. PocketPages sets (replaces)
 * it, so a second cookie in the same response silently drops the first.
 */
import type { CookieSerializeOptions, PagesResponse } from '../pocketpages/types'
import { serializeCookie } from './cookies'
import { stringify } from './stringify'

export function makeResponse(e: core.RequestEvent): PagesResponse {
  return {
    file: (path: string) => e.fileFS($os.dirFS($filepath.dir(path)), $filepath.base(path)),
    write: (s: string) => {
      e.response.write(s)
    },
    redirect: (path: string, status = 302) => e.redirect(status, path),
    json: (status: number, data: unknown) => e.json(status, data),
    html: (status: number, data: string) => e.html(status, data),
    header: (name: string, value?: string) => {
      if (value === undefined) return e.response.header().get(name) || ''
      e.response.header().set(name, value)
      return value
    },
    cookie: <T>(name: string, value: T, options: CookieSerializeOptions = {}) => {
      const text = typeof value === 'string' ? value : stringify(value)
      const serialized = serializeCookie(name, text, { path: '/', ...options })
      e.response.header().add('Set-Cookie', serialized)
      return serialized
    },
  }
}
