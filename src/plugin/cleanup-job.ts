/**
 * The cleanup of abandoned guests as PocketBase sees it: a cron job, and a superuser-only route
 * to run it once by hand. PocketPages' plugin interface has no start-up hook and `cronAdd` only
 * exists while pb_hooks/*.pb.js files load, so the app calls `registerCleanupJob()` from one:
 *
 *   require('pocketpages-plugin-anonymous').registerCleanupJob()
 */
import { CLEANUP_CRON_ID, CLEANUP_ROUTE_PATH, PLUGIN_NAME } from '../core/constants'
import { deleteAbandonedGuests, type CleanupReport } from '../core/cleanup'
import type { ResolvedOptions } from '../core/options'
import { pocketBaseApp } from './app'
import { readPluginOptionsFromPagesConfig } from './pages-config'

/** Registers the cron job (unless `cleanup.enabled` is false) and the manual route. Call at the top level of a .pb.js file. */
export function registerCleanupJob(factory: unknown): void {
  if (typeof cronAdd !== 'function' || typeof routerAdd !== 'function') {
    throw new Error(`${PLUGIN_NAME}: call registerCleanupJob() at the top level of a pb_hooks/*.pb.js file, not inside a handler or page.`)
  }
  const options = readPluginOptionsFromPagesConfig(factory)
  if (!options) {
    console.log(`[${PLUGIN_NAME}] not listed in pb_hooks/pages/+config.js; cleanup job not registered`)
    return
  }
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

export function runCleanupWith(options: ResolvedOptions): CleanupReport {
  const logger = $app.logger()
  const report = deleteAbandonedGuests(pocketBaseApp(), options, Date.now(), (message, collection, recordId) => {
    logger.warn(`${PLUGIN_NAME}: could not delete an abandoned guest`, 'collection', collection, 'recordId', recordId, 'error', message)
  })
  logger.info(
    `${PLUGIN_NAME}: removed ${report.deleted} abandoned guest(s)`,
    'deleted', report.deleted,
    'failed', report.failed,
    'retentionDays', options.cleanup.retentionDays,
    'prunedSignInLogRows', report.prunedSignInLogRows,
  )
  return report
}
