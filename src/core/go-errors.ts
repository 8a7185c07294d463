/**
 * Reading errors that come back from PocketBase's Go API (validation failures on save).
 *
 * PocketBase validation errors render as `field: message; other: message.`; we split them into
 * per-field messages. Only field names and PocketBase's own messages end up here, never values.
 */

/** The error's message without goja's `GoError: ` prefix and without a final period (we add our own). */
export function goErrorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return text.replace(/^GoError:\s*/, '').replace(/\.+\s*$/, '')
}

/** Per-field messages of a PocketBase validation error; empty when it is not one. */
export function fieldErrorsOf(error: unknown): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const part of goErrorMessage(error).split(';')) {
    const match = /^([A-Za-z0-9_]+):\s*(.+?)\.?$/.exec(part.trim())
    if (match) fields[match[1]!] = match[2]!
  }
  return fields
}

export function isUniqueViolation(error: unknown, field: string): boolean {
  // No message for the field reads as 'undefined', which is no unique violation either.
  return /must be unique/i.test(String(fieldErrorsOf(error)[field]))
}
