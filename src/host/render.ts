/**
 * Rendering a page, as in PocketPages: every plugin's `onRender` in turn over the page; if
 * the output is JSON it is sent as JSON; else it is wrapped in each layout (nearest first,
 * the inner output available as `slot`/`slots`); then the `onResponse` chain answers, ending
 * with a default that sends the HTML with status 200.
 *
 * Once anything has written the response (a redirect, `response.json`, `echo`...), nothing
 * more is rendered or written. Differences: PocketPages keeps going and writes again; and for a
 * page that set a non-HTML Content-Type it sends nothing, where this host sends the content
 * (without layouts).
 */
import type { PagesRequestContext, Plugin } from '../pocketpages/types'
import type { HostRoute } from './router'
import { parseSlots } from './slots'

const defaultResponder: Plugin = {
  name: 'builtin',
  onResponse: ({ content, api }) => {
    api.response.html(200, content)
    return true
  },
}

function runRenderers(
  plugins: Plugin[],
  api: PagesRequestContext,
  route: HostRoute,
  filePath: string,
  content: string,
): string {
  return plugins.reduce(
    (current, plugin) => plugin.onRender?.({ content: current, api, route, filePath, plugins }) ?? current,
    content,
  )
}

function parseJson(content: string): { ok: true; value: unknown } | { ok: false } {
  const first = content.trimStart()[0]
  if (first === undefined || first === '<') return { ok: false }
  try {
    return { ok: true, value: JSON.parse(content) }
  } catch {
    return { ok: false }
  }
}

export function renderPage(e: core.RequestEvent, plugins: Plugin[], api: PagesRequestContext, route: HostRoute): void {
  let content = runRenderers(plugins, api, route, route.absolutePath, '')
  if (e.written()) return

  const contentType = api.response.header('Content-Type')
  if (!contentType || /^text\/html\b/i.test(contentType)) {
    const json = parseJson(content)
    if (json.ok) {
      api.response.json(200, json.value)
      return
    }

    for (const layout of route.layouts) {
      const { slots, content: rest } = parseSlots(content)
      api.slots = slots
      api.slot = slots.default ?? rest
      content = runRenderers(plugins, api, route, layout, content)
      if (e.written()) return
    }
  }

  for (const plugin of [...plugins, defaultResponder]) {
    if (plugin.onResponse?.({ content, api, route })) return
  }
}
