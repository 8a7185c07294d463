/**
 * Plugin options: every field documented with its default, resolved once into a fully-defaulted
 * object. Unknown keys are an error (a misspelt option silently doing nothing is worse).
 * The README's option table is checked against DEFAULT_OPTIONS by a unit test.
 */
import { isValidCookieName } from './cookie'
import { AnonymousAuthError, ErrorCodes } from './errors'

export interface MergeContext {
  /** The guest record being merged away (deleted after the hook). */
  guest: core.Record
  /** The existing account the guest signed in to. */
  user: core.Record
  /** The transaction's app: use it (not `$app`) for every read and write in the hook. */
  app: core.App
}

export interface AnonymousPluginOptions {
  /** Auth collection guests are created in. Default `'users'`. */
  collection?: string
  /**
   * Auth collections whose tokens the cookie may carry; a token of any other collection reads as
   * signed out. `signInAnonymously({ collection })` must name one of them. Default `[collection]`.
   */
  collections?: string[]
  /** Domain of the generated guest emails. Default `'example.com'`. */
  emailDomain?: string
  /** Prefix of the generated guest emails' local part. Default `'anonymous-'`. */
  emailPrefix?: string
  /** Boolean field that marks guests (add it with the migration). Default `'anonymous'`. */
  anonymousField?: string
  /** Date field holding a guest's last activity, used by the cleanup. Default `'lastSeen'`. */
  lastSeenField?: string
  cookie?: {
    /** Default `'pb_auth'`. */
    name?: string
    /** Default `'/'`. */
    path?: string
    /** Default: none (host-only cookie). */
    domain?: string
    /** Default `true`: page scripts cannot read the token. */
    httpOnly?: boolean
    /** Default `'Lax'`. */
    sameSite?: 'Lax' | 'Strict' | 'None'
    /** `'auto'` (default): Secure when the request came over HTTPS (TLS or `X-Forwarded-Proto: https`). */
    secure?: 'auto' | boolean
  }
  keepAlive?: {
    /** Re-issue the token when it has used more than this fraction of its lifetime. Default `0.5`. */
    refreshAfterFraction?: number
    /** At most one last-activity write per guest per this many seconds. Default `3600`. */
    lastSeenWriteIntervalSeconds?: number
  }
  rateLimit?: {
    /** Guest sign-ins allowed per client IP per window; `0` disables. Default `30`. */
    perIp?: number
    /** Guest sign-ins allowed in total per window; `0` disables. Default `0`. */
    global?: number
    /** Window length in seconds (sliding). Default `3600`. */
    windowSeconds?: number
  }
  csrf?: {
    /** Refuse sign-in, upgrade, merge and sign-out requests from other sites. Default `true`. */
    enabled?: boolean
    /** Extra origins allowed besides the request's own host, e.g. `'https://app.example.org'`. Default `[]`. */
    allowedOrigins?: string[]
  }
  upgrade?: {
    /** Send PocketBase's verification email after an upgrade. Default `false`. */
    sendVerificationEmail?: boolean
  }
  /**
   * Runs inside the merge transaction with both records; move or copy the guest's data here.
   * Default: none, which reassigns every relation that points at the guest to the user.
   */
  onMerge?: ((context: MergeContext) => void) | null
  cleanup?: {
    /** Register the cron job that deletes abandoned guests. Default `true`. */
    enabled?: boolean
    /** Cron expression. Default `'17 3 * * *'` (daily at 03:17). */
    schedule?: string
    /** Delete guests inactive for longer than this. Default `30`. */
    retentionDays?: number
    /** Guests deleted per batch (each batch is a short query, each delete its own transaction). Default `100`. */
    batchSize?: number
    /** Upper bound of deletions per run. Default `10000`. */
    maxPerRun?: number
  }
  /**
   * When a page catches an error from one of the plugin's functions and renders anyway, answer
   * with the error's HTTP status (429 with Retry-After, 403, 409, 400, ...) instead of 200.
   * Default `true`.
   */
  respondWithErrorStatus?: boolean
  /** PocketPages' own per-plugin flag; accepted and ignored. */
  debug?: boolean
}

export interface ResolvedOptions {
  collection: string
  collections: string[]
  emailDomain: string
  emailPrefix: string
  anonymousField: string
  lastSeenField: string
  cookie: {
    name: string
    path: string
    domain: string | undefined
    httpOnly: boolean
    sameSite: 'Lax' | 'Strict' | 'None'
    secure: 'auto' | boolean
  }
  keepAlive: { refreshAfterFraction: number; lastSeenWriteIntervalSeconds: number }
  rateLimit: { perIp: number; global: number; windowSeconds: number }
  csrf: { enabled: boolean; allowedOrigins: string[] }
  upgrade: { sendVerificationEmail: boolean }
  onMerge: ((context: MergeContext) => void) | null
  respondWithErrorStatus: boolean
  cleanup: { enabled: boolean; schedule: string; retentionDays: number; batchSize: number; maxPerRun: number }
}

