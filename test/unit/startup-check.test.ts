// The start-up configuration check (startup-check.ts) and the collection checks it shares with
// sign-in (collection.ts): each problem, its level, and the fix it names.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { passwordRules, requireGuestCollection, unfillableRequiredFields } from '../../src/core/collection.ts'
import { resolveOptions } from '../../src/core/options.ts'
import { findConfigurationProblems } from '../../src/core/startup-check.ts'
import { authFields, FakeBackend, type FieldSpec } from '../support/fake-backend.ts'
import { FakeClock } from '../support/fake-world.ts'

const FIX =
  "Run the plugin's migrations (they add hidden 'anonymous' and 'lastSeen' fields to 'users'), or add a hidden, non-required"

function check(
  fields: FieldSpec[] | null,
  options: Record<string, unknown> = {},
  arrange: (b: FakeBackend) => void = () => {},
) {
  const backend = new FakeBackend(new FakeClock())
  if (fields) backend.addCollection('users', { fields })
  arrange(backend)
  return findConfigurationProblems(backend, resolveOptions(options))
}

describe('findConfigurationProblems', () => {
  it('a collection set up by the migrations: no problem', () => {
    assert.deepEqual(check(authFields()), [])
  })
  const problems: [string, FieldSpec[] | null, Record<string, unknown>, 'error' | 'warn', string][] = [
    [
      'a missing collection',
      null,
      {},
      'error',
      "Collection 'users' does not exist. Create it as an auth collection, or set the plugin option 'collection' in pb_hooks/pages/+config.js to an existing auth collection.",
    ],
    [
      'no anonymous field',
      authFields({ anonymous: null }),
      {},
      'error',
      `Collection 'users' has no bool field 'anonymous'. ${FIX} bool field 'anonymous' to 'users' (README: "Using another collection"), or point the plugin option 'anonymousField' at an existing one.`,
    ],
    [
      'no lastSeen field',
      authFields({ lastSeen: null }),
      {},
      'error',
      `Collection 'users' has no date field 'lastSeen'. ${FIX} date field 'lastSeen' to 'users' (README: "Using another collection"), or point the plugin option 'lastSeenField' at an existing one.`,
    ],
    [
      'an anonymous field of another type',
      authFields({ anonymous: { type: 'text' } }),
      {},
      'error',
      `Field 'anonymous' of collection 'users' is a text field; it must be a bool field. ${FIX} bool field 'anonymous' to 'users' (README: "Using another collection"), or point the plugin option 'anonymousField' at an existing one.`,
    ],
    [
      'a required anonymous field',
      authFields({ anonymous: { required: true } }),
      {},
      'error',
      `Field 'anonymous' of collection 'users' must not be required. Untick "Nonempty" for it in the collection settings.`,
    ],
    [
      'a visible lastSeen field',
      authFields({ lastSeen: { hidden: false } }),
      {},
      'error',
      `Field 'lastSeen' of collection 'users' is not hidden, so users can change it through PocketBase's record API. Tick "Hidden" for it in the collection settings (the plugin's migrations do this for 'users').`,
    ],
    [
      'a required field guests cannot fill',
      authFields({ nickname: { type: 'text', required: true }, age: { type: 'number', required: true } }),
      {},
      'warn',
      "Collection 'users' has required field(s) 'nickname', 'age' with no value for guests; guest sign-in fails unless a hook fills them. Make them optional or give them an autogenerate pattern.",
    ],
    [
      'an email domain list without the guest domain',
      authFields({ email: { onlyDomains: ['corp.test', 'Other.test'] } }),
      {},
      'error',
      "Collection 'users' only accepts emails at corp.test, other.test, so guest emails at 'example.com' are rejected. Allow 'example.com' in the email field's domain lists, or set the plugin option 'emailDomain' to an allowed domain.",
    ],
    [
      'an email domain refused',
      authFields({ email: { exceptDomains: ['Example.COM'] } }),
      {},
      'error',
      "Collection 'users' rejects emails at 'example.com', the guest email domain. Allow 'example.com' in the email field's domain lists, or set the plugin option 'emailDomain' to an allowed domain.",
    ],
  ]
  for (const [name, fields, options, level, message] of problems) {
    it(`${name}: ${level}`, () => {
      assert.deepEqual(check(fields, options), [{ level, message }])
    })
  }
  it('a base collection: error', () => {
    const found = check(null, {}, (b) => b.addCollection('users', { type: 'base' }))
    assert.deepEqual(found, [
      {
        level: 'error',
        message:
          "Collection 'users' is a base collection; guests need an auth collection. Set the plugin option 'collection' to an auth collection such as 'users'.",
      },
    ])
  })
  it('password auth disabled: warn', () => {
    const found = check(null, {}, (b) => b.addCollection('users', { passwordAuth: false }))
    assert.deepEqual(found, [
      {
        level: 'warn',
        message:
          "Collection 'users' has password auth disabled: upgraded guests cannot sign in with their new password. Enable it in the collection's auth options.",
      },
    ])
  })
  it('the counters table missing: error', () => {
    assert.deepEqual(
      check(authFields(), {}, (b) => b.dropCountersTable()),
      [
        {
          level: 'error',
          message:
            "Table 'pocketpages_anonymous_counters' is missing, so guest sign-in cannot count sign-ins for its rate limits. Copy the plugin's migrations into pb_migrations/ and restart PocketBase.",
        },
      ],
    )
  })
  it('the merge journal missing: warn (merges still work, in one transaction)', () => {
    assert.deepEqual(
      check(authFields(), {}, (b) => b.dropMergesTable()),
      [
        {
          level: 'warn',
          message:
            "Table 'pocketpages_anonymous_merges' is missing, so a merge runs in one transaction: a guest with many records stalls the site's other writes while it moves. Copy the plugin's migrations into pb_migrations/ and restart PocketBase.",
        },
      ],
    )
  })
  it('accepts allowed domains in any case, and a collection without an email field', () => {
    assert.deepEqual(check(authFields({ email: { onlyDomains: ['EXAMPLE.com'] } })), [])
    assert.deepEqual(check(authFields({ email: { exceptDomains: ['other.test'] } })), [])
    assert.deepEqual(check(authFields({ email: null })), [])
  })
  it('checks every configured collection', () => {
    const found = check(authFields({ anonymous: null }), { collections: ['users', 'members'] })
    assert.deepEqual(
      found.map((p) => [p.level, p.message.split('.')[0]]),
      [
        ['error', "Collection 'users' has no bool field 'anonymous'"],
        ['error', "Collection 'members' does not exist"],
      ],
    )
  })
  it('reports a thrown non-Error as text', () => {
    const found = check(authFields(), {}, (b) => {
      b.findCollection = () => {
        throw 'broken'
      }
    })
    assert.deepEqual(found, [{ level: 'error', message: 'broken' }])
  })
})

