/**
 * Plugin options: one table, OPTIONS, in which each option is one entry carrying its default and
 * its check. The resolved type, the defaults and the validation derive from it. The type users
 * write, with each option's documentation, is AnonymousPluginOptions in options-types.ts: adding an
 * option is one entry here, one property there (the compile-time check below fails until both
 * agree) and its README row (a unit test compares them).
 * Unknown keys are an error: a misspelt option silently doing nothing is worse.
 */
import { PLUGIN_NAME } from './constants'
import { isValidCookieName } from './cookie'
import { AnonymousAuthError, ErrorCodes } from './errors'
import type { AnonymousPluginOptions, GuestCheck, GuestDeleteCheck, MergeHook } from './options-types'

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

export const OPTIONS = {
  collection: name('users'),
  collections: nameList(),
  emailDomain: domain('example.com'),
  emailPrefix: emailPrefix('anonymous-'),
  anonymousField: name('anonymous'),
  lastSeenField: name('lastSeen'),
  cookie: {
    name: cookieName('pb_auth'),
    path: text('/'),
    domain: optionalText(),
    httpOnly: bool(true),
    sameSite: oneOf(['Lax', 'Strict', 'None'] as const, 'Lax'),
    secure: autoOrBool(),
  },
  keepAlive: {
    refreshAfterFraction: number(0.5, 0, 1),
    lastSeenWriteIntervalSeconds: number(3600, 0),
  },
  rateLimit: {
    perNetwork: integer(30, 0),
    perIpv6Site: integer(300, 0),
    global: integer(0, 0),
    windowSeconds: integer(3600, 1),
    ipv4Prefix: integer(32, 1, 32),
    ipv6Prefix: integer(64, 1, 128),
  },
  csrf: {
    enabled: bool(true),
    allowedOrigins: originList(),
  },
  upgrade: {
    sendVerificationEmail: bool(false),
    failuresPerGuest: integer(10, 1),
    failuresPerNetwork: integer(30, 1),
    failureWindowSeconds: integer(900, 1),
  },
  upgradeCode: {
    sendsPerGuest: integer(3, 1),
    sendsPerNetwork: integer(10, 1),
    sendsPerAddress: integer(3, 1),
    sendWindowSeconds: integer(3600, 1),
    failuresPerCode: integer(5, 1),
    failuresPerNetwork: integer(30, 1),
    signInToExisting: bool(true),
  },
  mergeOnSignIn: bool(true),
  onMerge: hook<MergeHook>('onMerge', '({ guest, user, app }) => void'),
  beforeGuestSignIn: hook<GuestCheck>('beforeGuestSignIn', '({ request, clientIp, app }) => boolean'),
  beforeGuestDelete: hook<GuestDeleteCheck>('beforeGuestDelete', '({ guest, app }) => boolean'),
  respondWithErrorStatus: bool(true),
  cleanup: {
    enabled: bool(true),
    schedule: text('17 * * * *'),
    retentionDays: number(30, 0),
    batchSize: integer(100, 1),
    pauseMilliseconds: integer(50, 0),
    maxPerRun: integer(10000, 1),
  },
} as const satisfies Table

export type ResolvedOptions = Resolved<typeof OPTIONS>

/**
 * The written-out options type and the table agree: same keys at every level, same value types,
 * every key optional (`debug` is PocketPages' own, see HOST_KEYS). A drift fails `tsc` here.
 */
export type OptionsTypeMatchesTable = Assert<
  Equal<Normalized<AnonymousPluginOptions>, Normalized<Input<typeof OPTIONS> & { debug?: boolean }>>
>
type Assert<T extends true> = T
/** True only for identical types (not mere mutual assignability, which ignores optionality). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
/** One plain object type at every level (an interface and an intersection of mapped types compare alike). */
type Normalized<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly unknown[]
    ? T
    : T extends object
      ? { [K in keyof T]: Normalized<T[K]> }
      : T

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
  throw new AnonymousAuthError(ErrorCodes.INVALID_OPTIONS, `${PLUGIN_NAME}: invalid option in +config.js: ${message}`)
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
