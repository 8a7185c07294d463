/**
 * What the plugin registers with PocketBase itself: the configuration check at start-up, the
 * cleanup of abandoned guests as a cron job, and a superuser-only route to run it once by hand.
 * PocketPages' plugin interface has no start-up hook, and `cronAdd` and `routerAdd` exist only
 * while pb_hooks/*.pb.js files load, so the app calls `registerHooks()` from one:
 *
 *   require('pocketpages-plugin-anonymous').registerHooks()
 */

import { type CleanupReport, deleteAbandonedGuests } from '../core/cleanup'
import { CLEANUP_CRON_ID, CLEANUP_ROUTE_PATH, PLUGIN_NAME } from '../core/constants'
import type { ResolvedOptions } from '../core/options'
import { pocketBaseApp } from './app'
import { readPluginOptionsFromPagesConfig } from './pages-config'

/** Registers the start-up check, the cron job (unless `cleanup.enabled` is false) and the manual route. */
export function registerHooks(factory: unknown): void {
  if (typeof cronAdd !== 'function' || typeof routerAdd !== 'function') {
    throw new Error(
      `${PLUGIN_NAME}: call registerHooks() at the top level of a pb_hooks/*.pb.js file, not inside a handler or page.`,
    )
  }
  const options = readPluginOptionsFromPagesConfig(factory)
  if (!options) {
    console.log(`[${PLUGIN_NAME}] not listed in pb_hooks/pages/+config.js; nothing registered`)
    return
  }
  // On serve, i.e. after migrations, so a fresh database is not reported as broken. The JSVM has
  // no onServe() binding; this handler runs once, in the loader VM, which is idle by then.
  const serveHook = (e: core.ServeEvent) => {
    const result = e.next()
    require('pocketpages-plugin-anonymous').checkConfiguration()
    return result
  }
  ;(pocketBaseApp() as unknown as { onServe(): { bindFunc(fn: (e: core.ServeEvent) => unknown): void } })
    .onServe()
    .bindFunc(serveHook)
  if (options.cleanup.enabled) {
    // Handlers are serialized and re-run in other VMs: no outer variables, only require().
    cronAdd(CLEANUP_CRON_ID, options.cleanup.schedule, () => {
      require('pocketpages-plugin-anonymous').runCleanupJob()
    })
  }
  routerAdd(
    'POST',
    CLEANUP_ROUTE_PATH,
    (e: core.RequestEvent) => require('pocketpages-plugin-anonymous').handleCleanupRequest(e),
    $apis.requireSuperuserAuth(),
  )
}

/** Runs one cleanup with the options from +config.js and logs the outcome. */
export function runCleanup(factory: unknown): CleanupReport | null {
  const options = readPluginOptionsFromPagesConfig(factory)
  if (!options) return null
  return runCleanupWith(options)
}

function runCleanupWith(options: ResolvedOptions): CleanupReport {
  const logger = $app.logger()
  const report = deleteAbandonedGuests(
    pocketBaseApp(),
    options,
    Date.now(),
    (message, collection, recordId) => {
      logger.warn(
        `${PLUGIN_NAME}: could not delete an abandoned guest`,
        'collection',
        collection,
        'recordId',
        recordId,
        'error',
        message,
      )
    },
    (message, collection) => {
      logger.warn(`${PLUGIN_NAME}: cleanup ${message}`, 'collection', collection)
    },
  )
  logger.info(
    `${PLUGIN_NAME}: removed ${report.deleted} abandoned guest(s)`,
    'deleted',
    report.deleted,
    'failed',
    report.failed,
    'retentionDays',
    options.cleanup.retentionDays,
    'prunedSignInLogRows',
    report.prunedSignInLogRows,
  )
  return report
}
