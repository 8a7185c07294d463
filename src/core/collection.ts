/**
 * Finding and checking the auth collection guests live in.
 *
 * Every problem is reported with the collection's name and the change that fixes it, because
 * the person reading it is a developer editing +config.js or a migration.
 */
import { AnonymousAuthError, ErrorCodes } from './errors'
import type { ResolvedOptions } from './options'

interface FieldLike {
  name: string
  type(): string
  required?: boolean
  hidden?: boolean
  system?: boolean
  autogeneratePattern?: string
}

/** Looks up the collection (cached by PocketBase) and checks it can hold guests; throws a coded error. */
export function requireGuestCollection(
  app: core.App,
  collectionName: string,
  options: ResolvedOptions,
): core.Collection {
  let collection: core.Collection
  try {
    collection = app.findCachedCollectionByNameOrId(collectionName)
  } catch {
    throw new AnonymousAuthError(
      ErrorCodes.COLLECTION_NOT_FOUND,
      `Collection '${collectionName}' does not exist. Create it as an auth collection, or set the plugin option 'collection' in pb_hooks/pages/+config.js to an existing auth collection.`,
      { collection: collectionName },
    )
  }
  if (collection.type !== 'auth') {
    throw new AnonymousAuthError(
      ErrorCodes.NOT_AUTH_COLLECTION,
      `Collection '${collectionName}' is a ${collection.type} collection; guests need an auth collection. Set the plugin option 'collection' to an auth collection such as 'users'.`,
      { collection: collectionName },
    )
  }
  requireField(collection, collectionName, options.anonymousField, 'bool', 'anonymousField')
  requireField(collection, collectionName, options.lastSeenField, 'date', 'lastSeenField')
  return collection
}

function requireField(
  collection: core.Collection,
  collectionName: string,
  fieldName: string,
  type: string,
  optionName: string,
): void {
  const field = findField(collection, fieldName)
  const fix = `Run the plugin's migration (it adds 'anonymous' and 'lastSeen' to 'users'), or add a non-required ${type} field '${fieldName}' to '${collectionName}' (README: "Using another collection"), or point the plugin option '${optionName}' at an existing one.`
  if (!field) {
    throw new AnonymousAuthError(
      ErrorCodes.MISSING_FIELD,
      `Collection '${collectionName}' has no ${type} field '${fieldName}'. ${fix}`,
      { collection: collectionName },
    )
  }
  if (field.type() !== type) {
    throw new AnonymousAuthError(
      ErrorCodes.MISSING_FIELD,
      `Field '${fieldName}' of collection '${collectionName}' is a ${field.type()} field; it must be a ${type} field. ${fix}`,
      { collection: collectionName },
    )
  }
  if (field.required) {
    // A required bool rejects `false`, which is what a full account stores.
    throw new AnonymousAuthError(
      ErrorCodes.MISSING_FIELD,
      `Field '${fieldName}' of collection '${collectionName}' must not be required. Untick "Nonempty" for it in the collection settings.`,
      { collection: collectionName },
    )
  }
}

function findField(collection: core.Collection, fieldName: string): FieldLike | null {
  const field = collection.fields.getByName(fieldName) as unknown as FieldLike | null | undefined
  return field ? field : null
}

/** Fields every auth record has and the plugin fills (or PocketBase fills) itself. */
const FILLED_BY_PLUGIN_OR_POCKETBASE = new Set(['id', 'password', 'tokenKey', 'email', 'emailVisibility', 'verified'])

/**
 * Required fields a guest would be created without: custom required fields with no
 * autogenerate pattern. A hook may still fill them, so at start-up this is a warning; at
 * sign-in the save error decides.
 */
export function unfillableRequiredFields(collection: core.Collection, options: ResolvedOptions): string[] {
  const names: string[] = []
  for (const field of collection.fields as unknown as FieldLike[]) {
    if (!field?.required) continue
    if (FILLED_BY_PLUGIN_OR_POCKETBASE.has(field.name)) continue
    if (field.name === options.anonymousField || field.name === options.lastSeenField) continue
    if (field.type() === 'autodate') continue
    if (field.autogeneratePattern) continue
    names.push(field.name)
  }
  return names
}

export function unfillableFieldError(collectionName: string, fields: string[]): AnonymousAuthError {
  const list = fields.map((f) => `'${f}'`).join(', ')
  return new AnonymousAuthError(
    ErrorCodes.UNFILLABLE_REQUIRED_FIELD,
    `Collection '${collectionName}' has required field(s) ${list} that a guest has no value for. Make them optional ("Nonempty" off), give text fields an autogenerate pattern, or fill them in an onRecordCreate hook.`,
    { collection: collectionName },
  )
}
