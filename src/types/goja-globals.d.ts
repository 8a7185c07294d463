/** goja's console (PocketBase enables it in every VM); prints to PocketBase's stdout. */
declare const console: {
  log(...args: unknown[]): void
  warn(...args: unknown[]): void
  error(...args: unknown[]): void
}

/** goja's CommonJS `require` (pocketbase-jsvm/goja-node.d.ts, which declares it, is not loaded). */
// biome-ignore lint/suspicious/noExplicitAny: a module can be anything; callers narrow it
declare var require: (id: string) => any
