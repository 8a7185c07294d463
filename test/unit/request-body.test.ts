// parseBodyFirst (src/plugin/request-body.ts): the plugin parses the body before the page (for
// PocketBase's record enrichment) and must not change what the page's body()/formData() give.
// The fake copies PocketBase + Go: a failed parse throws once, then Go's cached empty form reads {}.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseBodyFirst } from '../../src/plugin/request-body.ts'
import type { PagesRequest } from '../../src/pocketpages/types.ts'

/** A request whose body parses to `form`, or fails once with `error` and reads {} after (Go's ParseForm). */
function requestWith(outcome: { form: Record<string, unknown> } | { error: Error }, contentLength = 100) {
  let parses = 0
  const requestInfo = () => {
    parses++
    if ('form' in outcome) return { body: outcome.form }
    if (parses === 1) throw outcome.error
    return { body: {} }
  }
  const request = {
    event: { request: { contentLength } },
    body: () => requestInfo().body,
    formData: () => requestInfo().body,
  } as unknown as PagesRequest
  return { request, parses: () => parses }
}

/** What a page's body() calls give: each call's value or the message it threw. */
function pageReads(request: PagesRequest, calls: ('body' | 'formData')[]): unknown[] {
  return calls.map((name) => {
    try {
      return request[name]()
    } catch (e) {
      return `threw: ${(e as Error).message}`
    }
  })
}

describe('parseBodyFirst: the page sees what it would see without the plugin', () => {
  it('a body that parses: true, and the page reads the same form', () => {
    const form = { name: 'Ada' }
    const { request } = requestWith({ form })
    const before = request.body
    assert.equal(parseBodyFirst(request), true, 'the body parsed')
    assert.equal(request.body, before, 'body() is left as it is')
    assert.deepEqual(pageReads(request, ['body', 'formData']), [form, form], 'the same form')
  })
  it('a body that cannot be parsed: false, and the page’s first read throws the same error', () => {
    const error = new Error('http: POST too large')
    const signedOut = requestWith({ error }).request
    const expected = pageReads(signedOut, ['body', 'body', 'formData'])
    assert.deepEqual(expected, ['threw: http: POST too large', {}, {}], 'the fake copies PocketBase')
    const { request } = requestWith({ error })
    assert.equal(parseBodyFirst(request), false, 'the body could not be read')
    assert.deepEqual(
      pageReads(request, ['body', 'body', 'formData']),
      expected,
      'the page sees what it sees signed out',
    )
  })
  it('the first read may be formData()', () => {
    const { request } = requestWith({ error: new Error('too many fields') })
    parseBodyFirst(request)
    assert.deepEqual(
      pageReads(request, ['formData', 'body']),
      ['threw: too many fields', {}],
      'thrown once, either way',
    )
  })
  it('the very error object is thrown again', () => {
    const error = new Error('malformed')
    const { request } = requestWith({ error })
    parseBodyFirst(request)
    assert.throws(
      () => request.body(),
      (e) => e === error,
      'the same error object',
    )
  })
  it('no body: nothing is parsed', () => {
    const { request, parses } = requestWith({ error: new Error('never') }, 0)
    assert.equal(parseBodyFirst(request), true, 'nothing to protect')
    assert.equal(parses(), 0, 'no parse for an empty body')
  })
  it('a body of unknown length (chunked) is parsed like any other', () => {
    const { request, parses } = requestWith({ error: new Error('bad chunk') }, -1)
    assert.equal(parseBodyFirst(request), false, 'a chunked body that fails')
    assert.equal(parses(), 1, 'parsed once')
  })
})
