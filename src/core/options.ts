/**
 * Plugin options: one table, OPTIONS, in which each option is one entry carrying its default, its
 * check and its documentation. The resolved type, the defaults and the validation all derive from
 * it, so adding an option is one entry here (plus its README row; a unit test compares them).
 * Unknown keys are an error: a misspelt option silently doing nothing is worse.
 */
import { isValidCookieName } from './cookie'
import { AnonymousAuthError, ErrorCodes } from './errors'

/** One option: its default and how a configured value is checked. */
interface Option<T> {
  readonly default: T
  parse(value: unknown, label: string): T
}

type Table = { readonly [key: string]: Option<unknown> | Table }

/** The resolved options of a table: every option with its value. */
type Resolved<T extends Table> = {
  -readonly [K in keyof T]: T[K] extends Option<infer V> ? V : T[K] extends Table ? Resolved<T[K]> : never
}

/** What `+config.js` may give: any subset. */
type Input<T extends Table> = {
  -readonly [K in keyof T]?: T[K] extends Option<infer V> ? V : T[K] extends Table ? Input<T[K]> : never
}

export interface MergeContext {
  /** The guest record being merged away (deleted after the hook). */
  guest: core.Record
  /** The existing account the guest signed in to. */
  user: core.Record
  /** The transaction's app: use it (not `$app`) for every read and write in the hook. */
  app: core.App
}

export interface GuestCheckContext {
  /** PocketPages' request: `body()`, `header(name)`, ... (e.g. a captcha token from the form). */
  request: unknown
  /** The client IP as PocketBase sees it (trusted-proxy settings applied). */
  clientIp: string
  app: core.App
}

export interface GuestDeleteContext {
  /** The abandoned guest the cleanup is about to delete. */
  guest: core.Record
  /** The app (no transaction is open: each deletion is its own). */
  app: core.App
}

export type MergeHook = (context: MergeContext) => void
/** Return `true` to let the guest sign-in through; anything else refuses it with HUMAN_CHECK_FAILED. */
export type GuestCheck = (context: GuestCheckContext) => boolean
/** Return `false` to keep the guest (this run; the next run asks again); anything else lets the cleanup delete it. */
export type GuestDeleteCheck = (context: GuestDeleteContext) => boolean

