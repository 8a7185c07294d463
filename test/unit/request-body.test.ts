// guardBody (src/plugin/request-body.ts): the plugin parses the body before or besides the page (for
// PocketBase's record enrichment, for a form field an operation reads) and must not change what the
// page's body()/formData() give. The fake copies PocketBase + Go: a failed parse throws once, then
// Go's cached empty form reads {}. `pageFunctions` copies PocketPages: the page gets the request's
// body/formData as they are after onRequest.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { guardBody } from '../../src/plugin/request-body.ts'
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

type Page = { body: () => unknown; formData: () => unknown }

/** What PocketPages hands the page after every onRequest: the request's functions as they are then. */
const pageFunctions = (request: PagesRequest): Page => ({ body: request.body, formData: request.formData })

/** What a page's body() calls give: each call's value or the message it threw. */
function pageReads(page: Page, calls: ('body' | 'formData')[]): unknown[] {
  return calls.map((name) => {
    try {
      return page[name]()
    } catch (e) {
      return `threw: ${(e as Error).message}`
    }
  })
}

const ERROR = 'http: POST too large'

describe('guardBody: the page sees what it would see without the plugin', () => {
  it('the fake copies PocketBase: a refused body throws once, then reads {}', () => {
    const { request } = requestWith({ error: new Error(ERROR) })
    assert.deepEqual(pageReads(pageFunctions(request), ['body', 'body', 'formData']), [`threw: ${ERROR}`, {}, {}])
  })
  it('a body that parses: true, and the page reads the same form', () => {
    const form = { name: 'Ada' }
    const { request } = requestWith({ form })
    const parsed = guardBody(request)
    const page = pageFunctions(request)
    assert.equal(parsed(), true, 'the body parsed')
    assert.deepEqual(pageReads(page, ['body', 'formData']), [form, form], 'the same form')
  })
  it('parsed in onRequest (the enrichment): the page’s first read throws the same error', () => {
    const { request } = requestWith({ error: new Error(ERROR) })
    const parsed = guardBody(request)
    assert.equal(parsed(), false, 'the body could not be read')
    const page = pageFunctions(request)
    assert.deepEqual(pageReads(page, ['body', 'body', 'formData']), [`threw: ${ERROR}`, {}, {}], 'as signed out')
  })
  it('parsed while the page runs (a form field ensureGuest reads): the page’s next read throws it', () => {
    const { request } = requestWith({ error: new Error(ERROR) })
    const parsed = guardBody(request)
    const page = pageFunctions(request) // handed to the page before the plugin parses
    assert.equal(parsed(), false, 'the operation found the body unreadable')
    assert.deepEqual(pageReads(page, ['formData', 'body']), [`threw: ${ERROR}`, {}], 'thrown once, either way')
  })
  it('the page read first: the plugin’s parse finds what PocketBase then has, and takes nothing', () => {
    const { request } = requestWith({ error: new Error(ERROR) })
    const parsed = guardBody(request)
    const page = pageFunctions(request)
    assert.deepEqual(pageReads(page, ['body']), [`threw: ${ERROR}`], 'the page met the error')
    assert.equal(parsed(), true, 'Go kept an empty form: it reads')
    assert.deepEqual(pageReads(page, ['body']), [{}], 'what the page would read anyway')
  })
  it('the very error object is thrown again', () => {
    const error = new Error('malformed')
    const { request } = requestWith({ error })
    const parsed = guardBody(request)
    parsed()
    assert.throws(
      () => request.body(),
      (e) => e === error,
      'the same error object',
    )
  })
  it('parses at most once per request', () => {
    const { request, parses } = requestWith({ error: new Error(ERROR) })
    const parsed = guardBody(request)
    assert.deepEqual([parsed(), parsed()], [false, false], 'unreadable, both times')
    assert.equal(parses(), 1, 'one parse')
    assert.deepEqual(pageReads(pageFunctions(request), ['body']), [`threw: ${ERROR}`], 'the error still waits')
  })
  it('no body: nothing is parsed', () => {
    const { request, parses } = requestWith({ error: new Error('never') }, 0)
    assert.equal(guardBody(request)(), true, 'nothing to protect')
    assert.equal(parses(), 0, 'no parse for an empty body')
  })
  it('a body of unknown length (chunked) is parsed like any other', () => {
    const { request, parses } = requestWith({ error: new Error('bad chunk') }, -1)
    assert.equal(guardBody(request)(), false, 'a chunked body that fails')
    assert.equal(parses(), 1, 'parsed once')
  })
})
