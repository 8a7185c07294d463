/** goja's console (PocketBase enables it in every VM); prints to PocketBase's stdout. */
declare const console: {
  log(...args: unknown[]): void
  warn(...args: unknown[]): void
  error(...args: unknown[]): void
}
