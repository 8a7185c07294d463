/** What the host uses in goja that the `pocketbase-jsvm` typings do not declare. */

/** The part of the `ejs` package (v7, CommonJS build) the EJS plugin uses. */
declare module 'ejs' {
  type Template = (data: object) => string
  const ejs: {
    cache: { get(path: string): Template | undefined; set(path: string, fn: Template): void; reset(): void }
    fileLoader: (path: string) => string
    resolveInclude: (name: string, parentFile: string, isDir: boolean) => string
    renderFile(
      path: string,
      data: object,
      options: { cache: boolean; root: string; compileDebug: boolean },
      callback: (err: unknown, html?: string) => void,
    ): void
  }
  export = ejs
}
