/** PocketBase's date format: 'YYYY-MM-DD HH:MM:SS.sssZ', always UTC. */

export function formatPocketBaseDate(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ')
}

/** Milliseconds since the epoch, or null for '' and anything unparsable. */
export function parsePocketBaseDate(value: string): number | null {
  if (!value) return null
  const ms = Date.parse(value.replace(' ', 'T'))
  return Number.isFinite(ms) ? ms : null
}

export const SECOND_MS = 1000
export const DAY_MS = 24 * 60 * 60 * SECOND_MS
