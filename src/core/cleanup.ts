/**
 * Deleting abandoned guests.
 *
 * Policy: a guest whose last activity (or, if never recorded, creation) is older than
 * `retentionDays` is deleted, like Firebase's 30-day default; a signed-out guest (last activity at
 * the epoch) goes at the next run. Only guests by guest-identity.ts are deleted: the query selects
 * flagged records, and each one's password marker is checked again before it goes, so a full
 * account is never touched, nor is a flagged record with an OAuth2 identity linked (someone signed
 * up: the link hook converts such guests; this guards against one it missed). The app's `beforeGuestDelete` may keep a guest (it returns false, or
 * throws: when unsure, keep); a kept guest is asked about again at the next run. Deletion goes
 * through PocketBase's rules, so cascade rules and delete hooks apply to the guest's data, in short
 * transactions (guest-deletion.ts): what points at a guest goes in batches before the guest, so
 * page requests never wait behind one long write, however many records a guest has. A guest with a
 * merge under way is never deleted: first, every merge whose runner went silent (a crash) is
 * finished, or undone, from where it stands (merge-batches.ts); a merge still running is left to
 * its runner. Expired counters
 * (rate limits, old stats days) are pruned too, and the run's deletions are counted in the stats.
 * A dry run selects and asks the hook exactly as a run would, and deletes, counts and prunes nothing.
 */
import { PLUGIN_NAME } from './constants'
import { DAY_MS, formatPocketBaseDate } from './dates'
import { deleteGuestInBatches } from './guest-deletion'
import { isGuestRecord } from './guest-identity'
import { driveMerge, takeOverMerge } from './merge-batches'
import type { ResolvedOptions } from './options'
import type { GuestDeleteCheck } from './options-types'
import type { AuthRecord, Backend } from './ports'
import { recordEvent } from './stats'

/** Stalled merges finished per run (each one a few short transactions per batch of records). */
const MERGES_PER_RUN = 100

export interface CleanupReport {
  /** True when the run only reported: nothing was deleted, counted or pruned. */
  dryRun: boolean
  deleted: number
  /** In a dry run, the guests a run would delete now (the run's limits apply); 0 otherwise. */
  wouldDelete: number
  /** Abandoned guests that `beforeGuestDelete` kept (it returned false or threw). */
  kept: number
  failed: number
  /** Flagged records that are not guests (a superuser set their flag) or have an OAuth2 identity: left alone. */
  skipped: number
  /** Deleted (in a dry run: would be deleted) per collection. */
  byCollection: Record<string, number>
  /** Merges left midway (a crash) that this run finished or undid (none in a dry run). */
  finishedMerges: number
  prunedCounters: number
}

type CleanupOptions = Pick<
  ResolvedOptions,
  'collections' | 'anonymousField' | 'lastSeenField' | 'cleanup' | 'beforeGuestDelete'
>

export function deleteAbandonedGuests(
  backend: Backend,
  options: CleanupOptions,
  nowMs: number,
  run: { dryRun?: boolean } = {},
): CleanupReport {
  const dryRun = run.dryRun === true
  const report: CleanupReport = {
    dryRun,
    deleted: 0,
    wouldDelete: 0,
    kept: 0,
    failed: 0,
    skipped: 0,
    byCollection: {},
    finishedMerges: dryRun ? 0 : finishStalledMerges(backend),
    prunedCounters: 0,
  }
  const journal = backend.merges.ready()
  const cutoff = formatPocketBaseDate(nowMs - options.cleanup.retentionDays * DAY_MS)
  const fields = { anonymous: options.anonymousField, lastSeen: options.lastSeenField }
  // What this run has taken of maxPerRun: a dry run previews one run, so its limits apply too.
  const taken = () => report.deleted + report.wouldDelete

  for (const collectionName of options.collections) {
    report.byCollection[collectionName] = 0
    const collection = backend.findCollection(collectionName)
    if (!collection) {
      backend.log.warn(`${PLUGIN_NAME}: cleanup skipped collection '${collectionName}': it does not exist`)
      continue
    }
    // Records that stay (not guests, kept, failed, or all of them in a dry run) still match the
    // query: skip past them.
    let passedOver = 0
    while (taken() < options.cleanup.maxPerRun) {
      const limit = Math.min(options.cleanup.batchSize, options.cleanup.maxPerRun - taken())
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
        // A merge under way (its runner is alive: stalled ones were finished above) owns the guest.
        if (journal && backend.merges.find(collection.id, record.id)) {
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
        if (keptByApp(backend, options.beforeGuestDelete, record, collectionName)) {
          passedOver++
          report.kept++
          continue
        }
        if (dryRun) {
          passedOver++
          report.wouldDelete++
          report.byCollection[collectionName]!++
          continue
        }
        try {
          const deleted = deleteGuestInBatches(
            backend,
            record,
            (tx, fresh) =>
              // Still a guest, not seen since it was found, and no merge of it begun since.
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
  if (dryRun) return report
  recordEvent(backend, 'cleaned-up', nowMs, report.deleted)
  report.prunedCounters = backend.counters.prune(nowMs)
  return report
}

/**
 * The `dryRun` query parameter: '1' or 'true' reports only; '', '0' or 'false' deletes; anything
 * else is null (the route answers 400 rather than guess which the operator meant).
 */
export function dryRunFlag(value: string): boolean | null {
  const v = value.trim().toLowerCase()
  if (v === '1' || v === 'true') return true
  if (v === '' || v === '0' || v === 'false') return false
  return null
}

/** The app's `beforeGuestDelete` said keep: it returned false, or threw (a failing check deletes nothing). */
function keptByApp(
  backend: Backend,
  check: GuestDeleteCheck | null,
  guest: AuthRecord,
  collectionName: string,
): boolean {
  if (!check) return false
  try {
    return check({ guest: guest as unknown as core.Record, app: backend.hookApp as core.App }) === false
  } catch (error) {
    backend.log.warn(
      `${PLUGIN_NAME}: beforeGuestDelete threw; the guest was kept`,
      'collection',
      collectionName,
      'recordId',
      guest.id,
      'error',
      String(error),
    )
    return true
  }
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
