/**
 * Template text preparation for the EJS plugin, before `ejs.compile` sees it.
 *
 * - `<script server> code </script>` becomes `<% code %>`, as in PocketPages.
 * - A one-line prelude (no newline, so EJS error line numbers stay right) defines `echo` inside
 *   the template: it appends its arguments to the template output, objects JSON-encoded, like
 *   the echo PocketPages' EJS plugin prepends. It shadows `api.echo`, which writes to the response.
 */
const SCRIPT_SERVER = /<script\s+server\s*>([\s\S]*?)<\/script>/g
const BOM = /^\uFEFF/

export const ECHO_PRELUDE =
  "<% const echo = (...args) => __append(args.map((a) => (typeof a === 'object' && a !== null ? JSON.stringify(a) : String(a))).join(' ')) %>"

export function rewriteScriptServer(template: string): string {
  return template.replace(SCRIPT_SERVER, (_match, code: string) => `<% ${code} %>`)
}

export function prepareTemplate(text: string): string {
  return ECHO_PRELUDE + rewriteScriptServer(text.replace(BOM, ''))
}
