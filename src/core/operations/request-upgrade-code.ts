/**
 * requestUpgradeCode({ email }): mails a one-time code that lets the signed-in guest save itself
 * under that address (upgrade-with-code.ts), or, when an account already has the address, sign in
 * to it with the guest's data moved along.
 *
 * Policy: only the guest of this request, never from another site. Nothing about the guest
 * changes here; what is stored is one row of PocketBase's `_otps` (the code as a bcrypt hash, bound
 * to this guest by `recordRef`, the address in `sentTo`) and the send counts. Order, cheapest
 * first: the input's shape, PocketBase's own rules for the email field (format, domain lists), the
 * send limits (per guest, network and address: code-send-limit.ts), then the code and the mail.
 * The answer is the same whether or not an account has the address, so the form tells nobody who
 * has an account. When the mail cannot be sent, the code is deleted and the error says so.
 * PocketBase's own OTP sign-in API stays as the app configured it: nothing here reads or writes
 * `otp.enabled`.
 */
import { countCodeSend } from '../code-send-limit'
import { AnonymousAuthError, ErrorCodes } from '../errors'
import { fieldErrorsOf } from '../go-errors'
import { checkAddress, newCode } from '../one-time-code'
import type { AuthRecord, Backend } from '../ports'
import type { OperationContext } from './context'

export interface RequestUpgradeCodeInput {
  email?: unknown
}

export function requestUpgradeCode(
  ctx: OperationContext,
  input: RequestUpgradeCodeInput | null | undefined,
): { otpId: string } {
  const { session, backend, options } = ctx
  session.refuseCrossSite()
  const guest = requireGuest(ctx)
  const address = checkAddress(input?.email, options)
  checkEmailRules(backend, guest, address)
  countCodeSend(
    backend,
    ctx.keys,
    { guestId: guest.id, network: session.clientNetwork(), address },
    options.upgradeCode,
    ctx.now(),
  )
  const code = newCode(ctx.crypto, guest.collection())
  const stored = backend.createOneTimeCode(guest, code, address)
  try {
    backend.sendOneTimeCode(guest, address, stored.id, code)
  } catch (error) {
    forget(backend, stored.id)
    backend.log.warn(
      'pocketpages-plugin-anonymous: the upgrade code could not be mailed',
      'recordId',
      guest.id,
      'error',
      String(error),
    )
    throw new AnonymousAuthError(
      ErrorCodes.MAIL_FAILED,
      'We could not send the email with your code (the site cannot send mail right now). Try again later, or save your account with a password.',
    )
  }
  return { otpId: stored.id }
}

/** The signed-in guest of this request (never an id from the client). */
export function requireGuest(ctx: OperationContext): AuthRecord {
  const guest = ctx.session.record
  if (!guest) {
    throw new AnonymousAuthError(ErrorCodes.NOT_SIGNED_IN, 'Sign in as a guest before saving the account with a code.')
  }
  if (!ctx.session.isAnonymous(guest)) {
    throw new AnonymousAuthError(
      ErrorCodes.NOT_ANONYMOUS,
      'Only a guest account can be saved with a code; this account is already saved.',
    )
  }
  return guest
}

/**
 * PocketBase's validation of the email field on a copy of the guest (nothing is saved): format,
 * `onlyDomains` / `exceptDomains`. An address another account has is fine: the code then signs
 * in to that account.
 */
function checkEmailRules(backend: Backend, guest: AuthRecord, address: string): void {
  const candidate = backend.findRecordById(guest.collection(), guest.id)
  if (!candidate) return // signed out meanwhile: upgradeWithCode will refuse
  candidate.setEmail(address)
  try {
    backend.validate(candidate)
  } catch (error) {
    const problem = fieldErrorsOf(error).email
    if (problem && !/unique/i.test(problem)) {
      throw new AnonymousAuthError(ErrorCodes.VALIDATION_FAILED, `email: ${problem}`, {
        fieldErrors: { email: problem },
      })
    }
  }
}

function forget(backend: Backend, codeId: string): void {
  try {
    backend.deleteOneTimeCode(codeId)
  } catch {
    // It expires anyway (PocketBase deletes expired codes every hour).
  }
}
