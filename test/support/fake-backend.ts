// An in-memory PocketBase behind the core's Backend port (src/core/ports.ts), for unit tests.
//
// Small on purpose: it models only what the core relies on, and each rule says which PocketBase
// behaviour it mirrors. What it cannot prove (real SQL, goja, bcrypt) the e2e tests prove against
// real PocketBase binaries. State lives in one `FakeDb`; the Backend handed to a transaction is a
// second view of it, so code that writes through the outer app inside a transaction fails here
// instead of deadlocking PocketBase's single writer.
import { createHash } from 'node:crypto'
import jwt from 'jsonwebtoken'
import type {
  AuthRecord,
  Backend,
  CollectionInfo,
  CounterSlot,
  CounterStore,
  ExternalAuthInfo,
  FieldInfo,
  FieldSettings,
  Logger,
  MergeJournal,
  MergeMove,
  OneTimeCode,
  PendingMerge,
  RelationRef,
} from '../../src/core/ports.ts'

// ---------------------------------------------------------------------------------------------
// Collections and fields

/** A field as PocketBase's collection schema has it: its type, and the settings of that type. */
export interface FieldSpec extends FieldSettings {
  name: string
  type: string
  /** relation: the collection it points at, how many ids it holds, whether deletes cascade. */
  collectionId?: string
  maxSelect?: number
  cascadeDelete?: boolean
}

export interface FakeCollection extends CollectionInfo {
  readonly specs: FieldSpec[]
  /** The signing secrets of each token type (PocketBase's collection.authToken.secret, ...). */
  readonly secrets: Record<TokenType, string>
  /** The collection's auth rule, as a predicate on a record (PocketBase's `authRule`; default: everyone). */
  authRule: (record: FakeRecord) => boolean
}

export type TokenType = 'auth' | 'file' | 'verification' | 'passwordReset' | 'emailChange'
const TOKEN_TYPES: TokenType[] = ['auth', 'file', 'verification', 'passwordReset', 'emailChange']

/** PocketBase's field objects: settings as properties, the type as a method (`field.type()`). */
function fieldInfo(spec: FieldSpec): FieldInfo {
  const { type, ...settings } = spec
  return { ...settings, type: () => type } as FieldInfo
}

/** The fields PocketBase gives every auth collection (0.23+), plus the plugin's two hidden ones. */
export function authFields(overrides: Record<string, Partial<FieldSpec> | null> = {}): FieldSpec[] {
  const base: FieldSpec[] = [
    { name: 'id', type: 'text', system: true, required: true, autogeneratePattern: '[a-z0-9]{15}' },
    { name: 'password', type: 'password', system: true, required: true, hidden: true, min: 8 },
    { name: 'tokenKey', type: 'text', system: true, required: true, hidden: true, autogeneratePattern: '[a-z0-9]{50}' },
    { name: 'email', type: 'email', system: true, required: true },
    { name: 'emailVisibility', type: 'bool', system: true },
    { name: 'verified', type: 'bool', system: true },
    { name: 'created', type: 'autodate' },
    { name: 'updated', type: 'autodate' },
    { name: 'anonymous', type: 'bool', hidden: true },
    { name: 'lastSeen', type: 'date', hidden: true },
  ]
  const fields = base.map((f) => ({ ...f, ...overrides[f.name] }))
  for (const [name, spec] of Object.entries(overrides)) {
    if (!base.some((f) => f.name === name) && spec) fields.push({ name, type: 'text', ...spec } as FieldSpec)
  }
  return fields.filter((f) => overrides[f.name] !== null)
}

export interface CollectionSpec {
  type?: 'auth' | 'base' | 'view'
  fields?: FieldSpec[]
  /** Auth token lifetime in seconds (PocketBase's default for users: 7 days). */
  tokenDurationSeconds?: number
  passwordAuth?: boolean
  /** PocketBase's `otp.duration` and `otp.length` (default 180 and 8, as a new collection has them). */
  otp?: { duration: number; length: number }
  mfa?: boolean
}

// ---------------------------------------------------------------------------------------------
// Records

type Row = Record<string, unknown>

/** A record object loaded from the store, like PocketBase's `core.Record`: changes stay in it until saved. */
export class FakeRecord implements AuthRecord {
  /** The plain password given for validation only (PasswordFieldValue.Plain). */
  plain = ''
  constructor(
    private readonly owner: FakeCollection,
    readonly data: Row,
    private readonly db: FakeDb,
  ) {}
  get id(): string {
    return String(this.data.id ?? '')
  }
  set id(value: string) {
    this.data.id = value
  }
  collection(): FakeCollection {
    return this.owner
  }
  email(): string {
    return this.getString('email')
  }
  verified(): boolean {
    return this.getBool('verified')
  }
  tokenKey(): string {
    return this.getString('tokenKey')
  }
  /** PocketBase's GetBool: cast.ToBool of the raw value. */
  getBool(field: string): boolean {
    const value = this.data[field]
    return value === true || value === 1 || value === 'true' || value === '1'
  }
  getString(field: string): string {
    const value = this.data[field]
    return value === undefined || value === null ? '' : String(value)
  }
  set(field: string, value: unknown): void {
    this.data[field] = value
  }
  setEmail(email: string): void {
    this.data.email = email
  }
  setVerified(verified: boolean): void {
    this.data.verified = verified
  }
  setEmailVisibility(visible: boolean): void {
    this.data.emailVisibility = visible
  }
  /** PocketBase's RefreshTokenKey: a new random key, so every token signed with the old one fails. */
  refreshTokenKey(): void {
    this.data.tokenKey = this.db.randomId('tk', 50)
  }
  /** PocketBase's NewAuthToken: HS256 over {id, type, collectionId, refreshable, exp}, key = tokenKey + secret. */
  newAuthToken(): string {
    return this.db.signToken(this, 'auth')
  }
}