/** The defaults, in one place (the README documents exactly these). */
export const DEFAULT_OPTIONS: ResolvedOptions = {
  collection: 'users',
  collections: ['users'],
  emailDomain: 'example.com',
  emailPrefix: 'anonymous-',
  anonymousField: 'anonymous',
  lastSeenField: 'lastSeen',
  cookie: { name: 'pb_auth', path: '/', domain: undefined, httpOnly: true, sameSite: 'Lax', secure: 'auto' },
  keepAlive: { refreshAfterFraction: 0.5, lastSeenWriteIntervalSeconds: 3600 },
  rateLimit: { perIp: 30, global: 0, windowSeconds: 3600 },
  csrf: { enabled: true, allowedOrigins: [] },
  upgrade: { sendVerificationEmail: false },
  onMerge: null,
  respondWithErrorStatus: true,
  cleanup: { enabled: true, schedule: '17 3 * * *', retentionDays: 30, batchSize: 100, maxPerRun: 10000 },
}

/** Keys PocketPages itself may put into a plugin entry; they are not ours to validate. */
const HOST_KEYS = new Set(['name', 'fn', 'debug'])

const NAME = /^[A-Za-z0-9_]+$/

export function resolveOptions(input: unknown): ResolvedOptions {
  const raw = asObject(input, 'options')
  const top = pick(raw, 'options', Object.keys(DEFAULT_OPTIONS).concat([...HOST_KEYS]))
  const d = DEFAULT_OPTIONS

  const collection = name(top.collection, 'collection', d.collection)
  const collections = top.collections === undefined ? [collection] : nameList(top.collections, 'collections')
  if (!collections.includes(collection)) {
    fail(`collections must include the default collection '${collection}' (got [${collections.join(', ')}])`)
  }

  const cookie = pick(asObject(top.cookie ?? {}, 'cookie'), 'cookie', Object.keys(d.cookie))
  const keepAlive = pick(asObject(top.keepAlive ?? {}, 'keepAlive'), 'keepAlive', Object.keys(d.keepAlive))
  const rateLimit = pick(asObject(top.rateLimit ?? {}, 'rateLimit'), 'rateLimit', Object.keys(d.rateLimit))
  const csrf = pick(asObject(top.csrf ?? {}, 'csrf'), 'csrf', Object.keys(d.csrf))
  const upgrade = pick(asObject(top.upgrade ?? {}, 'upgrade'), 'upgrade', Object.keys(d.upgrade))
  const cleanup = pick(asObject(top.cleanup ?? {}, 'cleanup'), 'cleanup', Object.keys(d.cleanup))

  if (top.onMerge !== undefined && top.onMerge !== null && typeof top.onMerge !== 'function') {
    fail(`onMerge must be a function ({ guest, user, app }) => void`)
  }

  return {
    collection,
    collections,
    emailDomain: hostname(top.emailDomain, 'emailDomain', d.emailDomain),
    emailPrefix: emailPrefix(top.emailPrefix, d.emailPrefix),
    anonymousField: name(top.anonymousField, 'anonymousField', d.anonymousField),
    lastSeenField: name(top.lastSeenField, 'lastSeenField', d.lastSeenField),
    cookie: {
      name: cookieName(cookie.name, d.cookie.name),
      path: str(cookie.path, 'cookie.path', d.cookie.path),
      domain: cookie.domain === undefined ? undefined : str(cookie.domain, 'cookie.domain', ''),
      httpOnly: bool(cookie.httpOnly, 'cookie.httpOnly', d.cookie.httpOnly),
      sameSite: oneOf(cookie.sameSite, 'cookie.sameSite', ['Lax', 'Strict', 'None'] as const, d.cookie.sameSite),
      secure:
        cookie.secure === 'auto' || cookie.secure === undefined ? 'auto' : bool(cookie.secure, 'cookie.secure', false),
    },
    keepAlive: {
      refreshAfterFraction: num(
        keepAlive.refreshAfterFraction,
        'keepAlive.refreshAfterFraction',
        d.keepAlive.refreshAfterFraction,
        0,
        1,
      ),
      lastSeenWriteIntervalSeconds: num(
        keepAlive.lastSeenWriteIntervalSeconds,
        'keepAlive.lastSeenWriteIntervalSeconds',
        d.keepAlive.lastSeenWriteIntervalSeconds,
        0,
      ),
    },
    rateLimit: {
      perIp: int(rateLimit.perIp, 'rateLimit.perIp', d.rateLimit.perIp, 0),
      global: int(rateLimit.global, 'rateLimit.global', d.rateLimit.global, 0),
      windowSeconds: int(rateLimit.windowSeconds, 'rateLimit.windowSeconds', d.rateLimit.windowSeconds, 1),
    },
    csrf: {
      enabled: bool(csrf.enabled, 'csrf.enabled', d.csrf.enabled),
      allowedOrigins: originList(csrf.allowedOrigins),
    },
    upgrade: {
      sendVerificationEmail: bool(
        upgrade.sendVerificationEmail,
        'upgrade.sendVerificationEmail',
        d.upgrade.sendVerificationEmail,
      ),
    },
    onMerge: (top.onMerge as ResolvedOptions['onMerge']) ?? null,
    respondWithErrorStatus: bool(top.respondWithErrorStatus, 'respondWithErrorStatus', d.respondWithErrorStatus),
    cleanup: {
      enabled: bool(cleanup.enabled, 'cleanup.enabled', d.cleanup.enabled),
      schedule: str(cleanup.schedule, 'cleanup.schedule', d.cleanup.schedule),
      retentionDays: num(cleanup.retentionDays, 'cleanup.retentionDays', d.cleanup.retentionDays, 0),
      batchSize: int(cleanup.batchSize, 'cleanup.batchSize', d.cleanup.batchSize, 1),
      maxPerRun: int(cleanup.maxPerRun, 'cleanup.maxPerRun', d.cleanup.maxPerRun, 1),
    },
  }
}

