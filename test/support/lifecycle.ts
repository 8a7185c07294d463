// Helpers for the account-lifecycle e2e tests (upgrade, merge, keep-alive, cleanup): related
// collections and records through the superuser API, the demo's forms, forged tokens, and the
// hidden fields (lastSeen, created) read and written with the sqlite3 CLI.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import jwt from 'jsonwebtoken'
import { decodeAuthCookie, encodeAuthCookie, field, fieldErrorTexts, getPage, markText } from './guest.ts'
import { getSetCookie, isDeletion, type PostFormOptions, postForm, type SetCookie } from './http.ts'
import type { PocketBaseServer } from './pocketbase.ts'
import { signingKey, sqlite } from './sqlite.ts'

export const DAY_MS = 24 * 60 * 60 * 1000

/** A short random lower-case id for unique emails and names. */
export function uid(): string {
  return randomBytes(6).toString('hex')
}

/** A unique email on a domain that is not the guests' example.com. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${uid()}@example.org`
}

// ---------------------------------------------------------------------------------------------
// Collections and records through the superuser API

export interface CollectionInfo {
  id: string
  name: string
}

export async function usersCollectionId(pb: PocketBaseServer): Promise<string> {
  return (await pb.apiJson<CollectionInfo>('/api/collections/users')).id
}

/** The users collection's auth token lifetime in seconds. */
export async function usersTokenDuration(pb: PocketBaseServer): Promise<number> {
  return (await pb.apiJson<{ authToken: { duration: number } }>('/api/collections/users')).authToken.duration
}

/** A base collection with one relation field to users (single unless maxSelect > 1) and a text field. */
export async function createOwnedCollection(
  pb: PocketBaseServer,
  name: string,
  relation: {
    field?: string
    maxSelect?: number
    cascadeDelete?: boolean
    required?: boolean
    indexes?: string[]
  } = {},
): Promise<CollectionInfo> {
  const users = await usersCollectionId(pb)
  return pb.apiJson<CollectionInfo>('/api/collections', {
    method: 'POST',
    body: {
      name,
      type: 'base',
      fields: [
        {
          name: relation.field ?? 'owner',
          type: 'relation',
          collectionId: users,
          maxSelect: relation.maxSelect ?? 1,
          cascadeDelete: relation.cascadeDelete ?? true,
          required: relation.required ?? false,
        },
        { name: 'title', type: 'text' },
      ],
      indexes: relation.indexes ?? [],
    },
  })
}

/** A base collection of plain text fields. */
export async function createTextCollection(
  pb: PocketBaseServer,
  name: string,
  fields: string[],
): Promise<CollectionInfo> {
  return pb.apiJson<CollectionInfo>('/api/collections', {
    method: 'POST',
    body: { name, type: 'base', fields: fields.map((f) => ({ name: f, type: 'text' })) },
  })
}

export type Row = Record<string, unknown> & { id: string }

export function createRecord(pb: PocketBaseServer, collection: string, data: Record<string, unknown>): Promise<Row> {
  return pb.apiJson<Row>(`/api/collections/${collection}/records`, { method: 'POST', body: data })
}

/** The record as the superuser sees it, or null when it does not exist (404). */
export async function findRecord(pb: PocketBaseServer, collection: string, id: string): Promise<Row | null> {
  const res = await pb.api(`/api/collections/${collection}/records/${encodeURIComponent(id)}`)
  const text = await res.text()
  if (res.status === 404) return null
  assert.equal(res.status, 200, `GET ${collection}/${id}: HTTP ${res.status} ${text}`)
  return JSON.parse(text) as Row
}

export async function getRecord(pb: PocketBaseServer, collection: string, id: string): Promise<Row> {
  const record = await findRecord(pb, collection, id)
  assert.ok(record, `${collection}/${id} does not exist`)
  return record
}

/** Every record of a collection matching an optional filter (one page of up to 500). */
export async function listRecords(pb: PocketBaseServer, collection: string, filter = ''): Promise<Row[]> {
  const query = new URLSearchParams({ perPage: '500', skipTotal: '1' })
  if (filter) query.set('filter', filter)
  return (await pb.apiJson<{ items: Row[] }>(`/api/collections/${collection}/records?${query}`)).items
}

export interface FullUser {
  id: string
  email: string
  password: string
  collectionId: string
}

/** A full (non-anonymous) user with a password, made through the superuser API. */
export async function createFullUser(pb: PocketBaseServer, email = uniqueEmail('member')): Promise<FullUser> {
  const password = `pw-${uid()}-${uid()}`
  const record = await createRecord(pb, 'users', { email, password, passwordConfirm: password, anonymous: false })
  return { id: record.id, email, password, collectionId: String(record.collectionId) }
}

// ---------------------------------------------------------------------------------------------
// PocketBase's own auth endpoints