// ---------------------------------------------------------------------------------------------
// The store

export interface Clock {
  now(): number
}

export interface LogEntry {
  level: 'info' | 'warn' | 'error'
  message: string
  keyValues: unknown[]
}

/** Operations a test can interleave with or fail (see `FakeBackend.before`). */
export type Operation =
  | 'transaction'
  | 'save'
  | 'delete'
  | 'validate'
  | 'hashPassword'
  | 'findStaleGuests'
  | 'findReferencing'
  | 'countGuests'
  | 'writeDateQuietly'
  | 'reassignRelations'
  | 'saveNoValidate'
  | 'writeQuietly'
  | 'merges.insert'
  | 'merges.update'
  | 'linkExternalAuth'
  | 'clearGuestQuietly'
  | 'sendVerificationEmail'
  | 'createOneTimeCode'
  | 'oneTimeCodeMatches'
  | 'deleteOneTimeCode'
  | 'sendOneTimeCode'
  | 'counters.read'
  | 'counters.total'
  | 'counters.add'
  | 'counters.addBelow'
  | 'counters.prune'
  | 'relationsTo'

type BeforeHook = (args: unknown[]) => void

interface Counter {
  count: number
  expires: number
}

/** A row of PocketBase's `_otps`: the code only as its (fake) hash. */
export interface OtpRow extends OneTimeCode {
  hash: string
}

/** A one-time code mail as PocketBase's mailer would have sent it. */
export interface SentCode {
  to: string
  codeId: string
  code: string
  /** The record whose fields filled the template. */
  recordId: string
}

export class FakeDb {
  readonly collections: FakeCollection[] = []
  rows = new Map<string, Row[]>() // collection id -> rows, in insertion order (rowid)
  counters = new Map<string, Counter>() // `${bucket}\u0000${slot}`
  /** PocketBase's `_externalAuths` rows. */
  externalAuths: (ExternalAuthInfo & { collectionRef: string; recordRef: string })[] = []
  countersTable = true
  /** The merge journal (src/core/pocketbase/sql-merges.ts): one row per guest, and the undo log. */
  merges = new Map<string, PendingMerge>()
  mergeMoves: { merge: string; move: MergeMove }[] = []
  mergesTable = true
  txOpen = false
  readonly trace: string[] = []
  readonly bcryptCalls: { password: string; inTransaction: boolean }[] = []
  readonly sentEmails: string[] = []
  otps = new Map<string, OtpRow>()
  readonly sentCodes: SentCode[] = []
  readonly logs: LogEntry[] = []
  readonly hooks = new Map<Operation, { fn: BeforeHook; times: number }[]>()
  private sequence = 0

  constructor(readonly clock: Clock) {}

  randomId(prefix: string, length: number): string {
    this.sequence++
    return `${prefix}${String(this.sequence).padStart(length - prefix.length, '0')}`
  }

  collection(nameOrId: string): FakeCollection | undefined {
    // PocketBase's findCachedCollectionByNameOrId: the id, or the name case-insensitively.
    const lower = nameOrId.toLowerCase()
    return this.collections.find((c) => c.id === nameOrId || c.name.toLowerCase() === lower)
  }

  table(collection: CollectionInfo): Row[] {
    const rows = this.rows.get(collection.id) ?? []
    this.rows.set(collection.id, rows)
    return rows
  }

  load(collection: FakeCollection, row: Row): FakeRecord {
    return new FakeRecord(collection, structuredClone(row), this)
  }

  signToken(
    record: FakeRecord,
    type: TokenType,
    expSeconds?: number,
    claimsOverride: Record<string, unknown> = {},
  ): string {
    const collection = record.collection()
    const exp = expSeconds ?? Math.floor(this.clock.now() / 1000) + collection.authToken.duration
    const claims = {
      id: record.id,
      type,
      collectionId: collection.id,
      refreshable: type === 'auth',
      exp,
      ...claimsOverride,
    }
    return jwt.sign(claims, record.tokenKey() + collection.secrets[type], { algorithm: 'HS256', noTimestamp: true })
  }

  runHooks(op: Operation, args: unknown[]): void {
    const list = this.hooks.get(op)
    if (!list || list.length === 0) return
    const hook = list[0]!
    if (--hook.times <= 0) list.shift()
    hook.fn(args)
  }

  snapshot(): () => void {
    const rows = new Map([...this.rows].map(([id, list]) => [id, structuredClone(list)]))
    const counters = new Map([...this.counters].map(([k, v]) => [k, { ...v }]))
    const externalAuths = structuredClone(this.externalAuths)
    const otps = new Map([...this.otps].map(([k, v]) => [k, { ...v }]))
    const merges = structuredClone(this.merges)
    const mergeMoves = structuredClone(this.mergeMoves)
    return () => {
      this.rows = rows
      this.counters = counters
      this.externalAuths = externalAuths
      this.otps = otps
      this.merges = merges
      this.mergeMoves = mergeMoves
    }
  }
}

/** ozzo-validation's Errors.Error(), which PocketBase's save and validate return: sorted `field: message; ...`. */
function validationError(fields: Record<string, string>): Error {
  const text = Object.keys(fields)
    .sort()
    .map((f) => `${f}: ${fields[f]}`)
    .join('; ')
  return new Error(`${text}.`)
}

// ---------------------------------------------------------------------------------------------
// The Backend