describe('unfillableRequiredFields', () => {
  it('skips system, plugin, autodate and autogenerated fields, and optional ones', () => {
    const backend = new FakeBackend(new FakeClock())
    const collection = backend.addCollection('users', {
      fields: authFields({
        anonymous: { required: true },
        lastSeen: { required: true },
        created: { required: true },
        id: { required: true, autogeneratePattern: undefined },
        tokenKey: { required: true, autogeneratePattern: undefined },
        email: { required: true },
        emailVisibility: { required: true },
        verified: { required: true },
        password: { required: true },
        slug: { type: 'text', required: true, autogeneratePattern: '[a-z]{8}' },
        bio: { type: 'text' },
        team: { type: 'relation', required: true },
      }),
    })
    assert.deepEqual(unfillableRequiredFields(backend, collection, resolveOptions({})), ['team'])
  })
})

describe('requireGuestCollection', () => {
  it('returns the collection when it is fit for guests', () => {
    const backend = new FakeBackend(new FakeClock())
    const users = backend.addCollection('users')
    assert.equal(requireGuestCollection(backend, 'users', resolveOptions({})), users)
  })
  it('names the collection in the error', () => {
    const backend = new FakeBackend(new FakeClock())
    assert.throws(() => requireGuestCollection(backend, 'users', resolveOptions({})), {
      code: 'COLLECTION_NOT_FOUND',
      collection: 'users',
    })
    backend.addCollection('users', { fields: authFields({ anonymous: { hidden: false } }) })
    assert.throws(() => requireGuestCollection(backend, 'users', resolveOptions({})), {
      code: 'UNPROTECTED_FIELD',
      collection: 'users',
      status: 500,
    })
  })
})

describe('passwordRules', () => {
  const rules = (spec: Partial<FieldSpec> | null) => {
    const backend = new FakeBackend(new FakeClock())
    return passwordRules(backend.addCollection('users', { fields: authFields({ password: spec }) }))
  }
  it("PocketBase's defaults where unset", () => {
    assert.deepEqual(rules({ min: undefined }), { min: 0, max: 71, pattern: '', cost: 0 })
    assert.deepEqual(rules(null), { min: 0, max: 71, pattern: '', cost: 0 })
    assert.deepEqual(rules({ max: 0 }).max, 71)
    assert.deepEqual(rules({ max: -1 }).max, 71)
  })
  it('the field settings where set', () => {
    assert.deepEqual(rules({ min: 10, max: 40, pattern: '\\d', cost: 12 }), {
      min: 10,
      max: 40,
      pattern: '\\d',
      cost: 12,
    })
  })
})
