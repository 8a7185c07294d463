// A fake world with one signed-in guest, for the emailed-code upgrade's unit tests
// (upgrade-code.test.ts, upgrade-code-races.test.ts).
import assert from 'node:assert/strict'
import { type AnonymousAuthError, isAnonymousAuthError } from '../../src/core/errors.ts'
import type { OperationContext } from '../../src/core/operations/context.ts'
import { requestUpgradeCode } from '../../src/core/operations/request-upgrade-code.ts'
import type { FakeRecord } from './fake-backend.ts'
import type { RequestSpec } from './fake-exchange.ts'
import { World, type WorldSpec } from './fake-world.ts'

export interface Guest {
  record: FakeRecord
  token: string
  cookie: string
}

export function codeUpgradeWorld(spec: WorldSpec = {}) {
  const w = new World(spec)
  const g: Guest = w.signInGuest()
  /** The operation context of a same-site POST as `guest` (default: g). */
  const as = (guest: Guest = g, request: RequestSpec = {}): OperationContext => w.post(guest.cookie, request).auth.ctx
  const request = (email: string, guest: Guest = g, req: RequestSpec = {}) =>
    requestUpgradeCode(as(guest, req), { email })
  /** Asks for a code and reads it from the fake mailer. */
  const codeFor = (email: string, guest: Guest = g) => {
    const { otpId } = request(email, guest)
    const sent = w.backend.sentCodes.at(-1)!
    assert.equal(sent.codeId, otpId, 'the mail carries the returned code id')
    return { otpId, code: sent.code }
  }
  return { w, g, as, request, codeFor }
}

/** The AnonymousAuthError `fn` throws (any other error is rethrown; none fails the test). */
export function errorOf(fn: () => unknown): AnonymousAuthError {
  try {
    fn()
  } catch (error) {
    if (isAnonymousAuthError(error)) return error
    throw error
  }
  assert.fail('expected an AnonymousAuthError')
}
