/** HTML escaping and the host's error pages. */

const ESCAPES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&quot;' }

export function escapeHtml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ESCAPES[c]!)
}

/**
 * The 500 page. Without debug it says nothing about the cause (which may quote code or data);
 * with debug it shows the error message and stack, with absolute paths shortened.
 */
export function errorPage(err: unknown, debug: boolean, hooksDir: string): string {
  if (!debug) {
    return '<!doctype html><html><body><h1>Internal Server Error</h1><p>Something went wrong. Please try again later.</p></body></html>'
  }
  // A goja stack starts with the message itself.
  const details = (err instanceof Error && err.stack ? err.stack : String(err)).split(hooksDir).join('')
  return `<!doctype html><html><body><h1>PocketPages Error</h1><pre><code>${escapeHtml(details)}</code></pre></body></html>`
}
