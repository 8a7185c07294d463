/**
 * Login CSRF check.
 *
 * Policy: a request that signs someone in or out, upgrades a guest or merges accounts must come
 * from this site. Otherwise another site could sign a victim's browser into an account the
 * attacker controls (and later read what the victim did there), set a guest's email and password,
 * or sign a guest out, which ends the guest and its data for good.
 * Browsers send `Origin` on every POST; when it is absent we fall back to `Referer`. A request
 * with neither is not from a browser page on another site (no browser omits both on a
 * cross-site form post), so it is allowed: scripts and server-side callers keep working.
 * `Origin: null` (an opaque origin: a sandboxed frame, a `data:` page, some redirect chains) is
 * refused whatever else the request carries: a sandboxed frame on this very site sends `null`
 * together with a same-site Referer, and the Referer says where the frame was loaded, not that
 * the page acting in it is this site's own.
 * "Same site" means the Origin's host (with port) equals the request's Host header; the
 * scheme is not compared because TLS is often terminated by a proxy in front of PocketBase.
 */

export interface OriginCheckInput {
  /** The `Origin` request header, or '' when absent. */
  origin: string
  /** The `Referer` request header, or '' when absent. */
  referer: string
  /** The `Host` request header. */
  host: string
  /** Extra allowed origins (lower-case `scheme://host[:port]`). */
  allowedOrigins: string[]
}

export type OriginCheckResult = { ok: true } | { ok: false; reason: string }

export function checkSameOrigin(input: OriginCheckInput): OriginCheckResult {
  if (input.origin.trim().toLowerCase() === 'null')
    return { ok: false, reason: 'the request has an opaque (null) origin' }
  const source = input.origin || input.referer
  if (!source) return { ok: true }
  const origin = originOf(source)
  if (!origin) return { ok: false, reason: 'the request origin is not a valid URL' }
  if (input.allowedOrigins.includes(origin.full)) return { ok: true }
  if (input.host && origin.host === input.host.toLowerCase()) return { ok: true }
  return { ok: false, reason: `requests from ${origin.full} are not allowed` }
}

/** `scheme://host[:port]` of a URL, lower-cased; null if it is not an http(s) URL. */
function originOf(url: string): { full: string; host: string } | null {
  const match = /^(https?):\/\/([^/?#\s]+)/i.exec(url)
  if (!match) return null
  const scheme = match[1]!.toLowerCase()
  let host = match[2]!.toLowerCase()
  if (host.includes('@')) return null // userinfo has no place in an Origin
  // Default ports are implied in Origin; normalise so "host:443" and "host" compare equal.
  if ((scheme === 'https' && host.endsWith(':443')) || (scheme === 'http' && host.endsWith(':80'))) {
    host = host.slice(0, host.lastIndexOf(':'))
  }
  return { full: `${scheme}://${host}`, host }
}
