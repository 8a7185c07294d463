/**
 * guestFormFields(): the hidden input a guest-creating form carries (one guest per browser:
 * first-submit.ts). Gives the browser its secret cookie when it has none (HttpOnly, the session
 * cookie's attributes; the response is then kept out of every cache) and a fresh nonce per call.
 */
import {
  FORM_KEY_MAX_AGE_SECONDS,
  formKeyCookieName,
  newFormSecret,
  newNonce,
  nonceInput,
  readFormSecret,
} from '../first-submit'
import type { OperationContext } from './context'

export function guestFormFields(ctx: OperationContext): string {
  const { session, options, crypto } = ctx
  const name = formKeyCookieName(options)
  if (!readFormSecret(session.deps.exchange.cookieLines(), name)) {
    session.writeSideCookie(name, newFormSecret(crypto), FORM_KEY_MAX_AGE_SECONDS)
  }
  return nonceInput(newNonce(crypto))
}
