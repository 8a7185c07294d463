// Small HTTP helpers for e2e tests: Set-Cookie parsing and browser-like form posts.

/** A desktop browser's User-Agent: pages answer it as a person (machine-request.ts tells them apart). */
export const CHROME =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

export interface SetCookie {
  name: string
  value: string
  /** Max-Age in seconds, if present. */
  maxAge?: number
  expires?: Date
  path?: string
  domain?: string
  httpOnly: boolean
  secure: boolean
  /** As sent, normalised to Strict | Lax | None when it is one of those. */
  sameSite?: string
  /** Every attribute by lower-case name (flags are `true`). */
  attributes: Record<string, string | true>
  /** The header line as received. */
  raw: string
}

/** Parses one Set-Cookie header line. */
export function parseSetCookie(raw: string): SetCookie {
  const [pair = '', ...attrParts] = raw.split(';')
  const eq = pair.indexOf('=')
  const name = (eq >= 0 ? pair.slice(0, eq) : pair).trim()
  const value = eq >= 0 ? pair.slice(eq + 1).trim() : ''
  const attributes: Record<string, string | true> = {}
  for (const part of attrParts) {
    const i = part.indexOf('=')
    const key = (i >= 0 ? part.slice(0, i) : part).trim().toLowerCase()
    if (key) attributes[key] = i >= 0 ? part.slice(i + 1).trim() : true
  }
  const str = (key: string): string | undefined =>
    typeof attributes[key] === 'string' ? (attributes[key] as string) : undefined
  const cookie: SetCookie = {
    name,
    value,
    httpOnly: 'httponly' in attributes,
    secure: 'secure' in attributes,
    attributes,
    raw,
  }
  const maxAge = str('max-age')
  if (maxAge !== undefined && /^-?\d+$/.test(maxAge)) cookie.maxAge = Number(maxAge)
  const expires = str('expires')
  if (expires !== undefined && !Number.isNaN(Date.parse(expires))) cookie.expires = new Date(expires)
  const cookiePath = str('path')
  if (cookiePath !== undefined) cookie.path = cookiePath
  const domain = str('domain')
  if (domain !== undefined) cookie.domain = domain
  const sameSite = str('samesite')
  if (sameSite !== undefined) cookie.sameSite = normaliseSameSite(sameSite)
  return cookie
}

function normaliseSameSite(v: string): string {
  const known = ['Strict', 'Lax', 'None'].find((k) => k.toLowerCase() === v.toLowerCase())
  return known ?? v
}

/** All Set-Cookie headers of a response, parsed (Node's fetch keeps them apart: getSetCookie()). */
export function parseSetCookies(res: Response): SetCookie[] {
  return res.headers.getSetCookie().map(parseSetCookie)
}

/** The last Set-Cookie for `name` (the one a browser would keep), if any. */
export function getSetCookie(res: Response, name: string): SetCookie | undefined {
  return parseSetCookies(res)
    .filter((c) => c.name === name)
    .at(-1)
}

/** True if this Set-Cookie deletes the cookie (Max-Age <= 0 or Expires in the past). */
export function isDeletion(cookie: SetCookie): boolean {
  if (cookie.maxAge !== undefined) return cookie.maxAge <= 0
  return cookie.expires !== undefined && cookie.expires.getTime() <= Date.now()
}

/** A Cookie request header from name → value pairs or from parsed Set-Cookies (deletions dropped). */
export function cookieHeader(cookies: Record<string, string> | SetCookie[]): string {
  const pairs = Array.isArray(cookies)
    ? cookies.filter((c) => !isDeletion(c)).map((c) => [c.name, c.value] as const)
    : Object.entries(cookies)
  return pairs.map(([name, value]) => `${name}=${value}`).join('; ')
}

export interface PostFormOptions {
  /**
   * Origin header. Default: the target URL's origin, as a browser sends for a same-origin form;
   * a string for a cross-site post; null to send none.
   */
  origin?: string | null
  /** Cookie header (see cookieHeader()). */
  cookie?: string
  headers?: Record<string, string>
  /** Default 'manual': tests look at the redirect itself. */
  redirect?: RequestRedirect
}

/** POSTs fields as application/x-www-form-urlencoded, like an HTML form. */
export function postForm(
  url: string,
  fields: Record<string, string> | URLSearchParams,
  opts: PostFormOptions = {},
): Promise<Response> {
  const headers = new Headers(opts.headers)
  headers.set('content-type', 'application/x-www-form-urlencoded')
  const origin = opts.origin === undefined ? new URL(url).origin : opts.origin
  if (origin !== null) headers.set('origin', origin)
  if (opts.cookie !== undefined) headers.set('cookie', opts.cookie)
  const body = fields instanceof URLSearchParams ? fields : new URLSearchParams(fields)
  return fetch(url, { method: 'POST', headers, body: body.toString(), redirect: opts.redirect ?? 'manual' })
}
