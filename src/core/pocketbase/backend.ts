/**
 * The core's Backend port on PocketBase's JS API: the one place in src/core that calls `$app`,
 * builds SQL or filters, and touches PocketBase's globals. The policy modules never see them.
 * What happens here is proven by the end-to-end tests against real PocketBase binaries.
 */
import type {
  AuthRecord,
  Backend,
  CollectionInfo,
  ExternalAuthInfo,
  FieldInfo,
  Logger,
  OneTimeCode,
  RelationRef,
} from '../ports'
import * as codes from './one-time-codes'
import { referencingWhere, soleReferenceWhere, staleGuestsWhere } from './queries'
import { isReferenced, type RelationField, reassignRelations } from './relations'
import { countersTableExists, SqlCounters } from './sql-counters'
import { SqlMergeJournal } from './sql-merges'

/** A password field's value (PocketBase's PasswordFieldValue): both parts writable. */
interface PasswordValue {
  hash: string
  plain: string
}

/** One per JS VM for `$app` (nothing in it belongs to a request); transactions get their own. */
let rootBackend: { app: core.App; backend: PocketBaseBackend } | undefined

/** The Backend on `app`: the VM's shared one for `$app`, a new one for a transaction's app. */
export function pocketBaseBackend(app: core.App): Backend {
  if (rootBackend?.app !== app) rootBackend = { app, backend: new PocketBaseBackend(app) }
  return rootBackend.backend
}

/** A class, so that making one for each transaction is one small object, not two dozen closures. */
class PocketBaseBackend implements Backend {
  readonly counters: SqlCounters
  readonly merges: SqlMergeJournal
  readonly log: Logger

  constructor(private readonly app: core.App) {
    this.counters = new SqlCounters(app)
    this.merges = new SqlMergeJournal(app)
    this.log = {
      info: (message, ...keyValues) => app.logger().info(message, ...keyValues),
      warn: (message, ...keyValues) => app.logger().warn(message, ...keyValues),
      error: (message, ...keyValues) => app.logger().error(message, ...keyValues),
    }
  }

  get hookApp(): core.App {
    return this.app
  }

  findCollection(nameOrId: string): CollectionInfo | null {
    return orNull(() => this.app.findCachedCollectionByNameOrId(nameOrId))
  }

  fieldsOf(collection: CollectionInfo): FieldInfo[] {
    const list = asCollection(collection).fields as unknown as FieldInfo[]
    const fields: FieldInfo[] = []
    for (let i = 0; i < list.length; i++) if (list[i]) fields.push(list[i]!)
    return fields
  }

  findRecordById(collection: CollectionInfo, id: string): AuthRecord | null {
    return orNull(() => this.app.findRecordById(collection.id, id))
  }

  findAuthRecordByToken(token: string): AuthRecord | null {
    return orNull(() => this.app.findAuthRecordByToken(token, 'auth'))
  }

  verifiesAuthToken(record: AuthRecord, token: string): boolean {
    try {
      const key = record.tokenKey() + asRecord(record).collection().authToken.secret
      const claims = $security.parseJWT(token, key) as { type?: unknown } | undefined
      return claims?.type === 'auth'
    } catch {
      return false // bad signature, algorithm or expiry
    }
  }

  findAuthRecordByEmail(collection: CollectionInfo, email: string): AuthRecord | null {
    return orNull(() => this.app.findAuthRecordByEmail(collection.id, email))
  }

  newRecord(collection: CollectionInfo): AuthRecord {
    return new Record(asCollection(collection))
  }

  save(record: AuthRecord): void {
    this.app.save(asRecord(record))
  }

  delete(record: AuthRecord): void {
    this.app.delete(asRecord(record))
  }

  transaction<T>(fn: (tx: Backend) => T): T {
    return inTransaction(this.app, fn)
  }

  passwordHash(record: AuthRecord): string {
    const value = asRecord(record).getRaw('password') as PasswordValue | undefined
    return value && typeof value.hash === 'string' ? value.hash : ''
  }

  setPasswordHash(record: AuthRecord, hash: string): void {
    asRecord(record).setRaw('password', passwordValue(record, hash))
  }

  setPasswordForValidation(record: AuthRecord, password: string): void {
    const value = passwordValue(record, this.passwordHash(record))
    value.plain = password
    asRecord(record).setRaw('password', value)
  }

  validate(record: AuthRecord): void {
    this.app.validate(asRecord(record))
  }

