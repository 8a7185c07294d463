// planGuestLink's edges (oauth2-link.ts): a guest token of one accepted collection says nothing about
// a request for another, and the guest owning the provider's email keeps its own.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { planGuestLink } from '../../src/core/oauth2-link.ts'
import { authFields } from '../support/fake-backend.ts'
import { World } from '../support/fake-world.ts'

describe('planGuestLink: edges', () => {
  it("a guest of 'users' authenticating a request for another accepted collection: nothing", () => {
    const w = new World({ options: { collections: ['users', 'members'] } })
    w.backend.addCollection('members', { fields: authFields() })
    const guest = w.insertGuest()
    assert.deepEqual(
      planGuestLink(
        w.backend,
        { auth: guest, record: guest, collection: w.backend.collection('members'), providerEmail: 'new@mail.test' },
        w.options,
      ),
      { action: 'none' },
      "the token's collection must be the request's",
    )
  })
  it("the provider's email is the guest's own: converted, the email left as it is", () => {
    for (const mergeOnSignIn of [true, false]) {
      const w = new World({ options: { mergeOnSignIn } })
      const guest = w.insertGuest({ email: 'mine@mail.test' })
      assert.deepEqual(
        planGuestLink(
          w.backend,
          { auth: guest, record: guest, collection: w.backend.collection('users'), providerEmail: 'mine@mail.test' },
          w.options,
        ),
        { action: 'convert', email: null },
        `never a merge into itself (mergeOnSignIn ${mergeOnSignIn})`,
      )
    }
  })
})
