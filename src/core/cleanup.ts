/**
 * Deleting abandoned guests.
 *
 * Policy: a guest whose last activity (or, if never recorded, creation) is older than
 * `retentionDays` is deleted, like Firebase's 30-day default. Full accounts are never touched
 * (the query requires the anonymous flag). Deletion goes through `app.delete`, so PocketBase's
 * cascade rules and delete hooks apply to the guest's data. Work is split into small batches,
 * each delete its own short transaction, so page requests never wait behind one long write.
 */
import { formatPocketBaseDate } from './keep-alive'
import type { ResolvedOptions } from './options'
import { pruneSignInLog } from './rate-limit'

export interface CleanupReport {
  deleted: number
  failed: number
  byCollection: Record<string, number>
  prunedSignInLogRows: number
}

const DAY_MS = 24 * 60 * 60 * 1000

export function deleteAbandonedGuests(
  app: core.App,
  options: ResolvedOptions,
  nowMs: number,
  logFailure: (message: string, collection: string, recordId: string) => void,
  logSkip: (message: string, collection: string) => void,
): CleanupReport {
  const report: CleanupReport = { deleted: 0, failed: 0, byCollection: {}, prunedSignInLogRows: 0 }
  const cutoff = formatPocketBaseDate(nowMs - options.cleanup.retentionDays * DAY_MS)

  for (const collectionName of options.collections) {
    let deletedHere = 0
    let failedHere = 0
    const filter = staleGuestFilter(app, collectionName, options)
    if (!filter) {
      logSkip(`collection '${collectionName}' was skipped: it does not exist`, collectionName)
      report.byCollection[collectionName] = 0
      continue
    }
    while (report.deleted < options.cleanup.maxPerRun) {
      const limit = Math.min(options.cleanup.batchSize, options.cleanup.maxPerRun - report.deleted)
      let batch: (core.Record | undefined)[]
      try {
        // Records that failed to delete still match; skip past them with the offset.
        batch = app.findRecordsByFilter(collectionName, filter, options.lastSeenField, limit, failedHere, { cutoff })
      } catch (error) {
        logSkip(`collection '${collectionName}' was skipped: ${String(error)}`, collectionName)
        break
      }
      for (const record of batch) {
        if (!record) continue
        try {
          app.delete(record)
          deletedHere++
          report.deleted++
        } catch (error) {
          failedHere++
          report.failed++
          logFailure(String(error), collectionName, record.id)
        }
      }
      if (batch.length < limit) break
    }
    report.byCollection[collectionName] = deletedHere
  }
  report.prunedSignInLogRows = pruneSignInLog(app, options.rateLimit.windowSeconds, nowMs)
  return report
}

/**
 * Guests whose last activity is older than the cutoff. Guests get `lastSeen` when created; a
 * guest without one (created before the field existed) falls back to `created`, where the
 * collection has that field (auth collections made through the API since 0.23 may not).
 */
function staleGuestFilter(app: core.App, collectionName: string, options: ResolvedOptions): string | null {
  let collection: core.Collection
  try {
    collection = app.findCachedCollectionByNameOrId(collectionName)
  } catch {
    return null
  }
  const anon = options.anonymousField
  const seen = options.lastSeenField
  const byLastSeen = `(${seen} != '' && ${seen} < {:cutoff})`
  const hasCreated = !!collection.fields.getByName('created')
  return hasCreated
    ? `${anon} = true && (${byLastSeen} || (${seen} = '' && created < {:cutoff}))`
    : `${anon} = true && ${byLastSeen}`
}