  hashPassword(collection: CollectionInfo, password: string): string {
    const scratch = new Record(asCollection(collection))
    scratch.setPassword(password) // bcrypt, at the field's cost
    return (scratch.getRaw('password') as PasswordValue).hash
  }

  writeDateQuietly(record: AuthRecord, field: string, date: string): void {
    // The one write connection (see sql-counters.ts: on 0.25 db() would write from the read pool).
    this.app
      .nonconcurrentDB()
      .newQuery(`UPDATE {{${record.collection().name}}} SET [[${field}]] = {:date} WHERE [[id]] = {:id}`)
      .bind({ date, id: record.id })
      .execute()
  }

  findStaleGuests(
    collection: CollectionInfo,
    fields: { anonymous: string; lastSeen: string },
    cutoff: string,
    limit: number,
    skip: number,
  ): AuthRecord[] {
    const where = staleGuestsWhere(fields, !!collection.fields.getByName('created'))
    const records = arrayOf(new Record())
    this.app
      .recordQuery(collection.id)
      .andWhere($dbx.exp(where, { cutoff }))
      .orderBy(`${fields.lastSeen} ASC`)
      .limit(limit)
      .offset(skip)
      .all(records)
    return records.filter((record): record is core.Record => !!record)
  }

  countGuests(collection: CollectionInfo, anonymousField: string, markerDigest: string): number {
    // The (anonymous, lastSeen) index narrows to flagged rows; the suffix test is the marker.
    return this.app.countRecords(
      collection.id,
      $dbx.hashExp({ [anonymousField]: true }),
      $dbx.exp('substr([[password]], {:from}) = {:digest}', { from: -markerDigest.length, digest: markerDigest }),
    )
  }

  reassignRelations(collection: CollectionInfo, fromId: string, toId: string): number {
    return reassignRelations(this.app, collection.id, fromId, toId)
  }

  relationsTo(collection: CollectionInfo): RelationRef[] {
    const refs: RelationRef[] = []
    for (const owner of this.app.findAllCollections('base', 'auth')) {
      if (!owner) continue
      for (const field of owner.fields as unknown as RelationField[]) {
        if (field?.type() !== 'relation' || field.collectionId !== collection.id) continue
        refs.push({
          collection: owner,
          field: field.name,
          pointsAt: collection.id,
          multiple: field.maxSelect > 1,
          required: !!field.required,
          cascadeDelete: !!field.cascadeDelete,
        })
      }
    }
    return refs
  }

  findReferencing(ref: RelationRef, id: string, limit: number): AuthRecord[] {
    const where = referencingWhere({ name: ref.field, maxSelect: ref.multiple ? 2 : 1 })
    return this.queryReferencing(ref, id, $dbx.exp(where, { id }), limit)
  }

  findSoleReference(ref: RelationRef, id: string): AuthRecord | null {
    const where = soleReferenceWhere({ name: ref.field, maxSelect: ref.multiple ? 2 : 1 })
    return this.queryReferencing(ref, id, $dbx.exp(where, { id }), 1)[0] ?? null
  }

  relationIds(record: AuthRecord, field: string): string[] {
    return asRecord(record)
      .getStringSlice(field)
      .filter((id) => !!id)
  }

  saveNoValidate(record: AuthRecord): void {
    this.app.saveNoValidate(asRecord(record))
  }

  writeQuietly(record: AuthRecord, field: string, value: string): void {
    this.app
      .nonconcurrentDB()
      .newQuery(`UPDATE {{${record.collection().name}}} SET [[${field}]] = {:value} WHERE [[id]] = {:id}`)
      .bind({ value, id: record.id })
      .execute()
  }

  now(): number {
    return Date.now()
  }

  private queryReferencing(ref: RelationRef, id: string, where: dbx.Expression, limit: number): core.Record[] {
    const records = arrayOf(new Record()) as core.Record[]
    let query = this.app.recordQuery(ref.collection.id).andWhere(where)
    // Never the guest itself (a relation of its own collection to itself).
    if (ref.collection.id === ref.pointsAt) query = query.andWhere($dbx.not($dbx.hashExp({ id })))
    query.limit(limit).all(records)
    return records.filter((record): record is core.Record => !!record)
  }

