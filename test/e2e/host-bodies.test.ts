// The stand-in host's request-body limits (issue 8.6): a page route refuses an oversized, over-many-field,
// chunked or unparseable body with a small 4xx page, never a 5xx, and logs no stack trace for it.
// Raw HTTP over node:net, so the tests control Content-Length and Transfer-Encoding.
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe, it } from 'node:test'
import { flushedLogs } from '../support/logs.ts'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

interface RawResponse {
  status: number
  head: string
  body: string
}

/**
 * Sends `head` then `body` in 64 KiB writes, as a browser uploads (keep-alive, no
 * `Connection: close`), stops writing once an answer arrives (the server may refuse before
 * reading the body) and returns when the answer is complete. Write errors after an early
 * answer (EPIPE, ECONNRESET) are expected and ignored.
 */
function rawRequest(port: number, head: string, body: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let received = ''
    let sent = 0
    let answer: RawResponse | undefined
    const parse = (): RawResponse | undefined => {
      const end = received.indexOf('\r\n\r\n')
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(received)?.[1])
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(received.slice(0, end))?.[1] ?? Number.NaN)
      if (end === -1 || !status || Buffer.byteLength(received.slice(end + 4)) < length) return undefined
      return { status, head: received.slice(0, end), body: received.slice(end + 4) }
    }
    socket.setEncoding('utf8')
    socket.setTimeout(20_000, () => socket.destroy())
    socket.on('data', (chunk: string) => {
      received += chunk
      answer = parse()
      if (answer) socket.destroy()
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      answer ??= parse()
      if (answer) resolve(answer)
      else reject(new Error(`no HTTP answer (sent ${sent} of ${body.length} body bytes): ${received.slice(0, 200)}`))
    })
    socket.write(head)
    const pump = (): void => {
      while (sent < body.length && received === '') {
        const chunk = body.subarray(sent, sent + 65536)
        sent += chunk.length
        if (!socket.write(chunk)) {
          socket.once('drain', pump)
          return
        }
      }
    }
    pump()
  })
}

const requestHead = (path: string, headers: Record<string, string | number>) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`

const URLENCODED = 'application/x-www-form-urlencoded'

function post(pb: PocketBaseServer, path: string, contentType: string, body: string): Promise<RawResponse> {
  const bytes = Buffer.from(body)
  return rawRequest(pb.port, requestHead(path, { 'Content-Type': contentType, 'Content-Length': bytes.length }), bytes)
}

const fields = (n: number) => Array.from({ length: n }, (_, i) => `f${i}=x`).join('&')
const text = (html: string, id: string) => new RegExp(`id="${id}">([^<]*)<`).exec(html)?.[1]

const STACK_TRACE = /goroutine|stack|^\s+at /im

describe('request bodies on page routes', () => {
  let pb: PocketBaseServer

  before(async () => {
    pb = await startPocketBase({
      hooksOverlay: {
        // Test-only pages, on a temporary copy of pb_hooks: one reads the body without a try/catch,
        // the other catches the error and renders its message.
        'pages/form-echo.ejs': `<script server>const form = body()</script><p id="name"><%= form.name %></p><p id="count"><%= Object.keys(form).length %></p>`,
        'pages/form-caught.ejs': `<script server>let message = 'none'; try { body() } catch (e) { message = e.message }</script><p id="message"><%= message %></p>`,
      },
    })
  })
  after(() => pb?.stop())

  it('still reads a normal form, urlencoded and multipart', async () => {
    const urlencoded = await post(pb, '/form-echo', URLENCODED, 'name=Ada+Lovelace&x=1')
    assert.equal(urlencoded.status, 200, urlencoded.body)
    assert.equal(text(urlencoded.body, 'name'), 'Ada Lovelace')
    const multipart = await post(
      pb,
      '/form-echo',
      'multipart/form-data; boundary=XX',
      '--XX\r\nContent-Disposition: form-data; name="name"\r\n\r\nGrace\r\n--XX--\r\n',
    )
    assert.equal(multipart.status, 200, multipart.body)
    assert.equal(text(multipart.body, 'name'), 'Grace')
  })

  it('accepts 1,000 fields and refuses 1,001 with 400', async () => {
    const limit = await post(pb, '/form-echo', URLENCODED, fields(1000))
    assert.equal(limit.status, 200, limit.body)
    assert.equal(text(limit.body, 'count'), '1000')
    const over = await post(pb, '/form-echo', URLENCODED, fields(1001))
    assert.equal(over.status, 400)
    assert.match(over.body, /more than 1000 fields/)
  })

  it('refuses a 2 MB urlencoded body with 413 before reading it', async () => {
    for (const path of ['/form-echo', '/login']) {
      const res = await post(pb, path, URLENCODED, `mode=${'a'.repeat(2 * 1024 * 1024)}`)
      assert.equal(res.status, 413, `${path}: ${res.body.slice(0, 300)}`)
      assert.match(res.body, /<h1>Content Too Large<\/h1><p>The request body is larger than 1024 KiB\.<\/p>/)
    }
  })

  it('refuses 20,000 fields with 400, whether or not the page catches the error', async () => {
    for (const path of ['/form-echo', '/login', '/form-caught']) {
      const res = await post(pb, path, URLENCODED, fields(20_000))
      assert.equal(res.status, 400, `${path}: ${res.body.slice(0, 300)}`)
    }
    const caught = await post(pb, '/form-caught', URLENCODED, fields(20_000))
    assert.match(text(caught.body, 'message') ?? '', /The request body could not be read|more than 1000 fields/)
  })

  it('refuses a chunked body (no Content-Length) with 411', async () => {
    const head = requestHead('/form-echo', { 'Content-Type': URLENCODED, 'Transfer-Encoding': 'chunked' })
    const res = await rawRequest(pb.port, head, Buffer.from('9\r\nname=Ada!\r\n0\r\n\r\n'))
    assert.equal(res.status, 411, res.body)
    assert.match(res.body, /Content-Length/)
  })

  it('refuses a malformed multipart body with 400, caught or not', async () => {
    const malformed = '--XX\r\nContent-Disposition: form-data; name="name"\r\n\r\nAda\r\n--XX'
    for (const path of ['/form-echo', '/login', '/form-caught']) {
      const res = await post(pb, path, 'multipart/form-data; boundary=XX', malformed)
      assert.equal(res.status, 400, `${path}: ${res.body.slice(0, 300)}`)
      assert.match(res.body, /could not be read/)
    }
  })

  it('logs no stack trace for any of them', async () => {
    const entries = await flushedLogs(pb)
    const traced = entries.filter((entry) => STACK_TRACE.test(entry.message) || STACK_TRACE.test(entry.rawData))
    assert.deepEqual(traced, [])
    assert.doesNotMatch(pb.logs(), STACK_TRACE)
    assert.ok(
      entries.every((entry) => !entry.message.includes('error serving')),
      'the host logged a page error',
    )
  })
})