export const OPTIONS = {
  /** Auth collection guests are created in. */
  collection: name('users'),
  /**
   * Auth collections whose tokens the cookie may carry; a token of any other collection reads as
   * signed out. `signInAnonymously({ collection })` must name one of them. Default: `[collection]`.
   */
  collections: nameList(),
  /** Domain of the generated guest emails. */
  emailDomain: domain('example.com'),
  /** Prefix of the generated guest emails' local part. */
  emailPrefix: emailPrefix('anonymous-'),
  /** Bool field marking guests (hidden; the migration adds it). */
  anonymousField: name('anonymous'),
  /** Date field with a guest's last activity (hidden), used by the cleanup. */
  lastSeenField: name('lastSeen'),
  cookie: {
    /** Cookie name. */
    name: cookieName('pb_auth'),
    /** Cookie Path. */
    path: text('/'),
    /** Cookie Domain; none: a host-only cookie. */
    domain: optionalText(),
    /** Page scripts cannot read the token. */
    httpOnly: bool(true),
    /** `'Lax'`, `'Strict'` or `'None'`. */
    sameSite: oneOf(['Lax', 'Strict', 'None'] as const, 'Lax'),
    /** `'auto'`: Secure when the request came over HTTPS (TLS or `X-Forwarded-Proto: https`); or true/false. */
    secure: autoOrBool(),
  },
  keepAlive: {
    /** Re-issue the token once it has used more than this fraction of its lifetime. */
    refreshAfterFraction: number(0.5, 0, 1),
    /** At most one last-activity write per guest per this many seconds. */
    lastSeenWriteIntervalSeconds: number(3600, 0),
  },
  rateLimit: {
    /** Guest sign-ins per client network per window; 0 disables. */
    perNetwork: integer(30, 0),
    /** Guest sign-ins per IPv6 /48 (one end site) per window, on top of `perNetwork`; 0 disables. */
    perIpv6Site: integer(300, 0),
    /** Guest sign-ins in total per window; 0 disables. */
    global: integer(0, 0),
    /** Sliding window length, in seconds. */
    windowSeconds: integer(3600, 1),
    /** An IPv4 client's network: this many leading bits of its address. */
    ipv4Prefix: integer(32, 1, 32),
    /** An IPv6 client's network: this many leading bits of its address. */
    ipv6Prefix: integer(64, 1, 128),
  },
  csrf: {
    /** Refuse sign-in, upgrade, merge and sign-out requests posted from other sites. */
    enabled: bool(true),
    /** Extra allowed origins besides the request's own host, e.g. `'https://app.example.org'`. */
    allowedOrigins: originList(),
  },
  upgrade: {
    /** Send PocketBase's verification email after an upgrade (needs SMTP). */
    sendVerificationEmail: bool(false),
    /** Failed upgrade attempts allowed per guest per failure window. */
    failuresPerGuest: integer(10, 1),
    /** Failed upgrade attempts allowed per client network per failure window. */
    failuresPerNetwork: integer(30, 1),
    /** The failure window, in seconds. */
    failureWindowSeconds: integer(900, 1),
  },
  upgradeCode: {
    /** Code mails per guest per send window (`requestUpgradeCode`). */
    sendsPerGuest: integer(3, 1),
    /** Code mails per client network per send window. */
    sendsPerNetwork: integer(10, 1),
    /** Code mails to one address per send window, whoever asks (counted under a keyed hash of it). */
    sendsPerAddress: integer(3, 1),
    /** The send window, in seconds. */
    sendWindowSeconds: integer(3600, 1),
    /** Wrong codes allowed per code (then 429; the code expires before the window ends). */
    failuresPerCode: integer(5, 1),
    /** Wrong codes allowed per client network per `upgrade.failureWindowSeconds`. */
    failuresPerNetwork: integer(30, 1),
    /**
     * A code to an address that has an account signs in to it (the guest merged in). Off: such an
     * address is refused with EMAIL_TAKEN, and emailed codes never sign in to existing accounts.
     */
    signInToExisting: bool(true),
  },
  /** When a browser holding a guest session signs in to an account, merge the guest into it. */
  mergeOnSignIn: bool(true),
  /**
   * `({ guest, user, app }) => void`, run in the merge transaction; move the guest's data here.
   * None: every relation that points at the guest is repointed to the user.
   */
  onMerge: hook<MergeHook>('onMerge', '({ guest, user, app }) => void'),
  /** `({ request, clientIp, app }) => boolean`, run before a guest is created: return true to allow (e.g. a captcha check). */
  beforeGuestSignIn: hook<GuestCheck>('beforeGuestSignIn', '({ request, clientIp, app }) => boolean'),
  /**
   * `({ guest, app }) => boolean`, run by the cleanup (dry runs too) before each abandoned guest is
   * deleted: return false to keep it (e.g. others voted on its poll). A throw keeps it and is logged.
   */
  beforeGuestDelete: hook<GuestDeleteCheck>('beforeGuestDelete', '({ guest, app }) => boolean'),
  /** Answer with a caught plugin error's HTTP status (429, 403, 409, 400, ...) instead of 200. */
  respondWithErrorStatus: bool(true),
  cleanup: {
    /** Register the cleanup cron job. */
    enabled: bool(true),
    /** Cron expression: every hour at minute 17. */
    schedule: text('17 * * * *'),
    /** Delete guests inactive for longer than this many days. */
    retentionDays: number(30, 0),
    /** Guests read per batch (each deletion is its own short transaction). */
    batchSize: integer(100, 1),
    /** Pause between batches, so page requests keep the CPU and the database writer. */
    pauseMilliseconds: integer(50, 0),
    /** Most deletions in one run. */
    maxPerRun: integer(10000, 1),
  },
} as const satisfies Table

export type ResolvedOptions = Resolved<typeof OPTIONS>
export type AnonymousPluginOptions = Input<typeof OPTIONS> & {
  /** PocketPages' own per-plugin flag; accepted and ignored. */
  debug?: boolean
}

/** Keys PocketPages itself may put into a plugin entry; they are not ours to validate. */
const HOST_KEYS = ['name', 'fn', 'debug']

export function resolveOptions(input: unknown): ResolvedOptions {
  const options = resolveTable(OPTIONS, input, '', HOST_KEYS) as ResolvedOptions
  if (options.collections.length === 0) options.collections = [options.collection]
  if (!options.collections.includes(options.collection)) {
    fail(
      `collections must include the default collection '${options.collection}' (got [${options.collections.join(', ')}])`,
    )
  }
  return options
}

/** The defaults, as documented in the README (a function: nothing is built when a JS VM loads the bundle). */
export function defaultOptions(): ResolvedOptions {
  return resolveOptions({})
}

function resolveTable(
  table: Table,
  input: unknown,
  prefix: string,
  ignoredKeys: string[] = [],
): Record<string, unknown> {
  const label = prefix ? prefix.slice(0, -1) : 'options'
  if (input !== undefined && input !== null && (typeof input !== 'object' || Array.isArray(input))) {
    fail(`${label} must be an object`)
  }
  const given = (input ?? {}) as Record<string, unknown>
  for (const key of Object.keys(given)) {
    if (!(key in table) && !ignoredKeys.includes(key)) {
      fail(`unknown key '${key}'${prefix ? ` in ${label}` : ''}; known keys: ${Object.keys(table).join(', ')}`)
    }
  }
  const resolved: Record<string, unknown> = {}
  for (const [key, entry] of Object.entries(table)) {
    resolved[key] = isOption(entry)
      ? given[key] === undefined
        ? entry.default
        : entry.parse(given[key], prefix + key)
      : resolveTable(entry, given[key], `${prefix}${key}.`)
  }
  return resolved
}

