/**
 * The core's Backend port on PocketBase's JS API: the one place in src/core that calls `$app`,
 * builds SQL or filters, and touches PocketBase's globals. The policy modules never see them.
 * What happens here is proven by the end-to-end tests against real PocketBase binaries.
 */
import { parsePocketBaseDate } from '../dates'
import type { AuthRecord, Backend, CollectionInfo, FieldInfo, Logger, OneTimeCode } from '../ports'
import { countersTableExists, SqlCounters } from './sql-counters'

/** A password field's value (PocketBase's PasswordFieldValue): both parts writable. */
interface PasswordValue {
  hash: string
  plain: string
}

interface RelationField {
  name: string
  type(): string
  collectionId: string
  maxSelect: number
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
  readonly log: Logger

  constructor(private readonly app: core.App) {
    this.counters = new SqlCounters(app)
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
    const byLastSeen = `(${fields.lastSeen} != '' && ${fields.lastSeen} < {:cutoff})`
    // Guests from before `lastSeen` existed fall back to `created`, where the collection has it
    // (auth collections made through the API since 0.23 may not).
    const hasCreated = !!collection.fields.getByName('created')
    const stale = hasCreated ? `(${byLastSeen} || (${fields.lastSeen} = '' && created < {:cutoff}))` : byLastSeen
    const filter = `${fields.anonymous} = true && ${stale}`
    const records = this.app.findRecordsByFilter(collection.id, filter, fields.lastSeen, limit, skip, { cutoff })
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
    const otp = new Record(this.app.findCachedCollectionByNameOrId(OTPS))
    otp.set('collectionRef', record.collection().id)
    otp.set('recordRef', record.id)
    otp.setPassword(code) // hashed by the password field (bcrypt at its cost, 8)
    otp.set('sentTo', sentTo)
    this.app.save(otp)
    return oneTimeCode(otp)
  }

  findOneTimeCode(id: string): OneTimeCode | null {
    const otp = this.findOtp(id)
    return otp ? oneTimeCode(otp) : null
  }

  oneTimeCodeMatches(id: string, code: string): boolean {
    const otp = this.findOtp(id)
    return !!otp && otp.validatePassword(code)
  }

  deleteOneTimeCode(id: string): boolean {
    const otp = this.findOtp(id)
    if (!otp) return false
    this.app.delete(otp)
    return true
  }

  deleteOneTimeCodesOf(record: AuthRecord): void {
    this.app.deleteAllOTPsByRecord(asRecord(record))
  }

  sendOneTimeCode(record: AuthRecord, address: string, codeId: string, code: string): void {
    // An unsaved copy addressed to the new email: PocketBase's OTP mail goes to the record's email.
    const copy = this.app.findRecordById(record.collection().id, record.id)
    copy.setEmail(address)
    $mails.sendRecordOTP(this.app, copy, codeId, code)
  }

  mayAuthenticate(record: AuthRecord): boolean {
    // What PocketBase's auth responses check (apis/record_helpers.go): the collection's auth rule,
    // for a request that is not yet signed in to anyone (nil rule: superusers only).
    const collection = asRecord(record).collection()
    return this.app.canAccessRecord(asRecord(record), new RequestInfo({}), collection.authRule as string)
  }

  private findOtp(id: string): core.Record | null {
    return orNull(() => this.app.findRecordById(OTPS, id))
  }
}

/** PocketBase's system collection of one-time passwords. */
const OTPS = '_otps'

function oneTimeCode(otp: core.Record): OneTimeCode {
  return {
    id: otp.id,
    collectionId: otp.getString('collectionRef'),
    recordId: otp.getString('recordRef'),
    sentTo: otp.getString('sentTo'),
    createdMs: parsePocketBaseDate(otp.getString('created')) ?? 0,
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

/** Repoints every relation to `fromId` (in `collectionId`) at `toId`. Returns how many records changed. */
function reassignRelations(app: core.App, collectionId: string, fromId: string, toId: string): number {
  let changed = 0
  for (const collection of app.findAllCollections('base', 'auth')) {
    if (!collection) continue
    for (const field of collection.fields as unknown as RelationField[]) {
      if (field?.type() !== 'relation' || field.collectionId !== collectionId) continue
      for (const record of findReferencing(app, collection.name, field, fromId)) {
        if (!record) continue
        if (field.maxSelect > 1) {
          const ids = record.getStringSlice(field.name).map((id) => (id === fromId ? toId : id))
          record.set(
            field.name,
            ids.filter((id, i) => ids.indexOf(id) === i),
          )
        } else {
          record.set(field.name, toId)
        }
        app.save(record)
        changed++
      }
    }
  }
  return changed
}

function findReferencing(
  app: core.App,
  collectionName: string,
  field: RelationField,
  id: string,
): (core.Record | undefined)[] {
  if (field.maxSelect > 1) {
    // Multiple relations are stored as a JSON array of ids.
    const name = field.name
    return app.findAllRecords(
      collectionName,
      $dbx.exp(
        `EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid([[${name}]]) THEN [[${name}]] ELSE '[]' END) WHERE json_each.value = {:id})`,
        { id },
      ),
    )
  }
  return app.findAllRecords(collectionName, $dbx.hashExp({ [field.name]: id }))
}
