/**
 * Ambient declarations for what the host uses inside PocketBase's goja VM and that the
 * `pocketbase-jsvm` typings do not declare.
 */

/** goja's CommonJS `require` (same shape as pocketbase-jsvm/goja-node.d.ts, which is not loaded). */
declare var require: (id: string) => any

/** The subset of the `ejs` package (v7, CommonJS build) the host's EJS plugin uses. */
declare module 'ejs' {
  type TemplateFunction = (data: Record<string, unknown>) => string
  interface EjsCache {
    get(key: string): TemplateFunction | undefined
    set(key: string, fn: TemplateFunction): void
    remove(key: string): void
    reset(): void
  }
  interface EjsOptions {
    cache?: boolean
    root?: string
    compileDebug?: boolean
    async?: false
    filename?: string
  }
  interface Ejs {
    cache: EjsCache
    fileLoader: (path: string) => string
    resolveInclude: (name: string, filename: string, isDir?: boolean) => string
    compile(template: string, options?: EjsOptions): TemplateFunction
    renderFile(
      path: string,
      data: Record<string, unknown>,
      options: EjsOptions,
      callback: (err: unknown, html?: string) => void,
    ): void
  }
  const ejs: Ejs
  export = ejs
}