export class FakeBackend implements Backend {
  readonly db: FakeDb
  readonly counters: CounterStore
  readonly merges: MergeJournal
  readonly log: Logger
  readonly hookApp: { app: 'outer' | 'transaction' }

  constructor(
    clock: Clock,
    db?: FakeDb,
    private readonly inTransaction = false,
  ) {
    this.db = db ?? new FakeDb(clock)
    this.hookApp = { app: inTransaction ? 'transaction' : 'outer' }
    this.counters = this.counterStore()
    this.merges = this.mergeJournal()
    const entry =
      (level: LogEntry['level']) =>
      (message: string, ...keyValues: unknown[]) => {
        this.db.logs.push({ level, message, keyValues })
      }
    this.log = { info: entry('info'), warn: entry('warn'), error: entry('error') }
  }

  // --- set-up and inspection, for tests ------------------------------------------------------

  addCollection(name: string, spec: CollectionSpec = {}): FakeCollection {
    const type = spec.type ?? 'auth'
    const specs = spec.fields ?? (type === 'auth' ? authFields() : [{ name: 'id', type: 'text', system: true }])
    const id = `pbc_${name}`
    const infos = specs.map(fieldInfo)
    const collection: FakeCollection = {
      id,
      name,
      type,
      specs,
      fields: { getByName: (field) => infos[specs.findIndex((s) => s.name === field)] ?? null },
      authToken: { duration: spec.tokenDurationSeconds ?? 604800, secret: `auth-secret-of-${id}` },
      passwordAuth: { enabled: spec.passwordAuth ?? true },
      otp: spec.otp ?? { duration: 180, length: 8 },
      mfa: { enabled: spec.mfa ?? false },
      authRule: () => true,
      secrets: Object.fromEntries(TOKEN_TYPES.map((t) => [t, `${t}-secret-of-${id}`])) as Record<TokenType, string>,
    }
    this.db.collections.push(collection)
    return collection
  }

  collection(name: string): FakeCollection {
    const found = this.db.collection(name)
    if (!found) throw new Error(`no collection ${name}`)
    return found
  }

  /** A row written straight into the table, as an SQL fixture would: no validation, no hooks. */
  insert(collectionName: string, data: Row): FakeRecord {
    const collection = this.collection(collectionName)
    const now = pocketBaseDate(this.db.clock.now())
    const row: Row = {
      id: this.db.randomId('r', 15),
      tokenKey: this.db.randomId('tk', 50),
      created: now,
      updated: now,
      ...data,
    }
    this.db.table(collection).push(row)
    return this.db.load(collection, row)
  }

  /** The stored row of a record (null once deleted): what the database holds, not a loaded copy. */
  row(collectionName: string, id: string): Row | null {
    const row = this.db.table(this.collection(collectionName)).find((r) => r.id === id)
    return row ? structuredClone(row) : null
  }

  /** Another request's committed write: changes the stored row directly (no validation, no hooks). */
  change(collectionName: string, id: string, patch: Row): void {
    const row = this.db.table(this.collection(collectionName)).find((r) => r.id === id)
    if (!row) throw new Error(`no row ${id}`)
    Object.assign(row, patch)
  }

  /** Another request's committed delete (no cascade). */
  remove(collectionName: string, id: string): void {
    const table = this.db.table(this.collection(collectionName))
    table.splice(
      table.findIndex((r) => r.id === id),
      1,
    )
  }

  rowsOf(collectionName: string): Row[] {
    return structuredClone(this.db.table(this.collection(collectionName)))
  }

  /** A token of any type, signed like PocketBase signs it, optionally with another expiry. */
  token(
    record: FakeRecord,
    type: TokenType = 'auth',
    expSeconds?: number,
    claimsOverride: Record<string, unknown> = {},
  ): string {
    return this.db.signToken(record, type, expSeconds, claimsOverride)
  }

  /**
   * Runs `fn` just before the next `times` calls of `op`: a concurrent request that commits
   * first (it writes through the store directly), or a failure (it throws).
   */
  before(op: Operation, fn: BeforeHook, times = 1): void {
    const list = this.db.hooks.get(op) ?? []
    list.push({ fn, times })
    this.db.hooks.set(op, list)
  }

  /** The merge journal's tables are missing (the plugin's third migration did not run). */
  dropMergesTable(): void {
    this.db.mergesTable = false
  }

  /** The merge journal's rows, for assertions. */
  mergeRows(): PendingMerge[] {
    return structuredClone([...this.db.merges.values()])
  }

  /** How many undo-log rows the journal holds. */
  mergeMoveCount(): number {
    return this.db.mergeMoves.length
  }

  /** The plugin's counters table is missing (its migration did not run). */
  dropCountersTable(): void {
    this.db.countersTable = false
  }

  get trace(): readonly string[] {
    return this.db.trace
  }
  get bcryptCalls(): readonly { password: string; inTransaction: boolean }[] {
    return this.db.bcryptCalls
  }
  get logs(): readonly LogEntry[] {
    return this.db.logs
  }
  get sentEmails(): readonly string[] {
    return this.db.sentEmails
  }
  /** Every one-time code mail sent, oldest first. */
  get sentCodes(): readonly SentCode[] {
    return this.db.sentCodes
  }
  /** The stored `_otps` rows. */
  otpRows(): OtpRow[] {
    return [...this.db.otps.values()].map((row) => ({ ...row }))
  }
  /** Every counter row, for assertions. */
  counterRows(): { bucket: string; slot: number; count: number; expires: number }[] {
    return [...this.db.counters].map(([key, c]) => {
      const [bucket, slot] = key.split('\u0000') as [string, string]
      return { bucket, slot: Number(slot), count: c.count, expires: c.expires }
    })
  }

