/**
 * What the plugin registers with PocketBase itself, all in one place: the configuration check at
 * start-up, the cleanup of abandoned guests as a cron job, a superuser-only route that runs the
 * cleanup once (or, with `?dryRun=1`, reports what it would do), a superuser-only route with the
 * operator's figures, and the hooks that keep a guest's id when it links an OAuth2 identity.
 * PocketPages' plugin interface has no start-up hook, and `cronAdd` and `routerAdd` exist only
 * while pb_hooks/*.pb.js files load, so the app calls `registerHooks()` from one:
 *
 *   require('pocketpages-plugin-anonymous').registerHooks()
 *
 * Handlers are serialized and re-run in other JS VMs: they see no outer variables, only `require`.
 * Options, function options (`beforeGuestDelete`) included, are read from +config.js in the VM
 * that runs the handler.
 */
import { type CleanupReport, deleteAbandonedGuests, dryRunFlag } from '../core/cleanup'
import { CLEANUP_CRON_ID, CLEANUP_ROUTE_PATH, PLUGIN_NAME, STATS_ROUTE_PATH } from '../core/constants'
import { describeError, ErrorCodes } from '../core/errors'
import type { ResolvedOptions } from '../core/options'
import { pocketBaseBackend } from '../core/pocketbase/backend'
import type { Backend } from '../core/ports'
import { findConfigurationProblems } from '../core/startup-check'
import { readStats, statsLogFields } from '../core/stats'
import { optionsFromPagesConfig } from './plugin-options'

type OptionsRead = { options: ResolvedOptions | null; error?: undefined } | { options?: undefined; error: unknown }

function readOptions(factory: unknown): OptionsRead {
  try {
    return { options: optionsFromPagesConfig(factory) }
  } catch (error) {
    return { error }
  }
}

/** Registers the start-up check, the cron job (unless `cleanup.enabled` is false), the manual cleanup route and the stats route. */
export function registerHooks(factory: unknown): void {
  if (typeof cronAdd !== 'function' || typeof routerAdd !== 'function') {
    throw new Error(
      `${PLUGIN_NAME}: call registerHooks() at the top level of a pb_hooks/*.pb.js file, not inside a handler or page.`,
    )
  }
  const read = readOptions(factory)
  if (read.error === undefined && !read.options) {
    console.log(`[${PLUGIN_NAME}] not listed in pb_hooks/pages/+config.js; nothing registered`)
    return
  }
  // A bad option must not stop PocketBase's own commands (superuser upsert, migrate), which load
  // pb_hooks too: it is reported at serve time and on every page instead of thrown here.
  // On serve, i.e. after migrations, so a fresh database is not reported as broken. The JSVM has
  // no onServe() binding; this handler runs once, in the loader VM, which is idle by then.
  ;($app as unknown as { onServe(): { bindFunc(fn: (e: core.ServeEvent) => unknown): void } })
    .onServe()
    .bindFunc((e: core.ServeEvent) => {
      const result = e.next()
      require('pocketpages-plugin-anonymous').checkConfiguration()
      return result
    })
  if (read.options?.cleanup.enabled) {
    cronAdd(CLEANUP_CRON_ID, read.options.cleanup.schedule, () => {
      require('pocketpages-plugin-anonymous').runCleanupJob()
    })
  }
  // PocketBase's own OAuth2 link path keeps a guest's id (oauth2-hooks.ts). Bound whatever the
  // options say: the handlers read them, and do nothing when the plugin is not configured.
  onRecordAuthWithOAuth2Request((e: core.RecordAuthWithOAuth2RequestEvent) => {
    require('pocketpages-plugin-anonymous').handleOAuth2Request(e)
  })
  onRecordCreate((e: core.RecordEvent) => {
    require('pocketpages-plugin-anonymous').handleExternalAuthCreate(e)
  }, '_externalAuths')
  routerAdd(
    'POST',
    CLEANUP_ROUTE_PATH,
    (e: core.RequestEvent) => require('pocketpages-plugin-anonymous').handleCleanupRequest(e),
    $apis.requireSuperuserAuth(),
  )
  routerAdd(
    'GET',
    STATS_ROUTE_PATH,
    (e: core.RequestEvent) => require('pocketpages-plugin-anonymous').handleStatsRequest(e),
    $apis.requireSuperuserAuth(),
  )
}

