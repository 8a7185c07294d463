/**
 * failedAttempts(name, limits): a throttle of failed attempts for one of the app's own forms (the
 * demo's password sign-in uses it). The policy is failed-attempts.ts's; this checks the app's
 * arguments, keeps the app's throttles apart from the plugin's own (`app-` prefix) and case-folds
 * keys, so `Bob@Mail.test` and `bob@mail.test` share one count.
 */
import { type Attempt, type AttemptLimits, beginAttempt } from '../failed-attempts'
import type { OperationContext } from './context'

/** `failedAttempts(name, limits).begin(key)`, for an app's own forms. */
export interface AttemptThrottle {
  begin(key: string): Attempt
}

const THROTTLE_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/

export function failedAttempts(ctx: OperationContext, name: string, limits: AttemptLimits): AttemptThrottle {
  if (typeof name !== 'string' || !THROTTLE_NAME.test(name)) {
    throw new TypeError(
      "failedAttempts(name, ...): name must be 1-40 of a-z, 0-9 and '-', starting with a letter or digit",
    )
  }
  for (const key of ['perKey', 'perNetwork', 'windowSeconds'] as const) {
    const value = limits?.[key]
    if (!Number.isInteger(value) || Number(value) < 1) {
      throw new TypeError(`failedAttempts('${name}', limits): limits.${key} must be a whole number >= 1`)
    }
  }
  const scope = { name: `app-${name}`, refusal: 'Too many failed attempts.' }
  return {
    begin: (key) =>
      beginAttempt(
        ctx.backend,
        ctx.keys,
        {
          ...scope,
          key: String(key ?? '')
            .trim()
            .toLowerCase(),
          network: ctx.session.clientNetwork(),
        },
        limits,
        ctx.now(),
      ),
  }
}