  /** What PocketBase's password check would say: the fake bcrypt of `password` is the stored hash. */
  passwordMatches(record: FakeRecord, password: string): boolean {
    const stored = this.row(record.collection().name, record.id)
    return !!stored && stored.password === fakeBcrypt(password, passwordCost(record.collection()))
  }

  // --- Backend --------------------------------------------------------------------------------

  findCollection(nameOrId: string): CollectionInfo | null {
    return this.db.collection(nameOrId) ?? null
  }

  fieldsOf(collection: CollectionInfo): FieldInfo[] {
    return (collection as FakeCollection).specs.map((spec) => collection.fields.getByName(spec.name)!)
  }

  findRecordById(collection: CollectionInfo, id: string): FakeRecord | null {
    const fake = this.db.collection(collection.id)
    const row = fake && this.db.table(fake).find((r) => r.id === id)
    return fake && row ? this.db.load(fake, row) : null
  }

  /**
   * PocketBase's findAuthRecordByToken(token, 'auth'): claims id/collectionId/type present, type
   * 'auth', the record exists in an auth collection, and the HS256 signature verifies under the
   * record's CURRENT token key + the collection's secret for that type, with `exp` in the future.
   */
  findAuthRecordByToken(token: string): FakeRecord | null {
    let claims: Row
    try {
      claims = parseUnverifiedClaims(token, this.db.clock) as Row
    } catch {
      return null
    }
    const { id, collectionId, type } = claims
    if (typeof id !== 'string' || typeof collectionId !== 'string' || typeof type !== 'string') return null
    if (!id || !collectionId || type !== 'auth') return null
    const collection = this.db.collection(collectionId)
    const record = collection ? this.findRecordById(collection, id) : null
    if (record?.collection().type !== 'auth') return null
    return this.verifiesAuthToken(record, token) ? record : null
  }

  /** The signature, algorithm, expiry and type check of findAuthRecordByToken, on `record` as given. */
  verifiesAuthToken(record: AuthRecord, token: string): boolean {
    const fake = record as FakeRecord
    try {
      const claims = jwt.verify(token, fake.tokenKey() + fake.collection().secrets.auth, {
        algorithms: ['HS256'],
        clockTimestamp: Math.floor(this.db.clock.now() / 1000),
      }) as Row
      return claims.type === 'auth'
    } catch {
      return false
    }
  }

  /** Case-insensitive, like PocketBase's lookup on a `COLLATE NOCASE` email index. */
  findAuthRecordByEmail(collection: CollectionInfo, email: string): FakeRecord | null {
    const row = this.db.table(collection).find((r) => String(r.email ?? '').toLowerCase() === email.toLowerCase())
    return row ? this.db.load(collection as FakeCollection, row) : null
  }

  newRecord(collection: CollectionInfo): FakeRecord {
    return new FakeRecord(collection as FakeCollection, {}, this.db)
  }

  /** PocketBase's app.save: validation of every field, then insert or update; autogenerated values. */
  save(record: AuthRecord): void {
    this.write('save', [record])
    const fake = record as FakeRecord
    const collection = fake.collection()
    const table = this.db.table(collection)
    const isNew = !fake.id || !table.some((r) => r.id === fake.id)
    if (isNew) {
      if (!fake.id) fake.id = this.db.randomId('r', 15)
      if (!fake.tokenKey() && collection.type === 'auth') fake.data.tokenKey = this.db.randomId('tk', 50)
    }
    this.check(fake)
    fake.plain = ''
    const now = pocketBaseDate(this.db.clock.now())
    if (collection.fields.getByName('updated')) fake.data.updated = now
    if (isNew) {
      if (collection.fields.getByName('created')) fake.data.created = now
      table.push(structuredClone(fake.data))
    } else {
      const index = table.findIndex((r) => r.id === fake.id)
      table[index] = structuredClone(fake.data)
    }
    this.db.trace.push(`save:${collection.name}`)
  }

  /** PocketBase's app.delete: cascade-deletes records whose cascading relation points at it; unsets the others. */
  delete(record: AuthRecord): void {
    this.write('delete', [record])
    const target = record as FakeRecord
    const table = this.db.table(target.collection())
    const index = table.findIndex((r) => r.id === target.id)
    if (index < 0) throw new Error('sql: no rows in result set')
    table.splice(index, 1)
    this.db.trace.push(`delete:${target.collection().name}`)
    // PocketBase deletes an auth record's OAuth2 links with it.
    this.db.externalAuths = this.db.externalAuths.filter(
      (a) => !(a.recordRef === target.id && a.collectionRef === target.collection().id),
    )
    // PocketBase's recordRefHooks: deleting an auth record deletes its `_otps` rows.
    for (const [id, otp] of this.db.otps) if (otp.recordId === target.id) this.db.otps.delete(id)
    // deleteRefRecords: the id goes; a cascading field left empty deletes its record, a required
    // one left empty refuses the whole deletion (the transaction rolls it back), others are unset.
    for (const { collection, field, row } of this.referencing(target.collection().id, target.id)) {
      const rest = this.relationIdsOf(row[field.name]).filter((x) => x !== target.id)
      if (field.cascadeDelete && rest.length === 0) {
        this.delete(this.db.load(collection, row))
      } else if (field.required && rest.length === 0) {
        throw new Error(
          `the record cannot be deleted because it is part of a required reference in record ${row.id} (${collection.name} collection)`,
        )
      } else {
        row[field.name] = (field.maxSelect ?? 1) > 1 ? rest : ''
      }
    }
  }

