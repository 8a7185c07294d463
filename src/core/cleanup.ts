/**
 * Deleting abandoned guests.
 *
 * Policy: a guest whose last activity (or, if never recorded, creation) is older than
 * `retentionDays` is deleted, like Firebase's 30-day default; a signed-out guest (last activity at
 * the epoch) goes at the next run. Only guests by guest-identity.ts are deleted: the query selects
 * flagged records, and each one's password marker is checked again before it goes, so a full
 * account is never touched; nor is a record with an OAuth2 identity linked (someone signed up). Deletion goes through PocketBase, so cascade rules and delete hooks
 * apply to the guest's data. Each deletion is its own short transaction, so page requests never
 * wait behind one long write. Expired rate-limit counters are pruned too.
 */
import { PLUGIN_NAME } from './constants'
import { DAY_MS, formatPocketBaseDate } from './dates'
import { isGuestRecord } from './guest-identity'
import type { ResolvedOptions } from './options'
import type { AuthRecord, Backend } from './ports'

export interface CleanupReport {
  deleted: number
  failed: number
  /** Flagged records that are not guests (a superuser set their flag) or have an OAuth2 identity: left alone. */
  skipped: number
  byCollection: Record<string, number>
  prunedCounters: number
}

type CleanupOptions = Pick<ResolvedOptions, 'collections' | 'anonymousField' | 'lastSeenField' | 'cleanup'>

export function deleteAbandonedGuests(backend: Backend, options: CleanupOptions, nowMs: number): CleanupReport {
  const report: CleanupReport = { deleted: 0, failed: 0, skipped: 0, byCollection: {}, prunedCounters: 0 }
  const cutoff = formatPocketBaseDate(nowMs - options.cleanup.retentionDays * DAY_MS)
  const fields = { anonymous: options.anonymousField, lastSeen: options.lastSeenField }

  for (const collectionName of options.collections) {
    report.byCollection[collectionName] = 0
    const collection = backend.findCollection(collectionName)
    if (!collection) {
      backend.log.warn(`${PLUGIN_NAME}: cleanup skipped collection '${collectionName}': it does not exist`)
      continue
    }
    // Records that stay (failed or not guests) still match the query: skip past them.
    let passedOver = 0
    while (report.deleted < options.cleanup.maxPerRun) {
      const limit = Math.min(options.cleanup.batchSize, options.cleanup.maxPerRun - report.deleted)
      let batch: AuthRecord[]
      try {
        batch = backend.findStaleGuests(collection, fields, cutoff, limit, passedOver)
      } catch (error) {
        backend.log.warn(`${PLUGIN_NAME}: cleanup skipped collection '${collectionName}'`, 'error', String(error))
        break
      }
      for (const record of batch) {
        if (!isGuestRecord(backend, record, options.anonymousField)) {
          passedOver++
          report.skipped++
          continue
        }
        if (backend.externalAuthsOf(record).length > 0) {
          // Someone signed up with an OAuth2 identity: an account, whatever its flag says (the link
          // hook converts such guests; this guards against one it missed). Never deleted here.
          passedOver++
          report.skipped++
          backend.log.warn(
            `${PLUGIN_NAME}: cleanup kept a flagged record that has an OAuth2 identity`,
            'collection',
            collectionName,
            'recordId',
            record.id,
          )
          continue
        }
        try {
          backend.delete(record)
          report.deleted++
          report.byCollection[collectionName]!++
        } catch (error) {
          passedOver++
          report.failed++
          backend.log.warn(
            `${PLUGIN_NAME}: could not delete an abandoned guest`,
            'collection',
            collectionName,
            'recordId',
            record.id,
            'error',
            String(error),
          )
        }
      }
      if (batch.length < limit) break
      // A run may last minutes: between batches, let page requests have the CPU and the writer.
      if (options.cleanup.pauseMilliseconds > 0) backend.pause(options.cleanup.pauseMilliseconds)
    }
  }
  report.prunedCounters = backend.counters.prune(nowMs)
  return report
}