function fail(message: string): never {
  throw new AnonymousAuthError(
    ErrorCodes.INVALID_OPTIONS,
    `pocketpages-plugin-anonymous: invalid option in +config.js: ${message}`,
  )
}

function asObject(value: unknown, label: string): Record<string, unknown> {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) fail(`${label} must be an object`)
  return value as Record<string, unknown>
}

function pick(value: Record<string, unknown>, label: string, allowed: string[]): Record<string, unknown> {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const where = label === 'options' ? '' : ` in ${label}`
      fail(`unknown key '${key}'${where}; known keys: ${allowed.filter((k) => !HOST_KEYS.has(k)).join(', ')}`)
    }
  }
  return value
}

function str(value: unknown, label: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value.length === 0) fail(`${label} must be a non-empty string`)
  return value
}

function name(value: unknown, label: string, fallback: string): string {
  const s = str(value, label, fallback)
  if (!NAME.test(s)) fail(`${label} must be a collection or field name (letters, digits, _), got '${s}'`)
  return s
}

function nameList(value: unknown, label: string): string[] {
  if (!Array.isArray(value) || value.length === 0) fail(`${label} must be a non-empty array of collection names`)
  return value.map((v, i) => name(v, `${label}[${i}]`, ''))
}

function hostname(value: unknown, label: string, fallback: string): string {
  const s = str(value, label, fallback)
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i.test(s))
    fail(`${label} must be a domain name like 'example.com', got '${s}'`)
  return s.toLowerCase()
}

function emailPrefix(value: unknown, fallback: string): string {
  const s = str(value, 'emailPrefix', fallback)
  if (!/^[a-z0-9._+-]{1,32}$/i.test(s)) fail(`emailPrefix may use letters, digits and . _ + - (at most 32), got '${s}'`)
  return s
}

function cookieName(value: unknown, fallback: string): string {
  const s = str(value, 'cookie.name', fallback)
  if (!isValidCookieName(s)) fail(`cookie.name '${s}' is not a valid cookie name`)
  return s
}

function bool(value: unknown, label: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') fail(`${label} must be true or false`)
  return value
}

function num(value: unknown, label: string, fallback: number, min: number, max = Number.POSITIVE_INFINITY): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(`${label} must be a number${max === Number.POSITIVE_INFINITY ? ` >= ${min}` : ` between ${min} and ${max}`}`)
  }
  return value
}

function int(value: unknown, label: string, fallback: number, min: number): number {
  const n = num(value, label, fallback, min)
  if (!Number.isInteger(n)) fail(`${label} must be a whole number`)
  return n
}

function oneOf<T extends string>(value: unknown, label: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (!allowed.includes(value as T)) fail(`${label} must be one of ${allowed.join(', ')}`)
  return value as T
}

function originList(value: unknown): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) fail(`csrf.allowedOrigins must be an array of origins like 'https://app.example.org'`)
  return value.map((v) => {
    if (typeof v !== 'string' || !/^https?:\/\/[^/\s]+$/i.test(v)) {
      fail(
        `csrf.allowedOrigins entries must look like 'https://app.example.org' (scheme and host, no path), got '${String(v)}'`,
      )
    }
    return v.toLowerCase()
  })
}
