/*
 * The plugin's options as users write them in `+config.js`: the public type, written out so that the
 * package's declarations (scripts/build.mjs, rolldown-plugin-dts) print it as it is here, with its
 * documentation and defaults for editors.
 *
 * Two checks keep it true: src/core/options.ts asserts at compile time that this type and its OPTIONS
 * table have the same keys and value types (a drift fails `npm run typecheck`), and
 * test/unit/options-types.test.ts that every `@default` here is the table's default.
 */

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

/** The plugin's options, given in its entry in `+config.js`. Every option is optional. */
export interface AnonymousPluginOptions {
  /**
   * Auth collection guests are created in.
   * @default 'users'
   */
  collection?: string
  /**
   * Auth collections whose tokens the cookie may carry; a token of any other collection reads as
   * signed out. `signInAnonymously({ collection })` must name one of them. Default: `[collection]`.
   */
  collections?: string[]
  /**
   * Domain of the generated guest emails.
   * @default 'example.com'
   */
  emailDomain?: string
  /**
   * Prefix of the generated guest emails' local part.
   * @default 'anonymous-'
   */
  emailPrefix?: string
  /**
   * Bool field marking guests (hidden; the migrations add it).
   * @default 'anonymous'
   */
  anonymousField?: string
  /**
   * Date field with a guest's last activity (hidden), used by the cleanup.
   * @default 'lastSeen'
   */
  lastSeenField?: string
  cookie?: {
    /**
     * Cookie name.
     * @default 'pb_auth'
     */
    name?: string
    /**
     * Cookie Path.
     * @default '/'
     */
    path?: string
    /** Cookie Domain; none: a host-only cookie. */
    domain?: string
    /**
     * Page scripts cannot read the token.
     * @default true
     */
    httpOnly?: boolean
    /**
     * `'Lax'`, `'Strict'` or `'None'`.
     * @default 'Lax'
     */
    sameSite?: 'Lax' | 'Strict' | 'None'
    /**
     * `'auto'`: Secure when the request came over HTTPS (TLS or `X-Forwarded-Proto: https`); or true/false.
     * @default 'auto'
     */
    secure?: 'auto' | boolean
  }
  keepAlive?: {
    /**
     * Re-issue the token once it has used more than this fraction of its lifetime.
     * @default 0.5
     */
    refreshAfterFraction?: number
    /**
     * At most one last-activity write per guest per this many seconds.
     * @default 3600
     */
    lastSeenWriteIntervalSeconds?: number
  }
  rateLimit?: {
    /**
     * Guest sign-ins per client network per window; 0 disables.
     * @default 30
     */
    perNetwork?: number
    /**
     * Guest sign-ins per IPv6 /48 (one end site) per window, on top of `perNetwork`; 0 disables.
     * Without it the holder of a /48 (free from a tunnel broker) would get 65,536 /64 quotas.
     * @default 300
     */
    perIpv6Site?: number
    /**
     * Guest sign-ins in total per window; 0 disables.
     * @default 0
     */
    global?: number
    /**
     * Sliding window length, in seconds.
     * @default 3600
     */
    windowSeconds?: number
    /**
     * An IPv4 client's network: this many leading bits of its address.
     * @default 32
     */
    ipv4Prefix?: number
    /**
     * An IPv6 client's network: this many leading bits of its address.
     * @default 64
     */
    ipv6Prefix?: number
  }
  csrf?: {
    /**
     * Refuse sign-in, upgrade, merge and sign-out requests posted from other sites.
     * @default true
     */
    enabled?: boolean
    /**
     * Extra allowed origins besides the request's own host, e.g. `'https://app.example.org'`.
     * @default []
     */
    allowedOrigins?: string[]
  }
  upgrade?: {
    /**
     * Send PocketBase's verification email after an upgrade (needs SMTP).
     * @default false
     */
    sendVerificationEmail?: boolean
    /**
     * Failed upgrade attempts allowed per guest per failure window.
     * @default 10
     */
    failuresPerGuest?: number
    /**
     * Failed upgrade attempts allowed per client network per failure window.
     * @default 30
     */
    failuresPerNetwork?: number
    /**
     * The failure window, in seconds.
     * @default 900
     */
    failureWindowSeconds?: number
  }
  upgradeCode?: {
    /**
     * Code mails per guest per send window (`requestUpgradeCode`).
     * @default 3
     */
    sendsPerGuest?: number
    /**
     * Code mails per client network per send window.
     * @default 10
     */
    sendsPerNetwork?: number
    /**
     * Code mails to one address per send window, whoever asks (counted under a keyed hash of it).
     * @default 3
     */
    sendsPerAddress?: number
    /**
     * The send window, in seconds.
     * @default 3600
     */
    sendWindowSeconds?: number
    /**
     * Wrong codes allowed per code (then 429; the code expires before the window ends).
     * @default 5
     */
    failuresPerCode?: number
    /**
     * Wrong codes allowed per client network per `upgrade.failureWindowSeconds`.
     * @default 30
     */
    failuresPerNetwork?: number
    /**
     * A code to an address that has an account signs in to it (the guest merged in). Off: such an
     * address is refused with EMAIL_TAKEN, and emailed codes never sign in to existing accounts.
     * @default true
     */
    signInToExisting?: boolean
  }
  /**
   * When a browser holding a guest session signs in to an account, merge the guest into it.
   * @default true
   */
  mergeOnSignIn?: boolean
  /**
   * `({ guest, user, app }) => void`, run in the merge transaction; move the guest's data here.
   * None: every relation that points at the guest is repointed to the user.
   */
  onMerge?: MergeHook | null
  /** `({ request, clientIp, app }) => boolean`, run before a guest is created: return true to allow (e.g. a captcha check). */
  beforeGuestSignIn?: GuestCheck | null
  /**
   * `({ guest, app }) => boolean`, run by the cleanup (dry runs too) before each abandoned guest is
   * deleted: return false to keep it (e.g. others voted on its poll). A throw keeps it and is logged.
   */
  beforeGuestDelete?: GuestDeleteCheck | null
  /**
   * Answer with a caught plugin error's HTTP status (429, 403, 409, 400, ...) instead of 200.
   * @default true
   */
  respondWithErrorStatus?: boolean
  cleanup?: {
    /**
     * Register the cleanup cron job.
     * @default true
     */
    enabled?: boolean
    /**
     * Cron expression: every hour at minute 17.
     * @default '17 * * * *'
     */
    schedule?: string
    /**
     * Delete guests inactive for longer than this many days.
     * @default 30
     */
    retentionDays?: number
    /**
     * Guests read per batch (each deletion is its own short transaction).
     * @default 100
     */
    batchSize?: number
    /**
     * Pause between batches, so page requests keep the CPU and the database writer.
     * @default 50
     */
    pauseMilliseconds?: number
    /**
     * Most deletions in one run.
     * @default 10000
     */
    maxPerRun?: number
  }
  /** PocketPages' own per-plugin flag; accepted and ignored. */
  debug?: boolean
}
