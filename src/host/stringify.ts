/**
 * JSON.stringify that never throws on circular structures (they become "[Circular]") and
 * never returns undefined (undefined, functions and symbols become the string "undefined").
 * PocketPages exposes the same helper to pages as `stringify`.
 */
export function stringify(value: unknown, space?: number | string): string {
  const ancestors: unknown[] = []
  const json = JSON.stringify(
    value,
    function (this: unknown, _key: string, current: unknown) {
      if (typeof current !== 'object' || current === null) return current
      // `this` is the object holding `current`: drop ancestors we have walked back out of.
      while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop()
      if (ancestors.includes(current)) return '[Circular]'
      ancestors.push(current)
      return current
    },
    space,
  )
  return json === undefined ? String(json) : json
}