  externalAuthsOf(record: AuthRecord): ExternalAuthInfo[] {
    const rows = this.app.findRecordsByFilter(
      EXTERNAL_AUTHS,
      'collectionRef = {:collection} && recordRef = {:record}',
      'created',
      0,
      0,
      { collection: record.collection().id, record: record.id },
    )
    const list: ExternalAuthInfo[] = []
    for (const row of rows) {
      if (!row) continue
      list.push({
        provider: row.getString('provider'),
        providerId: row.getString('providerId'),
        created: row.getString('created'),
      })
    }
    return list
  }

  linkExternalAuth(record: AuthRecord, provider: string, providerId: string): void {
    const row = new Record(this.app.findCachedCollectionByNameOrId(EXTERNAL_AUTHS))
    row.set('collectionRef', record.collection().id)
    row.set('recordRef', record.id)
    row.set('provider', provider)
    row.set('providerId', providerId)
    this.app.save(row)
  }

  clearGuestQuietly(record: AuthRecord, anonymousField: string, passwordHash: string): void {
    this.app
      .nonconcurrentDB()
      .newQuery(
        `UPDATE {{${record.collection().name}}} SET [[${anonymousField}]] = 0, [[password]] = {:hash} WHERE [[id]] = {:id}`,
      )
      .bind({ hash: passwordHash, id: record.id })
      .execute()
  }

  isReferenced(collection: CollectionInfo, id: string): boolean {
    return isReferenced(this.app, collection.id, id)
  }

  countersReady(): boolean {
    return countersTableExists(this.app)
  }

  sendVerificationEmail(record: AuthRecord): void {
    $mails.sendRecordVerification(this.app, asRecord(record))
  }

  pause(ms: number): void {
    sleep(ms)
  }

  createOneTimeCode(record: AuthRecord, code: string, sentTo: string): OneTimeCode {
    return codes.createOneTimeCode(this.app, record, code, sentTo)
  }

  findOneTimeCode(id: string): OneTimeCode | null {
    return codes.findOneTimeCode(this.app, id)
  }

  oneTimeCodeMatches(id: string, code: string): boolean {
    return codes.oneTimeCodeMatches(this.app, id, code)
  }

  deleteOneTimeCode(id: string): boolean {
    return codes.deleteOneTimeCode(this.app, id)
  }

  deleteOneTimeCodesOf(record: AuthRecord): void {
    this.app.deleteAllOTPsByRecord(asRecord(record))
  }

  sendOneTimeCode(record: AuthRecord, address: string, codeId: string, code: string): void {
    codes.sendOneTimeCode(this.app, record, address, codeId, code)
  }

  mayAuthenticate(record: AuthRecord): boolean {
    // What PocketBase's auth responses check (apis/record_helpers.go): the collection's auth rule,
    // for a request that is not yet signed in to anyone (nil rule: superusers only).
    const collection = asRecord(record).collection()
    return this.app.canAccessRecord(asRecord(record), new RequestInfo({}), collection.authRule as string)
  }
}

/** PocketBase's finders throw when nothing matches; the ports answer null. */
function orNull<T>(find: () => T): T | null {
  try {
    return find() ?? null
  } catch {
    return null
  }
}

function asRecord(record: AuthRecord): core.Record {
  return record as unknown as core.Record
}

function asCollection(collection: CollectionInfo): core.Collection {
  return collection as unknown as core.Collection
}

/** The field's own value type, holding a ready hash: validation accepts it without hashing. */
function passwordValue(record: AuthRecord, hash: string): PasswordValue {
  const field = asRecord(record).collection().fields.getByName('password') as unknown as {
    prepareValue(record: core.Record, raw: unknown): PasswordValue
  }
  return field.prepareValue(asRecord(record), hash)
}

/**
 * `app.runInTransaction` with the thrown error preserved. goja turns an error thrown inside the
 * callback into a Go error on the way out, which loses its class and `code`; we keep the original
 * and rethrow it. Inside, only the transaction's app may be used: `$app` would wait for the one
 * writer (deadlock).
 */
function inTransaction<T>(app: core.App, fn: (tx: Backend) => T): T {
  let result: T | undefined
  let thrown: { error: unknown } | null = null
  try {
    app.runInTransaction((txApp) => {
      try {
        result = fn(new PocketBaseBackend(txApp))
      } catch (error) {
        thrown = { error }
        throw error
      }
    })
  } catch (error) {
    if (thrown) throw (thrown as { error: unknown }).error
    throw error
  }
  return result as T
}

/** PocketBase's system collection of OAuth2 identities. */
const EXTERNAL_AUTHS = '_externalAuths'
