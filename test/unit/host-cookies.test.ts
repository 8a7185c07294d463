// The host's cookie and body-limit helpers (the cookie codec itself is the `cookie` package).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { countFields, lengthFailure, MAX_BODY_BYTES, MAX_FIELDS, parseCookies } from '../../src/host/http.ts'

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

describe('body limits', () => {
  it('refuse a declared length over 1 MiB (413) and an unknown length (411)', () => {
    assert.equal(lengthFailure(0), null)
    assert.equal(lengthFailure(MAX_BODY_BYTES), null)
    assert.equal(lengthFailure(MAX_BODY_BYTES + 1)?.status, 413)
    assert.equal(lengthFailure(-1)?.status, 411)
  })

  it('count every value of a parsed body', () => {
    assert.equal(countFields({}), 0)
    assert.equal(countFields({ a: 'x', b: ['1', '2', '3'], c: '' }), 5)
    const many = Object.fromEntries(Array.from({ length: MAX_FIELDS + 1 }, (_, i) => [`f${i}`, 'x']))
    assert.equal(countFields(many), MAX_FIELDS + 1)
  })
})