  /**
   * PocketBase's runInTransaction: one writer at a time; a throw rolls everything back and the
   * original error comes out (src/core/pocketbase/backend.ts keeps it). A nested call on the
   * transaction's app runs in the same transaction.
   */
  transaction<T>(fn: (tx: Backend) => T): T {
    if (this.inTransaction) return fn(this)
    this.db.runHooks('transaction', [])
    if (this.db.txOpen) throw new Error('fake PocketBase: a second transaction while one is open would deadlock')
    const restore = this.db.snapshot()
    this.db.txOpen = true
    this.db.trace.push('tx:begin')
    try {
      const result = fn(new FakeBackend(this.db.clock, this.db, true))
      this.db.trace.push('tx:commit')
      return result
    } catch (error) {
      restore()
      this.db.trace.push('tx:rollback')
      throw error
    } finally {
      this.db.txOpen = false
    }
  }

  passwordHash(record: AuthRecord): string {
    return (record as FakeRecord).getString('password')
  }

  setPasswordHash(record: AuthRecord, hash: string): void {
    const fake = record as FakeRecord
    fake.data.password = hash
    fake.plain = ''
  }

  setPasswordForValidation(record: AuthRecord, password: string): void {
    ;(record as FakeRecord).plain = password
  }

  validate(record: AuthRecord): void {
    this.db.runHooks('validate', [record])
    this.db.trace.push('validate')
    this.check(record as FakeRecord)
  }

  /** Stands in for bcrypt: deterministic and cheap, but counted, with whether a transaction was open. */
  hashPassword(collection: CollectionInfo, password: string): string {
    this.db.runHooks('hashPassword', [password])
    this.db.bcryptCalls.push({ password, inTransaction: this.db.txOpen })
    this.db.trace.push('bcrypt')
    return fakeBcrypt(password, passwordCost(collection))
  }

  /** An SQL UPDATE of one column: no validation, no `updated` change, nothing when the row is gone. */
  writeDateQuietly(record: AuthRecord, field: string, date: string): void {
    this.write('writeDateQuietly', [record, field, date])
    if (!record.collection().fields.getByName(field)) throw new Error(`SQL logic error: no such column: ${field}`)
    const row = this.db.table(record.collection()).find((r) => r.id === record.id)
    if (row) row[field] = date
    this.db.trace.push(`writeDateQuietly:${field}`)
  }

  /**
   * The SQL filter of src/core/pocketbase/backend.ts: `anonymous = true` and last activity before
   * the cutoff (`created` when lastSeen is empty and the collection has it), ordered by lastSeen.
   */
  findStaleGuests(
    collection: CollectionInfo,
    fields: { anonymous: string; lastSeen: string },
    cutoff: string,
    limit: number,
    skip: number,
  ): FakeRecord[] {
    this.db.runHooks('findStaleGuests', [collection, fields, cutoff, limit, skip])
    const hasCreated = !!collection.fields.getByName('created')
    const stale = this.db.table(collection).filter((row) => {
      if (row[fields.anonymous] !== true) return false
      const lastSeen = String(row[fields.lastSeen] ?? '')
      if (lastSeen !== '') return lastSeen < cutoff
      return hasCreated && String(row.created ?? '') < cutoff
    })
    const ordered = stale
      .map((row, i) => ({ row, i }))
      .sort(
        (a, b) => String(a.row[fields.lastSeen] ?? '').localeCompare(String(b.row[fields.lastSeen] ?? '')) || a.i - b.i,
      )
    return ordered.slice(skip, skip + limit).map(({ row }) => this.db.load(collection as FakeCollection, row))
  }

  /** SELECT COUNT(*) WHERE flag = TRUE AND the hash ends in the marker's digest. */
  countGuests(collection: CollectionInfo, anonymousField: string, markerDigest: string): number {
    this.db.runHooks('countGuests', [collection, anonymousField, markerDigest])
    return this.db
      .table(collection)
      .filter((row) => row[anonymousField] === true && String(row.password ?? '').endsWith(markerDigest)).length
  }

  /** Repoints every relation field (base and auth collections) at `fromId` to `toId`, saving each record. */
  reassignRelations(collection: CollectionInfo, fromId: string, toId: string): number {
    this.write('reassignRelations', [collection, fromId, toId])
    let changed = 0
    for (const { collection: owner, field, row } of this.referencing(collection.id, fromId)) {
      const record = this.db.load(owner, row)
      if ((field.maxSelect ?? 1) > 1) {
        const ids = (row[field.name] as string[]).map((id) => (id === fromId ? toId : id))
        record.set(
          field.name,
          ids.filter((id, i) => ids.indexOf(id) === i),
        )
      } else {
        record.set(field.name, toId)
      }
      this.save(record)
      changed++
    }
    return changed
  }

  /** PocketBase's collection references: relation fields of base and auth collections (views skipped). */
  relationsTo(collection: CollectionInfo): RelationRef[] {
    this.db.runHooks('relationsTo', [collection])
    const refs: RelationRef[] = []
    for (const owner of this.db.collections) {
      if (owner.type === 'view') continue
      for (const field of owner.specs) {
        if (field.type !== 'relation' || field.collectionId !== collection.id) continue
        refs.push({
          collection: owner,
          field: field.name,
          pointsAt: collection.id,
          multiple: (field.maxSelect ?? 1) > 1,
          required: !!field.required,
          cascadeDelete: !!field.cascadeDelete,
        })
      }
    }
    return refs
  }

