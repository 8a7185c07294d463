/**
 * What the core needs from PocketBase, as narrow interfaces.
 *
 * The core's policy (src/core/*.ts) is written against these and nothing else, so it runs in Node
 * against the in-memory fake of test/support/fake-backend.ts. src/core/pocketbase implements them
 * with PocketBase's JS API and SQL; end-to-end tests prove that half against real PocketBase.
 * PocketBase's own `core.Record` and `core.Collection` already have the shapes below.
 */

/** A field of a collection. Its settings (hidden, required, ...) are read with `fieldSettings()`. */
export interface FieldInfo {
  type(): string
}

export interface CollectionInfo {
  id: string
  name: string
  type: string
  fields: { getByName(name: string): FieldInfo | null | undefined }
  /** `secret`: the collection's token signing secret (server-side only; rotating it ends every session). */
  authToken: { duration: number; secret: string }
  passwordAuth: { enabled: boolean }
  /** PocketBase's OTP settings: a code's lifetime in seconds and its digits (0 when never set). */
  otp: { duration: number; length: number }
  /** Multi-factor sign-in: then one emailed code must not be enough to sign in to an account. */
  mfa: { enabled: boolean }
}

/** The settings of PocketBase's field types that the core reads (each type has some of them). */
export interface FieldSettings {
  name?: string
  hidden?: boolean
  required?: boolean
  system?: boolean
  autogeneratePattern?: string
  /** password */
  min?: number
  max?: number
  pattern?: string
  cost?: number
  /** email */
  onlyDomains?: string[]
  exceptDomains?: string[]
}

export function fieldSettings(field: FieldInfo): FieldSettings {
  return field as unknown as FieldSettings
}

/** An auth record. */
export interface AuthRecord {
  id: string
  collection(): CollectionInfo
  email(): string
  verified(): boolean
  tokenKey(): string
  getBool(field: string): boolean
  getString(field: string): string
  set(field: string, value: unknown): void
  setEmail(email: string): void
  setVerified(verified: boolean): void
  setEmailVisibility(visible: boolean): void
  /** Changes the record's token key, which invalidates every token issued before. */
  refreshTokenKey(): void
  newAuthToken(): string
}

/** A relation field that points at a collection, with the settings PocketBase's delete reads. */
export interface RelationRef {
  /** The collection holding the field (base or auth). */
  collection: CollectionInfo
  field: string
  /** The id of the collection it points at. */
  pointsAt: string
  /** maxSelect > 1: a JSON array of ids; else one id. */
  multiple: boolean
  required: boolean
  cascadeDelete: boolean
}

/**
 * Where a merge stands (merge-batches.ts): `moving` (the default convention repoints the guest's
 * records batch by batch), `detaching` (the app's onMerge hook ran; what still points at the guest
 * goes batch by batch, as PocketBase's delete would treat it), `undoing` (a move failed: the moves
 * go back), `done` (the guest is deleted; only the undo log is left to purge).
 */
export type MergeState = 'moving' | 'detaching' | 'undoing' | 'done'

/** A merge under way: one row per guest, in a server-only table (never a collection). */
export interface PendingMerge {
  guestCollection: string
  guest: string
  targetCollection: string
  target: string
  /** The guest's token key before the merge ended its session: an undone merge gives it back. */
  tokenKey: string
  state: MergeState
  /** Which runner owns the merge: bumped when a stalled merge is taken over; a runner that sees another stops. */
  attempt: number
  /** When (ms) its runner last committed a batch. */
  heartbeat: number
  started: number
}

/** One record repointed by a merge: enough to put it back. */
export interface MergeMove {
  collection: string
  record: string
  field: string
  /** maxSelect > 1 (the field holds a list). */
  multiple: boolean
  /** The field's ids before the move. */
  previous: string[]
}

/** The merge journal (SQL tables made by the plugin's migration). Writes go with the transaction they run in. */
export interface MergeJournal {
  /** True when the tables exist (the migration ran). */
  ready(): boolean
  find(guestCollection: string, guest: string): PendingMerge | null
  /** Pending merges, oldest heartbeat first. */
  list(limit: number): PendingMerge[]
  insert(merge: PendingMerge): void
  /** Writes `state`, `attempt` and `heartbeat`. */
  update(merge: PendingMerge): void
  /** Deletes the merge's row (its moves must be purged first). */
  remove(merge: PendingMerge): void
  addMove(merge: PendingMerge, move: MergeMove): void
  /** Up to `limit` of the merge's moves. */
  moves(merge: PendingMerge, limit: number): MergeMove[]
  /** Deletes up to `limit` of the merge's moves; returns how many. */
  purgeMoves(merge: PendingMerge, limit: number): number
  /** Deletes one move (once it was put back). */
  removeMove(merge: PendingMerge, move: MergeMove): void
}

