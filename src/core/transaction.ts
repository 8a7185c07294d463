/**
 * `app.runInTransaction` with the thrown error preserved.
 *
 * goja turns an error thrown inside the callback into a Go error on the way out, which loses
 * its class and `code`. We keep the original and rethrow it, so callers see our coded errors.
 * Inside `fn`, use the `tx` app only: `$app` there would wait for the one writer (deadlock).
 */
export function inTransaction<T>(app: core.App, fn: (tx: core.App) => T): T {
  let result: T | undefined
  let original: { error: unknown } | null = null
  try {
    app.runInTransaction((tx) => {
      try {
        result = fn(tx)
      } catch (error) {
        original = { error }
        throw error
      }
    })
  } catch (error) {
    if (original) throw (original as { error: unknown }).error
    throw error
  }
  return result as T
}
