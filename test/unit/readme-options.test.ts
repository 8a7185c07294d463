// The README's option table, and the names it documents, must say exactly what the code does
// (documented defaults drift).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { CLEANUP_CRON_ID, CLEANUP_ROUTE_PATH } from '../../src/core/constants.ts'
import { defaultOptions } from '../../src/core/options.ts'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const start = readme.indexOf('\n## Options\n')
const section = readme.slice(start, readme.indexOf('\n## ', start + 1))
const rows = [...section.matchAll(/^\| `([A-Za-z0-9.]+)` +\| ([^|]+) \|/gm)].map((m) => [m[1]!, m[2]!.trim()] as const)

/** defaultOptions() flattened to dotted paths. */
function flatten(value: Record<string, unknown>, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>()
  for (const [key, v] of Object.entries(value)) {
    if (v && typeof v === 'object' && !Array.isArray(v))
      for (const [k, w] of flatten(v as Record<string, unknown>, `${prefix}${key}.`)) out.set(k, w)
    else out.set(`${prefix}${key}`, v)
  }
  return out
}

/** Reads a README default: a backticked JS literal, `[collection]`, or "none". */
function documented(text: string): unknown {
  if (text === 'none') return null
  if (text === '`[collection]`') return [defaultOptions().collection]
  const literal = /^`(.*)`$/.exec(text)
  assert.ok(literal, `README default ${text} is not a backticked literal`)
  return JSON.parse(literal[1]!.replace(/'/g, '"'))
}

describe('README: the names it tells operators to use', () => {
  it('the cleanup cron job id and its manual route', () => {
    assert.ok(readme.includes(`cron job \`${CLEANUP_CRON_ID}\``), CLEANUP_CRON_ID)
    assert.ok(readme.includes(`http://127.0.0.1:8090${CLEANUP_ROUTE_PATH}\n`), CLEANUP_ROUTE_PATH)
  })
})

describe('README option table', () => {
  const code = flatten(defaultOptions() as unknown as Record<string, unknown>)
  it('lists every option the code has, and no other', () => {
    assert.deepEqual(rows.map(([name]) => name).sort(), [...code.keys()].sort())
  })
  for (const [name, text] of rows) {
    it(`documents the real default of ${name}`, () => {
      assert.deepEqual(documented(text), code.get(name) ?? null)
    })
  }
})
