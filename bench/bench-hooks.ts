/**
 * For this repository's benchmark only (bench/hooks/*.pb.js): pieces of the plugin's core for goja
 * route handlers, so that the benchmark's diagnostic routes and fixtures run the plugin's own code
 * instead of a copy of it. scripts/build.mjs bundles it into pb_hooks/lib/bench-hooks.js, apart
 * from the plugin's bundle: the npm package never carries it (test/unit/package-files.test.ts).
 * The copies of the core in the two bundles share their state: private keys live in $app.store().
 */
import { clientNetwork } from '../src/core/client-network'
import { createGuestRecord } from '../src/core/guests'
import type { ResolvedOptions } from '../src/core/options'
import { pocketBaseBackend } from '../src/core/pocketbase/backend'
import { pocketBaseCrypto, pocketBaseKeys } from '../src/core/pocketbase/runtime'
import { SqlCounters } from '../src/core/pocketbase/sql-counters'
import type { AuthRecord } from '../src/core/ports'
import { sessionCookie } from '../src/core/session-cookie'
import { countGuestSignIn } from '../src/core/sign-in-limit'
import { optionsFromPagesConfig } from '../src/plugin/plugin-options'

export interface BenchmarkHooks {
  /** The plugin's options as +config.js gives them (null when it does not list the plugin). */
  options(): ResolvedOptions | null
  /**
   * Creates and saves one guest exactly as signInAnonymously() does (same fields, marker hash and
   * validation), but alone: no transaction, rate limit, same-origin check, hook or cookie.
   */
  createGuest(app: core.App, options: ResolvedOptions, nowMs: number): core.Record
  /** The Set-Cookie value the plugin writes for `record`'s session over plain HTTP. */
  sessionCookie(options: ResolvedOptions, record: core.Record, token: string, nowMs: number): string
  /**
   * Counts one guest sign-in from `clientIp` at `atMs` in the rate limits' counters, under the
   * plugin's own in-memory keys (what signInAnonymously() does inside its transaction); throws
   * RATE_LIMITED past the limits. `app` may be a transaction's.
   */
  countGuestSignIn(app: core.App, options: ResolvedOptions, clientIp: string, atMs: number): void
}

/** `factory`: the plugin's default export, by which +config.js may name the plugin. */
export function benchmarkHooks(factory: unknown): BenchmarkHooks {
  return {
    options: () => optionsFromPagesConfig(factory),
    createGuest: (app, options, nowMs) => {
      const backend = pocketBaseBackend(app)
      const collection = backend.findCollection(options.collection)
      if (!collection) throw new Error(`no collection '${options.collection}'`)
      return createGuestRecord(backend, collection, options, pocketBaseCrypto, nowMs) as unknown as core.Record
    },
    sessionCookie: (options, record, token, nowMs) => {
      const anonymous = (record as unknown as AuthRecord).getBool(options.anonymousField)
      return sessionCookie(options.cookie, record as unknown as AuthRecord, token, anonymous, false, nowMs)
    },
    countGuestSignIn: (app, options, clientIp, atMs) => {
      countGuestSignIn(
        new SqlCounters(app),
        pocketBaseKeys(),
        clientNetwork(clientIp, options.rateLimit),
        options.rateLimit,
        atMs,
      )
    },
  }
}
