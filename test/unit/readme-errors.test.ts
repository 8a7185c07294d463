// The README's error table must list exactly the codes the plugin throws, with their statuses.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { AnonymousAuthError, ErrorCodes } from '../../src/core/errors.ts'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const start = readme.indexOf('\n## Errors\n')
const section = readme.slice(start, readme.indexOf('\n## ', start + 1))
const rows = new Map([...section.matchAll(/^\| `([A-Z_]+)` +\| (\d{3}) +\|/gm)].map((m) => [m[1]!, Number(m[2])]))

describe('README error table', () => {
  it('lists every error code, and no other', () => {
    assert.deepEqual([...rows.keys()].sort(), Object.keys(ErrorCodes).sort())
  })
  for (const code of Object.values(ErrorCodes)) {
    it(`documents the status of ${code}`, () => {
      assert.equal(rows.get(code), new AnonymousAuthError(code, '').status)
    })
  }
})