export function authWithPassword(pb: PocketBaseServer, identity: string, password: string): Promise<Response> {
  return fetch(`${pb.url}/api/collections/users/auth-with-password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identity, password }),
  })
}

/** The token of a password sign-in through PocketBase's API (asserts it succeeds). */
export async function passwordToken(pb: PocketBaseServer, identity: string, password: string): Promise<string> {
  const res = await authWithPassword(pb, identity, password)
  const text = await res.text()
  assert.equal(res.status, 200, `auth-with-password for ${identity} failed: ${text}`)
  return (JSON.parse(text) as { token: string }).token
}

// ---------------------------------------------------------------------------------------------
// Demo pages

export interface HomeView {
  status: number
  /** null when / shows the signed-out view. */
  id: string | null
  email: string | null
  anonymous: string | null
  signedOut: boolean
  /** The pb_auth Set-Cookie of the response, if any. */
  setCookie: SetCookie | undefined
  html: string
}

/** GET / with a Cookie header and read who it shows. */
export async function viewHome(pb: PocketBaseServer, cookie?: string): Promise<HomeView> {
  const res = await getPage(pb, '/', cookie)
  const html = await res.text()
  return {
    status: res.status,
    id: field(html, 'user-id'),
    email: field(html, 'user-email'),
    anonymous: field(html, 'user-anonymous'),
    signedOut: /id="signed-out"/.test(html),
    setCookie: getSetCookie(res, 'pb_auth'),
    html,
  }
}

export interface FormResult {
  status: number
  location: string | null
  setCookie: SetCookie | undefined
  /** The body (empty for a redirect). */
  html: string
  error: string | null
  /** The demo form's messages next to its fields, by field name (see fieldErrorTexts). */
  fieldErrors: Record<string, string>
}

export async function submitForm(
  pb: PocketBaseServer,
  path: string,
  fields: Record<string, string>,
  opts: PostFormOptions = {},
): Promise<FormResult> {
  const res = await postForm(`${pb.url}${path}`, fields, opts)
  const html = await res.text()
  return {
    status: res.status,
    location: res.headers.get('location'),
    setCookie: getSetCookie(res, 'pb_auth'),
    html,
    error: markText(html),
    fieldErrors: fieldErrorTexts(html),
  }
}

/** POST /upgrade with the guest's cookie. */
export function postUpgrade(
  pb: PocketBaseServer,
  cookie: string | undefined,
  fields: { email: string; password: string; passwordConfirm: string },
  opts: Omit<PostFormOptions, 'cookie'> = {},
): Promise<FormResult> {
  return submitForm(pb, '/upgrade', fields, cookie === undefined ? opts : { ...opts, cookie })
}

/** POST /login mode=password (as a signed-in guest: merges the guest into that account). */
export function postPasswordLogin(
  pb: PocketBaseServer,
  cookie: string | undefined,
  email: string,
  password: string,
  opts: Omit<PostFormOptions, 'cookie'> = {},
): Promise<FormResult> {
  return submitForm(
    pb,
    '/login',
    { mode: 'password', email, password },
    cookie === undefined ? opts : { ...opts, cookie },
  )
}

/** The session a successful form post set: asserts a redirect to / with a live pb_auth cookie. */
export function sessionFrom(
  result: FormResult,
  what: string,
): { token: string; record: ReturnType<typeof decodeAuthCookie>['record']; cookie: string } {
  assert.equal(
    result.status,
    302,
    `${what}: expected a redirect, got ${result.status}: ${result.error ?? result.html.slice(0, 400)}`,
  )
  // Home, with or without the demo's confirmation query (?saved=1 after an upgrade, ?merged=1).
  assert.equal(new URL(result.location ?? '', 'http://x').pathname, '/', `${what}: redirect target ${result.location}`)
  assert.ok(result.setCookie, `${what}: no pb_auth cookie was set`)
  assert.ok(!isDeletion(result.setCookie), `${what}: pb_auth was cleared instead of set`)
  const { token, record } = decodeAuthCookie(result.setCookie.value)
  return { token, record, cookie: `pb_auth=${result.setCookie.value}` }
}

// ---------------------------------------------------------------------------------------------
// Tokens

/**
 * An auth token signed with the record's real key and the claims PocketBase puts in its own
 * (`id`, `type: 'auth'`, `collectionId`, `refreshable`, `exp`), expiring at `expSeconds`.
 */
export function forgeAuthToken(
  dataDir: string,
  record: { id: string; collectionId: string },
  expSeconds: number,
  collection = 'users',
): string {
  const key = signingKey(dataDir, collection, record.id)
  return jwt.sign(
    { id: record.id, type: 'auth', collectionId: record.collectionId, refreshable: true, exp: Math.floor(expSeconds) },
    key,
    { algorithm: 'HS256', noTimestamp: true },
  )
}

/** A `pb_auth=...` Cookie header in the SDK's format, for a token. */
export function cookieForToken(token: string, record: Record<string, unknown> = {}): string {
  return `pb_auth=${encodeAuthCookie(token, record)}`
}

// ---------------------------------------------------------------------------------------------
// Hidden and raw columns through sqlite3

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}

export interface RawUser {
  id: string
  email: string
  anonymous: number
  verified: number
  lastSeen: string
  created: string
  updated: string
  tokenKey: string
}

export function rawUser(dataDir: string, id: string): RawUser | undefined {
  return sqlite<RawUser>(
    dataDir,
    `SELECT id, email, anonymous, verified, lastSeen, created, updated, tokenKey FROM users WHERE id = ${quote(id)}`,
  )[0]
}

/** Writes raw column values of one row (no hooks, `updated` untouched unless given). */
export function setColumns(
  dataDir: string,
  table: string,
  id: string,
  values: Record<string, string | number | boolean>,
): void {
  const sets = Object.entries(values)
    .map(
      ([column, value]) =>
        `[${column}] = ${typeof value === 'string' ? quote(value) : typeof value === 'boolean' ? Number(value) : value}`,
    )
    .join(', ')
  sqlite(dataDir, `UPDATE [${table}] SET ${sets} WHERE id = ${quote(id)}`)
}

// The SMTP sink moved to smtp-sink.ts; re-exported for the tests that import it from here.
export { type SinkMail, type SmtpSink, startSmtpSink } from './smtp-sink.ts'
