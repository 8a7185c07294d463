// The host's cookie helper (the cookie codec itself is the `cookie` package).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseCookies } from '../../src/host/http.ts'

describe('parseCookies', () => {
  it('decodes values and JSON-parses them where it can, like PocketPages', () => {
    const header = 'pb_auth=%7B%22token%22%3A%22t%22%7D; name=Ada; n=42; flag=true; q="x"; e='
    assert.deepEqual(parseCookies(header), { pb_auth: { token: 't' }, name: 'Ada', n: 42, flag: true, q: 'x', e: '' })
  })

  it('keeps the first of duplicate names', () => {
    assert.deepEqual(parseCookies('a=1; a=2'), { a: 1 })
  })

  it('never throws on hostile input', () => {
    for (const header of ['', ';;;', '=', '=x', 'a', 'bad=%E0%A4%A', 'x=%', 'a=b=c', ' spaced = v ']) {
      assert.doesNotThrow(() => parseCookies(header), header)
    }
    assert.deepEqual(parseCookies('bad=%E0%A4%A; x=%; a=b=c'), { bad: '%E0%A4%A', x: '%', a: 'b=c' })
  })
})
