/*
 * PocketPages' public plugin interface, as types only.
 *
 * These mirror what PocketPages (core 0.22.x) hands to a plugin. The plugin adapter
 * (src/plugin) is written against them and nothing else, so it runs unchanged inside the real
 * PocketPages; the stand-in host (src/host) implements them for the demo and the tests.
 */

export type PagesMethods = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH'

/** A parsed URL, shaped like the `url-parse` result PocketPages exposes. */
export interface PagesUrl {
  href: string
  protocol: string
  host: string
  hostname: string
  port: string
  pathname: string
  /** Values are JSON-parsed where they can be (`?n=1` gives the number 1). */
  query: Record<string, unknown>
  toString(): string
}

export interface CookieSerializeOptions {
  path?: string
  domain?: string
  maxAge?: number
  expires?: Date
  httpOnly?: boolean
  secure?: boolean
  sameSite?: 'lax' | 'strict' | 'none' | boolean
}

export interface PagesRequest {
  event: core.RequestEvent
  auth?: core.Record
  authToken?: string
  method: PagesMethods
  url: PagesUrl
  formData: () => Record<string, any>
  body: () => Record<string, any> | string
  header: (name: string) => string
  cookies: {
    (): Record<string, unknown>
    <T>(name: string): T | undefined
  }
}

export interface PagesResponse {
  file: (path: string) => void
  write: (s: string) => void
  redirect: (path: string, status?: number) => void
  json: (status: number, data: unknown) => void
  html: (status: number, data: string) => void
  header: (name: string, value?: string) => string | undefined
  cookie: <T>(name: string, value: T, options?: CookieSerializeOptions) => string | undefined
}

export interface PagesGlobalApi {
  url: (url: string) => PagesUrl
  stringify: (value: unknown) => string
  env: (key: string) => string
  store: (name: string, value?: unknown) => any
  dbg: (...args: unknown[]) => void
  info: (...args: unknown[]) => void
  warn: (...args: unknown[]) => void
  error: (...args: unknown[]) => void
  [key: string]: any
}

export interface RedirectOptions {
  status: number
  message: string
}

export interface PagesRequestContext extends PagesGlobalApi {
  /** The query (and upstream, route params). */
  params: Record<string, unknown>
  auth?: core.Record
  request: PagesRequest
  response: PagesResponse
  formData: () => Record<string, any>
  body: () => Record<string, any> | string
  redirect: (path: string, options?: Partial<RedirectOptions>) => void
  slot: string
  // Upstream also has these; the stand-in host (src/host) does not.
  echo?: (...args: unknown[]) => string
  meta?: (key: string, value?: string) => string | undefined
  asset?: (path: string) => string
  resolve?: (path: string, options?: unknown) => any
  slots?: Record<string, string>
  data?: unknown
}

export interface PagesRoute {
  relativePath: string
  absolutePath: string
  segments: { nodeName: string; paramName?: string }[]
  isStatic: boolean
  layouts: string[]
  [key: string]: any
}

export interface PagesConfig {
  plugins: PluginConfigItemShortHand[]
  debug: boolean | 'verbose'
}

export interface PluginFactoryConfig {
  pagesRoot: string
  config: PagesConfig
  globalApi: PagesGlobalApi
  routes: PagesRoute[]
  dbg: (...args: unknown[]) => void
}

export interface Plugin {
  name: string
  onRequest?: (context: { request: PagesRequest; response: PagesResponse }) => void
  onExtendContextApi?: (context: { api: PagesRequestContext; route: PagesRoute }) => void
  handles?: (context: { route: PagesRoute; filePath: string }) => boolean
  onRender?: (context: {
    content: string
    api: PagesRequestContext
    route: PagesRoute
    filePath: string
    plugins: Plugin[]
  }) => string
  onResponse?: (context: { content: string; api: PagesRequestContext; route: PagesRoute }) => boolean
}

export type PluginOptions = { debug?: boolean; [key: string]: any }

export type PluginFactory<TOptions extends PluginOptions = PluginOptions> = (
  config: PluginFactoryConfig,
  extra: TOptions,
) => Plugin

export type PluginConfigItemShortHand =
  | string
  | PluginFactory
  | ({ name: string } & PluginOptions)
  | ({ fn: PluginFactory } & PluginOptions)
