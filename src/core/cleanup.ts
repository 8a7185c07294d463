/**
 * Deleting abandoned guests.
 *
 * Policy: a guest whose last activity (or, if never recorded, creation) is older than
 * `retentionDays` is deleted, like Firebase's 30-day default; a signed-out guest (last activity at
 * the epoch) goes at the next run. Only guests by guest-identity.ts are deleted: the query selects
 * flagged records, and each one's password marker is checked again before it goes, so a full
 * account is never touched. Deletion follows PocketBase's cascade rules and delete hooks, in short
 * transactions (guest-deletion.ts): what points at a guest goes in batches before the guest, so
 * page requests never wait behind one long write, however many records a guest has. A guest with
 * a merge under way is never deleted: first, every merge whose runner went silent (a crash) is
 * finished, or undone, from where it stands (merge-batches.ts); a merge still running is left to
 * its runner. Expired rate-limit counters are pruned too.
 */
import { PLUGIN_NAME } from './constants'
import { DAY_MS, formatPocketBaseDate } from './dates'
import { deleteGuestInBatches } from './guest-deletion'
import { isGuestRecord } from './guest-identity'
import { driveMerge, takeOverMerge } from './merge-batches'
import type { ResolvedOptions } from './options'
import type { AuthRecord, Backend } from './ports'

/** Stalled merges finished per run (each one a few short transactions per batch of records). */
const MERGES_PER_RUN = 100

export interface CleanupReport {
  deleted: number
  failed: number
  /** Flagged records that are not guests (a superuser set their flag): left alone. */
  skipped: number
  byCollection: Record<string, number>
  /** Merges left midway (a crash) that this run finished or undid. */
  finishedMerges: number
  prunedCounters: number
}

type CleanupOptions = Pick<ResolvedOptions, 'collections' | 'anonymousField' | 'lastSeenField' | 'cleanup'>

export function deleteAbandonedGuests(backend: Backend, options: CleanupOptions, nowMs: number): CleanupReport {
  const report: CleanupReport = {
    deleted: 0,
    failed: 0,
    skipped: 0,
    byCollection: {},
    finishedMerges: finishStalledMerges(backend),
    prunedCounters: 0,
  }
  const journal = backend.merges.ready()
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
        try {
          const deleted = deleteGuestInBatches(
            backend,
            record,
            (tx, fresh) =>
              // Still a guest, not seen since it was found, and no merge of it under way.
              isGuestRecord(tx, fresh, options.anonymousField) &&
              fresh.getString(options.lastSeenField) === record.getString(options.lastSeenField) &&
              !(journal && tx.merges.find(collection.id, record.id)),
          )
          if (!deleted) {
            passedOver++
            report.skipped++
            continue
          }
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

/** Finishes (or undoes) every merge whose runner went silent; returns how many. */
function finishStalledMerges(backend: Backend): number {
  if (!backend.merges.ready()) return 0
  let finished = 0
  for (const stalled of backend.merges.list(MERGES_PER_RUN)) {
    try {
      const merge = takeOverMerge(backend, stalled)
      if (!merge) continue
      const outcome = driveMerge(backend, merge)
      finished++
      backend.log.info(
        `${PLUGIN_NAME}: cleanup ${outcome.merged ? 'finished' : 'undid'} a merge left midway`,
        'guestId',
        merge.guest,
        'targetId',
        merge.target,
      )
    } catch (error) {
      backend.log.warn(
        `${PLUGIN_NAME}: cleanup could not finish a merge left midway`,
        'guestId',
        stalled.guest,
        'error',
        String(error),
      )
    }
  }
  return finished
}
