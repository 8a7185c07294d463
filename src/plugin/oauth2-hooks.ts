/**
 * PocketBase's own OAuth2 link path, for guests (policy in src/core/oauth2-link.ts). Two hooks that
 * registerHooks() binds:
 * - `onRecordAuthWithOAuth2Request`: before PocketBase links, a guest's request takes the provider's
 *   email or is turned to the identity's existing account (then the guest is merged into it);
 * - `onRecordCreate` of `_externalAuths`: inside the transaction that links, a guest becomes an
 *   account (flag and marker), whoever created the link.
 * Both read the plugin's options from +config.js in the VM that runs them (hooks get none).
 */
import { PLUGIN_NAME } from '../core/constants'
import { describeError } from '../core/errors'
import { convertLinkedGuest, planGuestLink, takeProviderEmail } from '../core/oauth2-link'
import { mergeGuestInto } from '../core/operations/merge'
import type { ResolvedOptions } from '../core/options'
import { pocketBaseBackend } from '../core/pocketbase/backend'
import { pocketBaseCrypto } from '../core/pocketbase/runtime'
import type { AuthRecord, CollectionInfo } from '../core/ports'
import { optionsFromPagesConfig } from './plugin-options'

/** The options, or null when the plugin is not configured or its options are bad (reported at start-up). */
function optionsOrNull(factory: unknown): ResolvedOptions | null {
  try {
    return optionsFromPagesConfig(factory)
  } catch {
    return null
  }
}

/** The event's fields as the JS VM names them (goja maps `OAuth2User` to `oAuth2User`). */
interface OAuth2Event {
  auth?: unknown
  record?: unknown
  collection: unknown
  oAuth2User?: { email?: string } | null
  isNewRecord: boolean
  next(): void
}

export function handleOAuth2Request(factory: unknown, event: core.RecordAuthWithOAuth2RequestEvent): void {
  const e = event as unknown as OAuth2Event
  const options = optionsOrNull(factory)
  if (!options) {
    e.next()
    return
  }
  const backend = pocketBaseBackend($app as unknown as core.App)
  const guest = (e.auth ?? null) as AuthRecord | null
  const plan = planGuestLink(
    backend,
    {
      auth: guest,
      record: (e.record ?? null) as AuthRecord | null,
      collection: e.collection as CollectionInfo,
      providerEmail: String(e.oAuth2User?.email ?? ''),
    },
    options,
  )
  if (plan.action === 'none' || !guest) {
    e.next()
    return
  }
  if (plan.action === 'convert') {
    // e.record is the guest itself (PocketBase falls back to the authenticated record). PocketBase
    // saves it, verified, because its email then equals the provider's; the flag and the marker go
    // in the _externalAuths hook below, in the same transaction.
    if (plan.email) takeProviderEmail(backend, e.record as AuthRecord, plan.email)
    e.next()
    return
  }
  // The identity's account is signed in, as it would be without the guest's token.
  e.record = plan.into
  e.isNewRecord = false
  e.next()
  try {
    mergeGuestInto(backend, guest, plan.into, options.anonymousField, options.onMerge, Date.now())
  } catch (error) {
    // The sign-in stands; the guest keeps its data and ends by inactivity.
    backend.log.warn(
      `${PLUGIN_NAME}: could not merge the guest into the OAuth2 account`,
      'guestId',
      guest.id,
      'error',
      describeError(error),
    )
  }
}

export function handleExternalAuthCreate(factory: unknown, event: core.RecordEvent): void {
  event.next()
  const options = optionsOrNull(factory)
  if (!options) return
  const link = event.record
  if (!link) return
  // The event's app is the transaction's: the conversion commits or rolls back with the link.
  const tx = pocketBaseBackend(event.app as unknown as core.App)
  convertLinkedGuest(
    tx,
    { collectionRef: link.getString('collectionRef'), recordRef: link.getString('recordRef') },
    options,
    pocketBaseCrypto,
    Date.now(),
  )
}