  /** The SQL of backend.ts: rows whose field holds `id` (in insertion order), never `id` in its own collection. */
  findReferencing(ref: RelationRef, id: string, limit: number): FakeRecord[] {
    this.db.runHooks('findReferencing', [ref, id, limit])
    const owner = this.db.collection(ref.collection.id)!
    return this.db
      .table(owner)
      .filter((row) => this.relationIdsOf(row[ref.field]).includes(id))
      .filter((row) => !(owner.id === ref.pointsAt && row.id === id))
      .slice(0, limit)
      .map((row) => this.db.load(owner, row))
  }

  findSoleReference(ref: RelationRef, id: string): FakeRecord | null {
    const owner = this.db.collection(ref.collection.id)!
    const row = this.db.table(owner).find((r) => {
      const ids = this.relationIdsOf(r[ref.field])
      return ids.length === 1 && ids[0] === id && !(owner.id === ref.pointsAt && r.id === id)
    })
    return row ? this.db.load(owner, row) : null
  }

  /** PocketBase's getStringSlice: a list as is, a lone id as a list of one, empty as none. */
  relationIds(record: AuthRecord, field: string): string[] {
    return this.relationIdsOf((record as FakeRecord).data[field])
  }

  /** PocketBase's saveNoValidate: like save, without the field and index checks. */
  saveNoValidate(record: AuthRecord): void {
    this.write('saveNoValidate', [record])
    const fake = record as FakeRecord
    const collection = fake.collection()
    const table = this.db.table(collection)
    const index = table.findIndex((r) => r.id === fake.id)
    if (collection.fields.getByName('updated')) fake.data.updated = pocketBaseDate(this.db.clock.now())
    if (index < 0) table.push(structuredClone(fake.data))
    else table[index] = structuredClone(fake.data)
    this.db.trace.push(`saveNoValidate:${collection.name}`)
  }

  /** An SQL UPDATE of one column: no validation, no `updated` change, nothing when the row is gone. */
  writeQuietly(record: AuthRecord, field: string, value: string): void {
    this.write('writeQuietly', [record, field, value])
    const row = this.db.table(record.collection()).find((r) => r.id === record.id)
    if (row) row[field] = value
    this.db.trace.push(`writeQuietly:${field}`)
  }

  now(): number {
    return this.db.clock.now()
  }

  externalAuthsOf(record: AuthRecord): ExternalAuthInfo[] {
    return this.db.externalAuths
      .filter((a) => a.recordRef === record.id && a.collectionRef === record.collection().id)
      .sort((a, b) => a.created.localeCompare(b.created))
      .map(({ provider, providerId, created }) => ({ provider, providerId, created }))
  }

  /** PocketBase's unique index on (collectionRef, provider, providerId). */
  linkExternalAuth(record: AuthRecord, provider: string, providerId: string): void {
    this.write('linkExternalAuth', [record, provider, providerId])
    const collectionRef = record.collection().id
    if (
      this.db.externalAuths.some(
        (a) => a.collectionRef === collectionRef && a.provider === provider && a.providerId === providerId,
      )
    ) {
      throw new Error('providerId: Value must be unique.')
    }
    const created = pocketBaseDate(this.db.clock.now())
    this.db.externalAuths.push({ collectionRef, recordRef: record.id, provider, providerId, created })
  }

  /** An SQL UPDATE of the flag and the hash: no validation, no hooks, the token key unchanged. */
  clearGuestQuietly(record: AuthRecord, anonymousField: string, passwordHash: string): void {
    this.write('clearGuestQuietly', [record, anonymousField, passwordHash])
    const row = this.db.table(record.collection()).find((r) => r.id === record.id)
    if (!row) return
    row[anonymousField] = false
    row.password = passwordHash
    this.db.trace.push('clearGuestQuietly')
  }

  isReferenced(collection: CollectionInfo, id: string): boolean {
    return this.referencing(collection.id, id).length > 0
  }

  countersReady(): boolean {
    return this.db.countersTable
  }

  /** goja's sleep(): the fake clock does not move; the pauses are recorded. */
  readonly pauses: number[] = []
  pause(ms: number): void {
    this.pauses.push(ms)
  }

  sendVerificationEmail(record: AuthRecord): void {
    this.db.runHooks('sendVerificationEmail', [record])
    this.db.sentEmails.push(record.email())
  }

  /** A record of `_otps`; the hash stands in for bcrypt at cost 8 (counted like hashPassword). */
  createOneTimeCode(record: AuthRecord, code: string, sentTo: string): OneTimeCode {
    this.write('createOneTimeCode', [record, code, sentTo])
    this.db.bcryptCalls.push({ password: code, inTransaction: this.db.txOpen })
    const row: OtpRow = {
      id: this.db.randomId('otp', 15),
      collectionId: record.collection().id,
      recordId: record.id,
      sentTo,
      createdMs: this.db.clock.now(),
      hash: fakeBcrypt(code, 8),
    }
    this.db.otps.set(row.id, row)
    this.db.trace.push('save:_otps')
    const { hash: _hash, ...code_ } = row
    return code_
  }

  findOneTimeCode(id: string): OneTimeCode | null {
    const row = this.db.otps.get(id)
    if (!row) return null
    const { hash: _hash, ...code } = row
    return code
  }

  oneTimeCodeMatches(id: string, code: string): boolean {
    this.db.runHooks('oneTimeCodeMatches', [id, code])
    this.db.bcryptCalls.push({ password: code, inTransaction: this.db.txOpen })
    this.db.trace.push('bcrypt')
    const row = this.db.otps.get(id)
    return !!row && row.hash === fakeBcrypt(code, 8)
  }

