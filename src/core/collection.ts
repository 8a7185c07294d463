/**
 * Finding and checking the auth collection guests live in.
 *
 * Every problem is reported with the collection's name and the change that fixes it, because
 * the person reading it is a developer editing +config.js or a migration.
 */
import { AnonymousAuthError, ErrorCodes } from './errors'
import type { ResolvedOptions } from './options'
import { type Backend, type CollectionInfo, fieldSettings } from './ports'

type FieldOptions = Pick<ResolvedOptions, 'anonymousField' | 'lastSeenField'>

/** The collection, checked to hold guests; throws a coded error naming the fix. */
export function requireGuestCollection(
  backend: Backend,
  collectionName: string,
  options: FieldOptions,
): CollectionInfo {
  const collection = backend.findCollection(collectionName)
  if (!collection) {
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
  requireField(collection, options.anonymousField, 'bool', 'anonymousField')
  requireField(collection, options.lastSeenField, 'date', 'lastSeenField')
  return collection
}

function requireField(collection: CollectionInfo, fieldName: string, type: string, optionName: string): void {
  const field = collection.fields.getByName(fieldName)
  const where = `collection '${collection.name}'`
  const fix = `Run the plugin's migrations (they add hidden 'anonymous' and 'lastSeen' fields to 'users'), or add a hidden, non-required ${type} field '${fieldName}' to '${collection.name}' (README: "Using another collection"), or point the plugin option '${optionName}' at an existing one.`
  if (!field) {
    throw new AnonymousAuthError(
      ErrorCodes.MISSING_FIELD,
      `Collection '${collection.name}' has no ${type} field '${fieldName}'. ${fix}`,
      {
        collection: collection.name,
      },
    )
  }
  if (field.type() !== type) {
    throw new AnonymousAuthError(
      ErrorCodes.MISSING_FIELD,
      `Field '${fieldName}' of ${where} is a ${field.type()} field; it must be a ${type} field. ${fix}`,
      { collection: collection.name },
    )
  }
  const settings = fieldSettings(field)
  if (settings.required) {
    // A required bool rejects `false`, which is what a full account stores.
    throw new AnonymousAuthError(
      ErrorCodes.MISSING_FIELD,
      `Field '${fieldName}' of ${where} must not be required. Untick "Nonempty" for it in the collection settings.`,
      { collection: collection.name },
    )
  }
  if (!settings.hidden) {
    // A visible field is writable by its owner through the record API: a guest could say it is not one.
    throw new AnonymousAuthError(
      ErrorCodes.UNPROTECTED_FIELD,
      `Field '${fieldName}' of ${where} is not hidden, so users can change it through PocketBase's record API. Tick "Hidden" for it in the collection settings (the plugin's migrations do this for 'users').`,
      { collection: collection.name },
    )
  }
}

/** The password field's settings (PocketBase's defaults where unset). */
export function passwordRules(collection: CollectionInfo): { min: number; max: number; pattern: string; cost: number } {
  const field = collection.fields.getByName('password')
  const settings = field ? fieldSettings(field) : {}
  return {
    // PocketBase's password field: min 0 means no minimum, max 0 means its default of 71.
    min: settings.min ?? 0,
    max: settings.max && settings.max > 0 ? settings.max : 71,
    pattern: settings.pattern ?? '',
    cost: settings.cost ?? 0,
  }
}

/** Fields every auth record has and the plugin fills (or PocketBase fills) itself. */
const FILLED_BY_PLUGIN_OR_POCKETBASE = new Set(['id', 'password', 'tokenKey', 'email', 'emailVisibility', 'verified'])

/**
 * Required fields a guest would be created without: custom required fields with no
 * autogenerate pattern. A hook may still fill them, so at start-up this is a warning; at
 * sign-in the save error decides.
 */
export function unfillableRequiredFields(
  backend: Backend,
  collection: CollectionInfo,
  options: FieldOptions,
): string[] {
  const names: string[] = []
  for (const field of backend.fieldsOf(collection)) {
    const settings = fieldSettings(field)
    const name = settings.name ?? ''
    if (!settings.required || FILLED_BY_PLUGIN_OR_POCKETBASE.has(name)) continue
    if (name === options.anonymousField || name === options.lastSeenField) continue
    if (field.type() === 'autodate' || settings.autogeneratePattern) continue
    names.push(name)
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
