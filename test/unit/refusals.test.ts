// What a refused request reads: every plugin refusal with its code, HTTP status, message and
// details, as one table. Messages say what to do and never carry a token or a password.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { AnonymousAuthError } from '../../src/core/errors.ts'
import { authFields, type FakeRecord, type FieldSpec } from '../support/fake-backend.ts'
import { World, type WorldSpec } from '../support/fake-world.ts'

const FIELD_FIX =
  "Run the plugin's migrations (they add hidden 'anonymous' and 'lastSeen' fields to 'users'), or add a hidden, non-required"
const usersWith = (overrides: Record<string, Partial<FieldSpec> | null>): WorldSpec => ({
  users: { fields: authFields(overrides) },
})

interface Refusal {
  name: string
  world?: WorldSpec
  act: (w: World) => unknown
  expect: Partial<AnonymousAuthError>
}

const signIn = (w: World, collection?: string) =>
  w.post().auth.signInAnonymously(collection ? { collection } : undefined)
const upgrade = (w: World, cookie: string) =>
  w
    .post(cookie)
    .auth.upgradeAnonymousUser({ email: 'new@mail.test', password: 'correct horse', passwordConfirm: 'correct horse' })
const merge = (w: World, cookie: string | undefined, into: unknown) =>
  w.post(cookie).auth.mergeAnonymousUser(into as FakeRecord)

