/**
 * Requests no person made: a browser's speculative prefetch or prerender, and well-known crawlers.
 *
 * Policy: `ensureGuest()` on a GET creates no guest for these (it returns null), so neither link
 * prefetching nor search engines fill the table with guests nobody will use. Only a browser's own
 * purpose headers and a short list of crawler names are read: both are what honest clients send,
 * and a client that hides them gets a guest like any visitor (the rate limits still apply). Words
 * are matched whole where a brand could contain them ("CUBOT" phones are not bots).
 */

/** `Sec-Purpose: prefetch` / `prefetch;prerender` (Chromium), `Purpose: prefetch` (older), `X-Moz: prefetch` (Firefox), `X-Purpose: preview` (Safari). */
const PURPOSE_HEADERS = ['Sec-Purpose', 'Purpose', 'X-Purpose', 'X-Moz'] as const
const SPECULATIVE = /\b(prefetch|prerender|preview)\b/i

/** Crawlers and link unfurlers by the names they send in User-Agent. */
const CRAWLERS =
  /\b(googlebot|google-inspectiontool|googleother|adsbot-google|mediapartners-google|bingbot|bingpreview|msnbot|slurp|duckduckbot|baiduspider|yandex(bot|images)?|applebot|petalbot|sogou|exabot|seznambot|facebookexternalhit|facebookcatalog|meta-externalagent|twitterbot|linkedinbot|slackbot|slack-imgproxy|discordbot|telegrambot|whatsapp|pinterestbot|redditbot|embedly|ahrefsbot|semrushbot|mj12bot|dotbot|rogerbot|gptbot|oai-searchbot|chatgpt-user|ccbot|claudebot|claude-web|anthropic-ai|perplexitybot|bytespider|amazonbot|ia_archiver|archive\.org_bot)\b|\b(crawler|spider)\b/i

export type MachineKind = 'speculative' | 'crawler'

/** What kind of machine sent the request, or null for (what looks like) a person's browser. */
export function machineRequest(header: (name: string) => string): MachineKind | null {
  for (const name of PURPOSE_HEADERS) {
    if (SPECULATIVE.test(header(name))) return 'speculative'
  }
  return CRAWLERS.test(header('User-Agent')) ? 'crawler' : null
}