function isOption(entry: Option<unknown> | Table): entry is Option<unknown> {
  return typeof (entry as Option<unknown>).parse === 'function'
}

function fail(message: string): never {
  throw new AnonymousAuthError(
    ErrorCodes.INVALID_OPTIONS,
    `pocketpages-plugin-anonymous: invalid option in +config.js: ${message}`,
  )
}

// --- option kinds -------------------------------------------------------------------------------

function text(fallback: string): Option<string> {
  return {
    default: fallback,
    parse: (value, label) => {
      if (typeof value !== 'string' || value.length === 0) fail(`${label} must be a non-empty string`)
      return value
    },
  }
}

function optionalText(): Option<string | undefined> {
  return { default: undefined, parse: (value, label) => text('').parse(value, label) }
}

function matching(fallback: string, pattern: RegExp, what: string, normalize = (s: string) => s): Option<string> {
  return {
    default: fallback,
    parse: (value, label) => {
      const s = text(fallback).parse(value, label)
      if (!pattern.test(s)) fail(`${label} must be ${what}, got '${s}'`)
      return normalize(s)
    },
  }
}

function name(fallback: string): Option<string> {
  return matching(fallback, /^[A-Za-z0-9_]+$/, 'a collection or field name (letters, digits, _)')
}

function nameList(): Option<string[]> {
  return {
    default: [],
    parse: (value, label) => {
      if (!Array.isArray(value) || value.length === 0) fail(`${label} must be a non-empty array of collection names`)
      return value.map((v, i) => name('').parse(v, `${label}[${i}]`))
    },
  }
}

function domain(fallback: string): Option<string> {
  const pattern = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i
  return matching(fallback, pattern, "a domain name like 'example.com'", (s) => s.toLowerCase())
}

function emailPrefix(fallback: string): Option<string> {
  return matching(fallback, /^[a-z0-9._+-]{1,32}$/i, 'letters, digits and . _ + - (at most 32)')
}

function cookieName(fallback: string): Option<string> {
  return {
    default: fallback,
    parse: (value, label) => {
      const s = text(fallback).parse(value, label)
      if (!isValidCookieName(s)) fail(`${label} '${s}' is not a valid cookie name`)
      return s
    },
  }
}

function bool(fallback: boolean): Option<boolean> {
  return {
    default: fallback,
    parse: (value, label) => {
      if (typeof value !== 'boolean') fail(`${label} must be true or false`)
      return value
    },
  }
}

function autoOrBool(): Option<'auto' | boolean> {
  return { default: 'auto', parse: (value, label) => (value === 'auto' ? 'auto' : bool(false).parse(value, label)) }
}

function number(fallback: number, min: number, max = Number.POSITIVE_INFINITY): Option<number> {
  return {
    default: fallback,
    parse: (value, label) => {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
        fail(
          `${label} must be a number ${max === Number.POSITIVE_INFINITY ? `>= ${min}` : `between ${min} and ${max}`}`,
        )
      }
      return value
    },
  }
}

function integer(fallback: number, min: number, max = Number.POSITIVE_INFINITY): Option<number> {
  return {
    default: fallback,
    parse: (value, label) => {
      const n = number(fallback, min, max).parse(value, label)
      if (!Number.isInteger(n)) fail(`${label} must be a whole number`)
      return n
    },
  }
}

function oneOf<T extends string>(allowed: readonly T[], fallback: T): Option<T> {
  return {
    default: fallback,
    parse: (value, label) => {
      if (!allowed.includes(value as T)) fail(`${label} must be one of ${allowed.join(', ')}`)
      return value as T
    },
  }
}

function originList(): Option<string[]> {
  return {
    default: [],
    parse: (value, label) => {
      if (!Array.isArray(value)) fail(`${label} must be an array of origins like 'https://app.example.org'`)
      return value.map((v) => {
        if (typeof v !== 'string' || !/^https?:\/\/[^/\s]+$/i.test(v)) {
          fail(
            `${label} entries must look like 'https://app.example.org' (scheme and host, no path), got '${String(v)}'`,
          )
        }
        return v.toLowerCase()
      })
    },
  }
}

/**
 * A function option. Only checked here: the function itself is read again from +config.js in the
 * JS VM that serves the request (see src/plugin/plugin-options.ts), never taken from what PocketPages passes.
 */
function hook<F>(key: string, shape: string): Option<F | null> {
  return {
    default: null,
    parse: (value, label) => {
      if (value !== null && typeof value !== 'function') fail(`${label || key} must be a function ${shape}`)
      return value as F | null
    },
  }
}