  deleteOneTimeCode(id: string): boolean {
    this.write('deleteOneTimeCode', [id])
    this.db.trace.push('delete:_otps')
    return this.db.otps.delete(id)
  }

  deleteOneTimeCodesOf(record: AuthRecord): void {
    this.write('deleteOneTimeCode', [record.id])
    for (const [id, otp] of this.db.otps) {
      if (otp.recordId === record.id && otp.collectionId === record.collection().id) this.db.otps.delete(id)
    }
  }

  /** PocketBase's `$mails.sendRecordOTP` on a copy addressed to `address`: recorded, or the hook throws. */
  sendOneTimeCode(record: AuthRecord, address: string, codeId: string, code: string): void {
    this.db.runHooks('sendOneTimeCode', [record, address, codeId, code])
    this.db.sentCodes.push({ to: address, codeId, code, recordId: record.id })
    this.db.trace.push('mail:otp')
  }

  mayAuthenticate(record: AuthRecord): boolean {
    return (record as FakeRecord).collection().authRule(record as FakeRecord)
  }

  // --- internals ------------------------------------------------------------------------------

  /** Every write: the test's hook first; through the outer app while a transaction is open it would deadlock. */
  private write(op: Operation, args: unknown[]): void {
    this.db.runHooks(op, args)
    if (this.db.txOpen && !this.inTransaction) {
      throw new Error(`fake PocketBase: ${op} through the outer app inside a transaction would deadlock`)
    }
  }

  /** PocketBase's record validation: each field's own rules, then the unique email index. */
  private check(record: FakeRecord): void {
    const collection = record.collection()
    const errors: Record<string, string> = {}
    for (const spec of collection.specs) {
      const message = fieldError(spec, record)
      if (message) errors[spec.name] = message
    }
    const email = record.email().toLowerCase()
    if (!errors.email && email && collection.type === 'auth') {
      const clash = this.db.table(collection).some((r) => r.id !== record.id && String(r.email).toLowerCase() === email)
      if (clash) errors.email = 'Value must be unique'
    }
    if (Object.keys(errors).length > 0) throw validationError(errors)
  }

  private referencing(collectionId: string, id: string): { collection: FakeCollection; field: FieldSpec; row: Row }[] {
    const found: { collection: FakeCollection; field: FieldSpec; row: Row }[] = []
    for (const collection of this.db.collections) {
      if (collection.type === 'view') continue
      for (const field of collection.specs) {
        if (field.type !== 'relation' || field.collectionId !== collectionId) continue
        for (const row of this.db.table(collection)) {
          const value = row[field.name]
          if (Array.isArray(value) ? value.includes(id) : value === id) found.push({ collection, field, row })
        }
      }
    }
    return found
  }

  private relationIdsOf(value: unknown): string[] {
    if (Array.isArray(value)) return value.map(String).filter((id) => id !== '')
    return typeof value === 'string' && value !== '' ? [value] : []
  }

  /** The merge journal's tables (src/core/pocketbase/sql-merges.ts). */
  private mergeJournal(): MergeJournal {
    const key = (m: { guestCollection: string; guest: string }) => `${m.guestCollection}/${m.guest}`
    const table = () => {
      if (!this.db.mergesTable) throw new Error('SQL logic error: no such table: pocketpages_anonymous_merges')
      return this.db.merges
    }
    const sameMove = (a: MergeMove, b: MergeMove) =>
      a.collection === b.collection && a.record === b.record && a.field === b.field
    return {
      ready: () => this.db.mergesTable,
      find: (guestCollection, guest) => {
        const row = table().get(key({ guestCollection, guest }))
        return row ? structuredClone(row) : null
      },
      list: (limit) => structuredClone([...table().values()].sort((a, b) => a.heartbeat - b.heartbeat).slice(0, limit)),
      insert: (merge) => {
        this.write('merges.insert', [merge])
        if (table().has(key(merge))) throw new Error('UNIQUE constraint failed: pocketpages_anonymous_merges.id')
        table().set(key(merge), structuredClone(merge))
        this.db.trace.push('merges.insert')
      },
      update: (merge) => {
        this.write('merges.update', [merge])
        const row = table().get(key(merge))
        if (row) Object.assign(row, { state: merge.state, attempt: merge.attempt, heartbeat: merge.heartbeat })
      },
      remove: (merge) => {
        table().delete(key(merge))
        this.db.trace.push('merges.remove')
      },
      addMove: (merge, move) => {
        const k = key(merge)
        if (this.db.mergeMoves.some((m) => m.merge === k && sameMove(m.move, move))) return
        this.db.mergeMoves.push({ merge: k, move: structuredClone(move) })
      },
      moves: (merge, limit) =>
        structuredClone(
          this.db.mergeMoves
            .filter((m) => m.merge === key(merge))
            .slice(0, limit)
            .map((m) => m.move),
        ),
      purgeMoves: (merge, limit) => {
        const k = key(merge)
        let purged = 0
        this.db.mergeMoves = this.db.mergeMoves.filter((m) => {
          if (m.merge !== k || purged >= limit) return true
          purged++
          return false
        })
        return purged
      },
      removeMove: (merge, move) => {
        const k = key(merge)
        this.db.mergeMoves = this.db.mergeMoves.filter((m) => !(m.merge === k && sameMove(m.move, move)))
      },
    }
  }