/** Logs the configuration's problems to PocketBase's log and stdout (the app log is easy to miss). */
export function checkConfiguration(factory: unknown): void {
  const read = readOptions(factory)
  const problems =
    read.error !== undefined
      ? [{ level: 'error' as const, message: describeError(read.error) }]
      : read.options
        ? findConfigurationProblems(pocketBaseBackend($app as unknown as core.App), read.options)
        : []
  for (const problem of problems) {
    const message = `${PLUGIN_NAME}: ${problem.message}`
    if (problem.level === 'error') $app.logger().error(message)
    else $app.logger().warn(message)
    console.log(`[${PLUGIN_NAME}] ${problem.level}: ${problem.message}`)
  }
}

/**
 * Runs one cleanup (or a dry run) with the options in +config.js and logs the outcome with the
 * operator's figures, in one line; null when not configured.
 */
export function runCleanup(factory: unknown, run: { dryRun?: boolean } = {}): CleanupReport | null {
  const options = optionsFromPagesConfig(factory)
  if (!options) return null
  const backend = pocketBaseBackend($app as unknown as core.App)
  const now = Date.now()
  const report = deleteAbandonedGuests(backend, options, now, run)
  const message = report.dryRun
    ? `${PLUGIN_NAME}: cleanup dry run: would remove ${report.wouldDelete} abandoned guest(s)`
    : `${PLUGIN_NAME}: removed ${report.deleted} abandoned guest(s)`
  backend.log.info(
    message,
    'dryRun',
    report.dryRun,
    'deleted',
    report.deleted,
    'wouldDelete',
    report.wouldDelete,
    'kept',
    report.kept,
    'failed',
    report.failed,
    'skipped',
    report.skipped,
    'retentionDays',
    options.cleanup.retentionDays,
    'finishedMerges',
    report.finishedMerges,
    'prunedCounters',
    report.prunedCounters,
    ...figuresForLog(backend, options, now),
  )
  return report
}

/** The stats as log key-values; none (and a warning) when they cannot be read: the run itself stands. */
function figuresForLog(backend: Backend, options: ResolvedOptions, now: number): unknown[] {
  try {
    return statsLogFields(readStats(backend, options, now))
  } catch (error) {
    backend.log.warn(`${PLUGIN_NAME}: could not read the stats for the cleanup's log line`, 'error', String(error))
    return []
  }
}

/** POST /api/pocketpages-anonymous/cleanup[?dryRun=1] (superusers only). */
export function handleCleanupRequest(factory: unknown, e: core.RequestEvent): void {
  const dryRun = dryRunFlag(queryParam(e, 'dryRun'))
  if (dryRun === null) {
    e.json(400, { message: 'dryRun must be 1 or true (report only), 0 or false (delete), or absent (delete)' })
    return
  }
  try {
    const report = runCleanup(factory, { dryRun })
    if (report) e.json(200, report)
    else e.json(404, notConfigured())
  } catch (error) {
    e.json(500, { message: describeError(error) })
  }
}

/** GET /api/pocketpages-anonymous/stats (superusers only): aggregate counts, no id, email or address. */
export function handleStatsRequest(factory: unknown, e: core.RequestEvent): void {
  try {
    const options = optionsFromPagesConfig(factory)
    if (!options) {
      e.json(404, notConfigured())
      return
    }
    const backend = pocketBaseBackend($app as unknown as core.App)
    if (!backend.countersReady()) {
      e.json(500, {
        message: `${ErrorCodes.MIGRATION_MISSING}: the stats are kept in the plugin's counters table, which its migrations create. Copy them into pb_migrations/ and restart PocketBase.`,
      })
      return
    }
    const report = readStats(backend, options, Date.now())
    e.response.header().set('Cache-Control', 'no-store')
    e.json(200, report)
  } catch (error) {
    e.json(500, { message: describeError(error) })
  }
}

function notConfigured(): { message: string } {
  return { message: `${PLUGIN_NAME} is not listed in pb_hooks/pages/+config.js` }
}

/** A query parameter's first value, '' when absent. */
function queryParam(e: core.RequestEvent, name: string): string {
  return String(e.request?.url?.query().get(name) ?? '')
}
