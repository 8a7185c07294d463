// A raw HTTP/1.1 client over node:net, for requests fetch() cannot make: repeated header lines
// (two `Cookie:` lines), header lines in a chosen order and case, and bodies exactly as written.
// One request per connection (`Connection: close`); the response is read to the end.
import net from 'node:net'
import { parseSetCookie, type SetCookie } from './http.ts'

export interface RawRequest {
  method?: string
  /** Path and query, e.g. '/login'. */
  path: string
  /** Header lines in order; a name may repeat. Host and Connection are added unless given. */
  headers?: [string, string][]
  /** Sent as is, with a Content-Length. */
  body?: string
  timeoutMs?: number
}

export interface RawResponse {
  status: number
  /** Every header line, in order, names lower-cased. */
  headers: [string, string][]
  body: string
  /** The first value of a header, or undefined. */
  header(name: string): string | undefined
  /** Every value of a header (one per line). */
  headerValues(name: string): string[]
  /** The Set-Cookie lines, parsed. */
  setCookies(): SetCookie[]
}

/** Sends one request to `baseUrl` (http://host:port) and returns the whole response. */
export function rawRequest(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl)
  const host = url.hostname
  const port = Number(url.port || 80)
  const headers = [...(req.headers ?? [])]
  const has = (name: string) => headers.some(([n]) => n.toLowerCase() === name)
  if (!has('host')) headers.unshift(['Host', url.host])
  if (!has('connection')) headers.push(['Connection', 'close'])
  if (req.body !== undefined && !has('content-length'))
    headers.push(['Content-Length', String(Buffer.byteLength(req.body))])
  const head = `${req.method ?? 'GET'} ${req.path} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`

  return new Promise<RawResponse>((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = net.connect({ host, port })
    socket.setTimeout(req.timeoutMs ?? 15_000, () => socket.destroy(new Error(`raw request timed out: ${req.path}`)))
    socket.on('connect', () => socket.end(req.body === undefined ? head : head + req.body))
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => {
      try {
        resolve(parseResponse(Buffer.concat(chunks)))
      } catch (error) {
        reject(error)
      }
    })
  })
}

function parseResponse(data: Buffer): RawResponse {
  const end = data.indexOf('\r\n\r\n')
  if (end < 0) throw new Error(`no complete HTTP response head in ${data.length} bytes: ${data.toString('latin1')}`)
  const lines = data.subarray(0, end).toString('latin1').split('\r\n')
  const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')
  if (!statusLine) throw new Error(`not an HTTP status line: ${lines[0]}`)
  const headers: [string, string][] = lines.slice(1).map((line) => {
    const colon = line.indexOf(':')
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]
  })
  const values = (name: string) => headers.filter(([n]) => n === name.toLowerCase()).map(([, v]) => v)
  let body = data.subarray(end + 4)
  if (/chunked/i.test(values('transfer-encoding').join(','))) body = dechunk(body)
  else {
    const length = values('content-length')[0]
    if (length !== undefined) body = body.subarray(0, Number(length))
  }
  return {
    status: Number(statusLine[1]),
    headers,
    body: body.toString('utf8'),
    header: (name) => values(name)[0],
    headerValues: values,
    setCookies: () => values('set-cookie').map(parseSetCookie),
  }
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = data.indexOf('\r\n', at)
    if (eol < 0) break
    const size = Number.parseInt(data.subarray(at, eol).toString('latin1'), 16)
    if (!Number.isFinite(size) || size === 0) break
    parts.push(data.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
  return Buffer.concat(parts)
}

export interface UploadResponse {
  status: number
  head: string
  body: string
}

/**
 * POSTs a large body as a browser uploads it: `head` then `body` in 64 KiB writes on a kept-alive
 * connection, stopping once an answer arrives (the server may answer before reading everything,
 * then close), and returns when the answer is complete. Write errors after an early answer
 * (EPIPE, ECONNRESET) are expected and ignored.
 */
export function rawUpload(port: number, head: string, body: Buffer, timeoutMs = 30_000): Promise<UploadResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let received = ''
    let sent = 0
    let answer: UploadResponse | undefined
    const parse = (): UploadResponse | undefined => {
      const end = received.indexOf('\r\n\r\n')
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(received)?.[1])
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(received.slice(0, end))?.[1] ?? Number.NaN)
      if (end === -1 || !status || Buffer.byteLength(received.slice(end + 4)) < length) return undefined
      return { status, head: received.slice(0, end), body: received.slice(end + 4) }
    }
    socket.setEncoding('utf8')
    socket.setTimeout(timeoutMs, () => socket.destroy())
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

/** The head of a POST for rawUpload. */
export const uploadHead = (path: string, headers: Record<string, string | number>): string =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`