/** One `_externalAuths` row: which provider's identity, and when it was linked. */
export interface ExternalAuthInfo {
  provider: string
  providerId: string
  /** PocketBase's date format. */
  created: string
}

/** One time slot of a counter (see counters.ts). */
export interface CounterSlot {
  slot: number
  count: number
}

/**
 * A one-time code in PocketBase's `_otps` collection: bound to one auth record, the code itself
 * stored only as a bcrypt hash (the collection's password field), `sentTo` the address it went to.
 */
export interface OneTimeCode {
  id: string
  /** `collectionRef`: the collection of the record it belongs to. */
  collectionId: string
  /** `recordRef`: the record it belongs to. */
  recordId: string
  sentTo: string
  /** When it was created (PocketBase's `created`), in ms. */
  createdMs: number
}

/** Counters kept in the database, one row per (key, time slot). */
export interface CounterStore {
  /** The slots from `fromSlot` on, of every key in `keys`. */
  read(keys: string[], fromSlot: number): CounterSlot[]
  /** The sum of those slots' counts (one aggregate query: the hot path). */
  total(keys: string[], fromSlot: number): number
  /** Adds `delta` to (key, slot); the row may be deleted once `expiresAtMs` has passed. */
  add(key: string, slot: number, expiresAtMs: number, delta: number): void
  /**
   * Adds one event to (key, slot), but only while the total of `within` is below `limit`, in one
   * statement: a check and its count cost one round trip (the hot path of every guest sign-in).
   * Returns whether it added.
   */
  addBelow(
    limit: number,
    within: { keys: string[]; fromSlot: number },
    key: string,
    slot: number,
    expiresAtMs: number,
  ): boolean
  /** Deletes expired rows; returns how many. */
  prune(nowMs: number): number
}

export interface Logger {
  info(message: string, ...keyValues: unknown[]): void
  warn(message: string, ...keyValues: unknown[]): void
  error(message: string, ...keyValues: unknown[]): void
}

/** The PocketBase operations the core performs. Errors from `save` are PocketBase's validation errors. */
export interface Backend {
  /** A collection by name or id (PocketBase's cache), or null. */
  findCollection(nameOrId: string): CollectionInfo | null
  /** Every field of the collection, in order. */
  fieldsOf(collection: CollectionInfo): FieldInfo[]
  /** null when missing. */
  findRecordById(collection: CollectionInfo, id: string): AuthRecord | null
  /** The record an *auth* token belongs to (signature, expiry, token key and type checked), or null. */
  findAuthRecordByToken(token: string): AuthRecord | null
  findAuthRecordByEmail(collection: CollectionInfo, email: string): AuthRecord | null
  newRecord(collection: CollectionInfo): AuthRecord
  /** Validates and saves (PocketBase's `app.save`). */
  save(record: AuthRecord): void
  /** Deletes through PocketBase, so cascade rules and delete hooks apply. */
  delete(record: AuthRecord): void
  /**
   * Runs `fn` in one write transaction with a backend bound to it; rethrows what `fn` threw.
   * PocketBase runs write transactions one at a time, so keep `fn` short (no bcrypt in it).
   */
  transaction<T>(fn: (tx: Backend) => T): T
  /** The raw app handed to app hooks (`onMerge`'s `app`): the transaction's app inside one. */
  readonly hookApp: unknown

  /** The record's stored password hash. */
  passwordHash(record: AuthRecord): string
  /** Stores a ready hash, without hashing (PocketBase's documented `setRaw` route). */
  setPasswordHash(record: AuthRecord, hash: string): void
  /**
   * Gives the record a plain password for `validate` only: the stored hash stays, no bcrypt runs.
   * `save` after this would store the old hash (use `setPasswordHash`).
   */
  setPasswordForValidation(record: AuthRecord, password: string): void
  /** Runs PocketBase's validation of every field (format, domains, uniqueness, password rules) without saving. */
  validate(record: AuthRecord): void
  /** bcrypt, at the collection's cost: 50-100 ms of CPU. Never call it inside `transaction`. */
  hashPassword(collection: CollectionInfo, password: string): string