  /** PocketBase's counters table (src/core/pocketbase/sql-counters.ts), one row per (bucket, slot). */
  private counterStore(): CounterStore {
    const key = (bucket: string, slot: number) => `${bucket}\u0000${slot}`
    const table = () => {
      if (!this.db.countersTable) throw new Error('SQL logic error: no such table: pocketpages_anonymous_counters')
      return this.db.counters
    }
    const sum = (buckets: string[], fromSlot: number) => {
      let total = 0
      for (const [k, counter] of table()) {
        const [bucket, slot] = k.split('\u0000') as [string, string]
        if (buckets.includes(bucket) && Number(slot) >= fromSlot) total += counter.count
      }
      return total
    }
    // INSERT ... ON CONFLICT (bucket, slot) DO UPDATE SET count = count + delta: `expires` stays.
    const upsert = (bucket: string, slot: number, expiresAtMs: number, delta: number) => {
      const counters = table()
      const existing = counters.get(key(bucket, slot))
      if (existing) existing.count += delta
      else counters.set(key(bucket, slot), { count: delta, expires: expiresAtMs })
    }
    return {
      read: (buckets, fromSlot) => {
        this.db.runHooks('counters.read', [buckets, fromSlot])
        this.db.trace.push('counters.read')
        const rows: CounterSlot[] = []
        for (const [k, counter] of table()) {
          const [bucket, slot] = k.split('\u0000') as [string, string]
          if (buckets.includes(bucket) && Number(slot) >= fromSlot)
            rows.push({ slot: Number(slot), count: counter.count })
        }
        return rows
      },
      total: (buckets, fromSlot) => {
        this.db.runHooks('counters.total', [buckets, fromSlot])
        this.db.trace.push('counters.total')
        return sum(buckets, fromSlot)
      },
      add: (bucket, slot, expiresAtMs, delta) => {
        this.write('counters.add', [bucket, slot, expiresAtMs, delta])
        this.db.trace.push('counters.add')
        upsert(bucket, slot, expiresAtMs, delta)
      },
      addBelow: (limit, within, bucket, slot, expiresAtMs) => {
        this.write('counters.addBelow', [limit, within, bucket, slot, expiresAtMs])
        this.db.trace.push('counters.addBelow')
        // INSERT ... SELECT ... WHERE (the SUM) < limit ON CONFLICT ...: one statement.
        if (sum(within.keys, within.fromSlot) >= limit) return false
        upsert(bucket, slot, expiresAtMs, 1)
        return true
      },
      prune: (nowMs) => {
        this.write('counters.prune', [nowMs])
        let pruned = 0
        for (const [k, counter] of table()) {
          if (counter.expires < nowMs) {
            this.db.counters.delete(k)
            pruned++
          }
        }
        return pruned
      },
    }
  }
}

/** One field's validation message, as PocketBase's field types word them; '' when valid. */
function fieldError(spec: FieldSpec, record: FakeRecord): string {
  const value = record.data[spec.name]
  if (spec.type === 'password') {
    // PasswordField.ValidateValue: the hash is required; the plain value (when set) is checked in runes.
    if (spec.required && !record.getString('password')) return 'Cannot be blank'
    if (!record.plain) return ''
    const length = [...record.plain].length
    if (length < (spec.min ?? 0)) return `Must be at least ${spec.min} character(s)`
    const max = spec.max && spec.max > 0 ? spec.max : 71
    if (length > max) return `Must be less than ${max} character(s)`
    if (spec.pattern && !new RegExp(spec.pattern).test(record.plain)) return 'Invalid value format'
    return ''
  }
  if (spec.type === 'autodate' || spec.autogeneratePattern) return ''
  if (spec.required && (value === undefined || value === null || value === '' || value === false)) {
    return 'Cannot be blank'
  }
  if (spec.type === 'email' && typeof value === 'string' && value !== '') {
    // EmailField.ValidateValue: format, then onlyDomains / exceptDomains.
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) return 'Must be a valid email address'
    const domain = value.slice(value.lastIndexOf('@') + 1)
    if (spec.onlyDomains?.length && !spec.onlyDomains.includes(domain)) return 'Email domain is not allowed'
    if (spec.exceptDomains?.length && spec.exceptDomains.includes(domain)) return 'Email domain is not allowed'
  }
  return ''
}

function pocketBaseDate(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ')
}

function passwordCost(collection: CollectionInfo): number {
  const spec = (collection as FakeCollection).specs.find((s) => s.name === 'password')
  return spec?.cost && spec.cost > 0 ? spec.cost : 10
}

/** A well-formed, deterministic stand-in for a bcrypt hash of `password` (never a guest marker). */
export function fakeBcrypt(password: string, cost = 10): string {
  const digest = createHash('sha256')
    .update(password)
    .digest('base64')
    .replace(/[^A-Za-z0-9]/g, '.')
  return `$2a$${String(cost).padStart(2, '0')}$${digest.slice(0, 22)}${digest.slice(0, 31).padEnd(31, '.')}`
}

/**
 * `$security.parseUnverifiedJWT`: decodes the claims WITHOUT checking the signature, but (like
 * golang-jwt's validator it runs) throws for a malformed token and for one whose `exp` has passed.
 */
export function parseUnverifiedClaims(token: string, clock: Clock): unknown {
  const parts = token.split('.')
  if (parts.length !== 3) throw new Error('token is malformed: token contains an invalid number of segments')
  const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown
  const header = decode(parts[0]!)
  const claims = decode(parts[1]!)
  if (typeof header !== 'object' || header === null) throw new Error('token is malformed')
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new Error('token is malformed')
  const exp = (claims as Row).exp
  if (exp !== undefined && (typeof exp !== 'number' || clock.now() / 1000 >= exp)) throw new Error('token is expired')
  return claims
}