const refusals: Refusal[] = [
  {
    name: 'a collection not in `collections`',
    world: { options: { collections: ['users', 'members'] } },
    act: (w) => signIn(w, 'admins'),
    expect: {
      code: 'COLLECTION_NOT_ALLOWED',
      status: 500,
      collection: 'admins',
      message:
        "signInAnonymously() asked for collection 'admins', which is not in the plugin option 'collections' ([users, members]). Add it there so its tokens are accepted.",
    },
  },
  {
    name: 'a full account asking for a guest session',
    act: (w) => w.post(w.cookieFor(w.insertUser())).auth.signInAnonymously(),
    expect: {
      code: 'ALREADY_SIGNED_IN',
      status: 409,
      message: 'You are already signed in. Sign out before continuing as a guest.',
    },
  },
  {
    name: 'the human check says no',
    world: { options: { beforeGuestSignIn: () => false } },
    act: (w) => signIn(w),
    expect: {
      code: 'HUMAN_CHECK_FAILED',
      status: 403,
      message: 'We could not confirm that you are a person. Complete the check and try again.',
    },
  },
  {
    name: 'the migration did not run',
    act: (w) => {
      w.backend.dropCountersTable()
      return signIn(w)
    },
    expect: {
      code: 'MIGRATION_MISSING',
      status: 500,
      message:
        "Guest sign-in needs the plugin's migrations (they create the counters its rate limits use). Copy them into pb_migrations/ and restart PocketBase.",
    },
  },
  {
    name: 'the collection does not exist',
    world: { options: { collection: 'members' } },
    act: (w) => signIn(w),
    expect: {
      code: 'COLLECTION_NOT_FOUND',
      status: 500,
      collection: 'members',
      message:
        "Collection 'members' does not exist. Create it as an auth collection, or set the plugin option 'collection' in pb_hooks/pages/+config.js to an existing auth collection.",
    },
  },
  {
    name: 'a base collection',
    world: { users: { type: 'base' } },
    act: (w) => signIn(w),
    expect: { code: 'NOT_AUTH_COLLECTION', status: 500, collection: 'users' },
  },
  {
    name: 'no anonymous field',
    world: usersWith({ anonymous: null }),
    act: (w) => signIn(w),
    expect: {
      code: 'MISSING_FIELD',
      collection: 'users',
      message: `Collection 'users' has no bool field 'anonymous'. ${FIELD_FIX} bool field 'anonymous' to 'users' (README: "Using another collection"), or point the plugin option 'anonymousField' at an existing one.`,
    },
  },
  {
    name: 'a lastSeen field of another type',
    world: usersWith({ lastSeen: { type: 'text' } }),
    act: (w) => signIn(w),
    expect: { code: 'MISSING_FIELD', collection: 'users' },
  },
  {
    name: 'a required anonymous field',
    world: usersWith({ anonymous: { required: true } }),
    act: (w) => signIn(w),
    expect: { code: 'MISSING_FIELD', collection: 'users' },
  },
  {
    name: 'a visible anonymous field',
    world: usersWith({ anonymous: { hidden: false } }),
    act: (w) => signIn(w),
    expect: { code: 'UNPROTECTED_FIELD', status: 500, collection: 'users' },
  },
  {
    name: 'required fields a guest has no value for',
    world: usersWith({ nickname: { type: 'text', required: true }, age: { type: 'number', required: true } }),
    act: (w) => signIn(w),
    expect: {
      code: 'UNFILLABLE_REQUIRED_FIELD',
      status: 500,
      collection: 'users',
      message:
        "Collection 'users' has required field(s) 'age', 'nickname' that a guest has no value for. Make them optional (\"Nonempty\" off), give text fields an autogenerate pattern, or fill them in an onRecordCreate hook.",
    },
  },
  {
    name: 'the guest email domain refused',
    world: usersWith({ email: { exceptDomains: ['example.com'] } }),
    act: (w) => signIn(w),
    expect: { code: 'CREATE_FAILED', status: 500, collection: 'users' },
  },
  {
    name: 'a hook refusing the guest',
    act: (w) => {
      w.backend.before('save', () => {
        throw new Error('no')
      })
      return signIn(w)
    },
    expect: { code: 'CREATE_FAILED', collection: 'users' },
  },
  {
    name: 'upgrade while signed out',
    act: (w) => w.post().auth.upgradeAnonymousUser({ email: 'a@b.test', password: 'x', passwordConfirm: 'x' }),
    expect: { code: 'NOT_SIGNED_IN', status: 401, message: 'Sign in as a guest before upgrading the account.' },
  },
  {
    name: 'upgrade of a full account',
    act: (w) => upgrade(w, w.cookieFor(w.insertUser())),
    expect: {
      code: 'NOT_ANONYMOUS',
      status: 403,
      message: 'Only a guest account can be upgraded; this account already has an email and password.',
    },
  },
  {
    name: 'upgrade of a guest whose flag was cleared meanwhile',
    act: (w) => {
      const g = w.signInGuest()
      w.backend.before('hashPassword', () => w.backend.change('users', g.record.id, { anonymous: false }))
      return upgrade(w, g.cookie)
    },
    expect: { code: 'NOT_ANONYMOUS', message: 'This guest account has already been upgraded.' },
  },
  {
    name: 'upgrade to a taken email',
    act: (w) => {
      w.insertUser({ email: 'new@mail.test' })
      return upgrade(w, w.signInGuest().cookie)
    },
    expect: {
      code: 'EMAIL_TAKEN',
      status: 409,
      message: 'That email is already used by another account. Sign in to it instead, or use another email.',
      fieldErrors: { email: 'Already in use.' },
    },
  },
  {
    name: 'merge while signed out',
    act: (w) => merge(w, undefined, w.insertUser()),
    expect: { code: 'NOT_SIGNED_IN', status: 401, message: 'Sign in as a guest before merging it into an account.' },
  },
  {
    name: 'merge of a full account',
    act: (w) => merge(w, w.cookieFor(w.insertUser()), w.insertUser()),
    expect: { code: 'NOT_ANONYMOUS', status: 403, message: 'Only a guest can be merged into another account.' },
  },
  {
    name: 'merge of a guest whose flag was cleared meanwhile',
    act: (w) => {
      const g = w.signInGuest()
      w.backend.before('transaction', () => w.backend.change('users', g.record.id, { anonymous: false }))
      return merge(w, g.cookie, w.insertUser())
    },
    expect: { code: 'NOT_ANONYMOUS', message: 'Only a guest can be merged into another account.' },
  },
  {
    name: 'merge into nothing',
    act: (w) => merge(w, w.signInGuest().cookie, undefined),
    expect: {
      code: 'INVALID_MERGE_TARGET',
      status: 400,
      message: 'mergeAnonymousUser(record) needs the record of the account to merge into.',
    },
  },
  {
    name: 'merge into an unconfigured collection',
    act: (w) => {
      w.backend.addCollection('admins')
      return merge(w, w.signInGuest().cookie, w.backend.insert('admins', { email: 'a@a.test' }))
    },
    expect: {
      code: 'INVALID_MERGE_TARGET',
      message:
        "Cannot merge into collection 'admins': it is not in the plugin option 'collections', so its session cookie would not be accepted.",
    },
  },
  {
    name: 'merge into another guest',
    act: (w) => merge(w, w.signInGuest().cookie, w.insertGuest()),
    expect: { code: 'INVALID_MERGE_TARGET', message: 'A guest can only be merged into a full account.' },
  },
]

describe('refusals: code, status, message and details', () => {
  for (const r of refusals) {
    it(`${r.name}: ${r.expect.code}`, () => {
      const w = new World(r.world)
      assert.throws(
        () => r.act(w),
        (error: AnonymousAuthError) => {
          const seen = Object.fromEntries(Object.keys(r.expect).map((k) => [k, error[k as keyof AnonymousAuthError]]))
          assert.deepEqual(seen, r.expect)
          return true
        },
      )
    })
  }
})
