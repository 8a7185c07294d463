// Requests no person made (machine-request.ts): speculative loads by their purpose headers, and
// well-known crawlers by User-Agent; browsers (and brands that merely contain "bot") are people.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { machineRequest } from '../../src/core/machine-request.ts'
import { CHROME } from '../support/http.ts'

function kind(headers: Record<string, string>) {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
  return machineRequest((name) => lower[name.toLowerCase()] ?? '')
}

describe('machineRequest', () => {
  const rows: [string, Record<string, string>, ReturnType<typeof machineRequest>][] = [
    ['a browser', { 'User-Agent': CHROME }, null],
    ['no headers at all', {}, null],
    ['Chromium prefetch (Sec-Purpose: prefetch)', { 'Sec-Purpose': 'prefetch', 'User-Agent': CHROME }, 'speculative'],
    ['Chromium prerender (Sec-Purpose: prefetch;prerender)', { 'Sec-Purpose': 'prefetch;prerender' }, 'speculative'],
    ['older Chrome (Purpose: prefetch)', { Purpose: 'prefetch' }, 'speculative'],
    ['Firefox (X-Moz: prefetch)', { 'X-Moz': 'prefetch' }, 'speculative'],
    ['Safari top sites (X-Purpose: preview)', { 'X-Purpose': 'preview' }, 'speculative'],
    ['an unknown purpose is not speculative', { 'Sec-Purpose': 'navigate' }, null],
    [
      'Googlebot',
      { 'User-Agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' },
      'crawler',
    ],
    ['bingbot', { 'User-Agent': 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)' }, 'crawler'],
    ['Slack unfurler', { 'User-Agent': 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' }, 'crawler'],
    ['facebookexternalhit', { 'User-Agent': 'facebookexternalhit/1.1' }, 'crawler'],
    [
      'GPTBot',
      { 'User-Agent': 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.1)' },
      'crawler',
    ],
    ['Yandex by its bare name', { 'User-Agent': 'Yandex/1.01.001 (compatible; Win16; I)' }, 'crawler'],
    [
      'YandexImages',
      { 'User-Agent': 'Mozilla/5.0 (compatible; YandexImages/3.0; +http://yandex.com/bots)' },
      'crawler',
    ],
    ['a generic spider', { 'User-Agent': 'SomeSite Spider 3.0' }, 'crawler'],
    ['a CUBOT phone is a person', { 'User-Agent': `Mozilla/5.0 (Linux; Android 11; CUBOT NOTE 20) ${CHROME}` }, null],
    ['"robot" inside a word is not a crawler', { 'User-Agent': `${CHROME} RobotoFont` }, null],
  ]
  for (const [name, headers, expected] of rows) {
    it(`${name}: ${expected ?? 'a person'}`, () => {
      assert.equal(kind(headers), expected, `${name} misread`)
    })
  }
})