  /** Writes a date field with SQL only: no `updated` change, no save hooks. */
  writeDateQuietly(record: AuthRecord, field: string, pocketBaseDate: string): void
  /**
   * Guests of `collection` whose `lastSeenField` (or, when empty, `created`) is before `cutoff`,
   * oldest first; `skip` passes over records that failed to delete.
   */
  findStaleGuests(
    collection: CollectionInfo,
    fields: { anonymous: string; lastSeen: string },
    cutoff: string,
    limit: number,
    skip: number,
  ): AuthRecord[]
  /** The OAuth2 identities (PocketBase's `_externalAuths` rows) linked to the record, oldest first. */
  externalAuthsOf(record: AuthRecord): ExternalAuthInfo[]
  /** Links an OAuth2 identity to the record (a new `_externalAuths` row, through PocketBase). */
  linkExternalAuth(record: AuthRecord, provider: string, providerId: string): void
  /**
   * Makes a guest an account with SQL only: its flag cleared and `passwordHash` stored. No save
   * hooks and no token key rotation, so a token PocketBase issues for the record in the same
   * request stays valid.
   */
  clearGuestQuietly(record: AuthRecord, anonymousField: string, passwordHash: string): void
  /** True when a relation field of any base or auth collection points at the record. */
  isReferenced(collection: CollectionInfo, id: string): boolean
  /**
   * How many records of `collection` have `anonymousField` set and a password hash ending in
   * `markerDigest` (the guest marker of guest-identity.ts): one aggregate query.
   */
  countGuests(collection: CollectionInfo, anonymousField: string, markerDigest: string): number
  /** Repoints every relation field, in every base and auth collection, from `fromId` to `toId`. */
  reassignRelations(collection: CollectionInfo, fromId: string, toId: string): number
  /** Every relation field of a base or auth collection that points at `collection`. */
  relationsTo(collection: CollectionInfo): RelationRef[]
  /** Up to `limit` records whose `ref` field holds `id` (never the record `id` itself). */
  findReferencing(ref: RelationRef, id: string, limit: number): AuthRecord[]
  /** A record whose `ref` field holds `id` and nothing else (never the record `id` itself), or null. */
  findSoleReference(ref: RelationRef, id: string): AuthRecord | null
  /** The ids a relation field of `record` holds (one or none for a single relation). */
  relationIds(record: AuthRecord, field: string): string[]
  /** Saves without validation (PocketBase's `saveNoValidate`, what its delete uses to unset references). */
  saveNoValidate(record: AuthRecord): void
  /** Writes one text column with SQL only: no `updated` change, no save hooks. */
  writeQuietly(record: AuthRecord, field: string, value: string): void
  /** The merge journal (merge-batches.ts). */
  readonly merges: MergeJournal
  /** The time, in ms: the merge journal's heartbeats. */
  now(): number

  readonly counters: CounterStore
  /** True when the plugin's counters table exists (i.e. its migrations ran). */
  countersReady(): boolean
  sendVerificationEmail(record: AuthRecord): void

  /** Stores a code for `record` in `_otps` (hashed there: bcrypt at that field's low cost, 8). */
  createOneTimeCode(record: AuthRecord, code: string, sentTo: string): OneTimeCode
  /** null when missing. */
  findOneTimeCode(id: string): OneTimeCode | null
  /** Compares `code` with the stored hash (bcrypt: keep it out of transactions). False when missing. */
  oneTimeCodeMatches(id: string, code: string): boolean
  /** Deletes the code; false when it was already gone (another request used it). */
  deleteOneTimeCode(id: string): boolean
  /** Deletes every code of `record` (PocketBase 0.40 also does this itself when a token key changes). */
  deleteOneTimeCodesOf(record: AuthRecord): void
  /**
   * Mails `code` to `address` with the collection's OTP template (PocketBase's own mail, its
   * `onMailerRecordOTPSend` hook included), the template's record fields taken from `record`.
   * Throws when the mail could not be handed to the mail server.
   */
  sendOneTimeCode(record: AuthRecord, address: string, codeId: string, code: string): void
  /** Whether the collection's auth rule lets `record` sign in, as PocketBase checks before any auth response. */
  mayAuthenticate(record: AuthRecord): boolean
  /** Blocks this JS VM for `ms` (goja's `sleep`): the cleanup's pause between batches. */
  pause(ms: number): void
  readonly log: Logger
}

/** Secrets and randomness, from PocketBase's CSPRNG and crypto. */
export interface Crypto {
  /** `length` characters drawn uniformly from `alphabet` (crypto/rand). */
  randomString(length: number, alphabet: string): string
  /** HMAC-SHA256 of `value` under `key`, hex. */
  hmac(value: string, key: string): string
}

/** A process-wide, in-memory key/value map shared by every JS VM (`$app.store()`). */
export interface SharedMemory {
  get(key: string): unknown
  /** Returns the value under `key`, setting it to `create()` first when absent; atomic. */
  getOrSet(key: string, create: () => unknown): unknown
  remove(key: string): void
}
