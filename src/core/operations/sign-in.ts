/**
 * signIn({ token }): signs the browser in to an account with a token the app obtained (a password
 * check, OTP, OAuth2; pocketpages-plugin-auth's sign-ins end here through the cookie guard).
 *
 * Preconditions: for unsafe methods, the request comes from this site (OAuth2 callbacks are
 * cross-site GETs with their own state check, so GETs pass); the token verifies exactly like a
 * cookie's would (verify-token.ts); and it is a token PocketBase would refresh. An impersonation
 * token (`refreshable: false`) is refused: a cookie session is renewed while it is used, which
 * would turn a superuser's short look into a lasting session. (A cookie that already holds one is
 * honoured until it expires and never renewed: see auth-session.ts.)
 * Then a guest session is merged into the account (`mergeOnSignIn`, merge.ts), so what the guest
 * made follows the person; unless the account is an empty one an OAuth2 sign-up made a moment ago,
 * which the guest becomes instead, keeping its id (adopt-sign-up.ts).
 */
import type { AuthData } from '../auth-session'
import { AnonymousAuthError, ErrorCodes } from '../errors'
import { verifyToken } from '../verify-token'
import { adoptFreshSignUp } from './adopt-sign-up'
import { isSafeMethod, type OperationContext } from './context'
import { mergeGuestInto } from './merge'

export function signIn(ctx: OperationContext, authData: { token?: unknown } | null | undefined): AuthData {
  const { session, backend, options } = ctx
  if (!isSafeMethod(session.deps.exchange.method())) session.refuseCrossSite()
  const token = typeof authData?.token === 'string' ? authData.token : null
  const read = verifyToken(backend, token, options.collections, session.deps.parseClaims)
  // verifyToken answers 'valid' or 'invalid' (with its reason); 'none' is only readSession's.
  const refused =
    read.state === 'valid'
      ? read.claims.refreshable
        ? null
        : 'not refreshable (an impersonation token)'
      : read.state === 'invalid'
        ? read.reason
        : read.state
  if (refused !== null || read.state !== 'valid') {
    throw new AnonymousAuthError(
      ErrorCodes.INVALID_TOKEN,
      `signIn() needs a valid, refreshable auth token of a collection in the plugin option 'collections' ([${options.collections.join(', ')}]); this one was refused (${refused}).`,
    )
  }
  const user = read.record
  const guest = session.record
  // The same record is no merge: this request's guest may have been upgraded by another request
  // meanwhile, and the token is the upgraded account's.
  const sameRecord = guest !== undefined && guest.id === user.id && guest.collection().id === user.collection().id
  if (options.mergeOnSignIn && guest && !sameRecord && session.isAnonymous(guest) && !session.isAnonymous(user)) {
    // An account an OAuth2 sign-up made a moment ago, still empty: the guest becomes it (same id).
    const adopted = adoptFreshSignUp(ctx, guest, user)
    if (adopted) return session.start(adopted, adopted.newAuthToken())
    mergeGuestInto(backend, guest, user, options.anonymousField, ctx.hooks.onMerge(), ctx.now())
  }
  return session.start(user, read.token)
}
