// A small SMTP server on 127.0.0.1 that keeps every mail it receives, for the e2e tests that need
// to read what PocketBase sends (a verification mail, a one-time code).
//
//   const sink = await startSmtpSink()
//   await useSmtpSink(pb, sink)                  // PocketBase's mail settings point at it
//   const mail = await sink.waitFor(address)     // mail.subject, mail.text (decoded bodies)
//   await sink.close()
//
// Enough of SMTP for PocketBase's Go mailer: EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT.
// It advertises neither STARTTLS nor AUTH, so the mailer (empty SMTP username) sends in the clear
// without logging in. Bodies are decoded enough to read them: multipart, quoted-printable, base64,
// and RFC 2047 encoded headers.
import net from 'node:net'
import type { PocketBaseServer } from './pocketbase.ts'

export interface SinkMail {
  from: string
  /** Recipients from RCPT TO, lower-cased. */
  to: string[]
  /** The raw message as received (headers and encoded body, dot-unstuffed). */
  data: string
  /** The decoded Subject header. */
  subject: string
  /** Every text part (text/plain and text/html), decoded, joined by blank lines. */
  text: string
}

export interface SmtpSink {
  port: number
  mails: SinkMail[]
  /** Every mail to `address` so far (lower-case compare). */
  mailsTo(address: string): SinkMail[]
  /**
   * Resolves with the `index`-th mail (0 = the first) to `address`, or rejects after timeoutMs,
   * naming what did arrive.
   */
  waitFor(address: string, options?: { timeoutMs?: number; index?: number }): Promise<SinkMail>
  close(): Promise<void>
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const mails: SinkMail[] = []
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    serve(socket, (mail) => mails.push(mail))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  const mailsTo = (address: string) => mails.filter((m) => m.to.includes(address.toLowerCase()))
  return {
    port,
    mails,
    mailsTo,
    async waitFor(address, { timeoutMs = 10_000, index = 0 } = {}) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const mail = mailsTo(address)[index]
        if (mail) return mail
        if (Date.now() > deadline) {
          const seen = mails.flatMap((m) => m.to).join(', ')
          throw new Error(`no mail #${index + 1} to ${address} within ${timeoutMs} ms (got ${mails.length}: ${seen})`)
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** PocketBase's mail settings (superuser API) pointed at `port` on 127.0.0.1: plain SMTP, no login. */
export async function useSmtpSink(pb: PocketBaseServer, port: number): Promise<void> {
  await pb.apiJson('/api/settings', {
    method: 'PATCH',
    body: {
      meta: { senderAddress: 'noreply@example.com', senderName: 'Sink test' },
      smtp: { enabled: true, host: '127.0.0.1', port, tls: false, username: '', password: '' },
    },
  })
}

/** Turns SMTP off again (PocketBase then falls back to a sendmail binary). */
export async function disableSmtp(pb: PocketBaseServer): Promise<void> {
  await pb.apiJson('/api/settings', { method: 'PATCH', body: { smtp: { enabled: false } } })
}

/** The one SMTP session of a connection. */
function serve(socket: net.Socket, deliver: (mail: SinkMail) => void): void {
  let buffer = ''
  let inData = false
  let from = ''
  let to: string[] = []
  const reply = (line: string) => socket.write(`${line}\r\n`)
  reply('220 sink ESMTP ready')
  socket.on('data', (chunk) => {
    buffer += chunk.toString('latin1')
    for (;;) {
      if (inData) {
        // The data ends with a line holding one dot; the leading CRLF belongs to the terminator.
        const end = buffer.startsWith('.\r\n') ? 0 : buffer.indexOf('\r\n.\r\n')
        if (end === -1) return
        const raw = end === 0 ? '' : buffer.slice(0, end)
        buffer = buffer.slice(end === 0 ? 3 : end + 5)
        inData = false
        const data = raw.replace(/^\.\./gm, '.') // dot-unstuffing
        deliver({ from, to, data, ...decode(Buffer.from(data, 'latin1').toString('utf8')) })
        from = ''
        to = []
        reply('250 OK queued')
        continue
      }
      const eol = buffer.indexOf('\r\n')
      if (eol === -1) return
      const line = buffer.slice(0, eol)
      buffer = buffer.slice(eol + 2)
      const verb = line.split(' ', 1)[0]!.toUpperCase()
      if (verb === 'EHLO') {
        // Multi-line: the greeting, then extensions (none that need TLS or a login).
        reply('250-sink greets you')
        reply('250-8BITMIME')
        reply('250 SMTPUTF8')
      } else if (verb === 'HELO') reply('250 sink')
      else if (verb === 'MAIL') {
        from = /<([^>]*)>/.exec(line)?.[1] ?? ''
        reply('250 OK')
      } else if (verb === 'RCPT') {
        to.push((/<([^>]*)>/.exec(line)?.[1] ?? '').toLowerCase())
        reply('250 OK')
      } else if (verb === 'DATA') {
        inData = true
        reply('354 End data with <CR><LF>.<CR><LF>')
      } else if (verb === 'RSET') {
        from = ''
        to = []
        reply('250 OK')
      } else if (verb === 'QUIT') {
        reply('221 Bye')
        socket.end()
        return
      } else if (verb === 'NOOP') reply('250 OK')
      else reply('502 Command not implemented')
    }
  })
}

// ---------------------------------------------------------------------------------------------
// Reading a MIME message, just enough for tests

interface Part {
  headers: Map<string, string>
  body: string
}

function decode(message: string): { subject: string; text: string } {
  const root = splitPart(message)
  return { subject: decodeWords(root.headers.get('subject') ?? ''), text: textOf(root).join('\n\n') }
}

function splitPart(raw: string): Part {
  const normalized = raw.replace(/\r\n/g, '\n')
  const split = normalized.indexOf('\n\n')
  const head = split === -1 ? normalized : normalized.slice(0, split)
  const body = split === -1 ? '' : normalized.slice(split + 2)
  const headers = new Map<string, string>()
  // Unfold continuation lines, then one header per line.
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  return { headers, body }
}

function textOf(part: Part): string[] {
  const type = (part.headers.get('content-type') ?? 'text/plain').toLowerCase()
  if (type.startsWith('multipart/')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(part.headers.get('content-type') ?? '')?.[1]
    if (!boundary) return []
    const pieces = part.body.split(`--${boundary}`).slice(1)
    return pieces.filter((p) => !p.startsWith('--')).flatMap((p) => textOf(splitPart(p.replace(/^\n/, ''))))
  }
  if (!type.startsWith('text/')) return []
  const encoding = (part.headers.get('content-transfer-encoding') ?? '').toLowerCase()
  if (encoding === 'base64') return [Buffer.from(part.body.replace(/\s+/g, ''), 'base64').toString('utf8')]
  if (encoding === 'quoted-printable') return [decodeQuotedPrintable(part.body)]
  return [part.body]
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\n/g, '') // soft line breaks
    .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
  return Buffer.from(bytes, 'latin1').toString('utf8')
}

/** RFC 2047 encoded words (`=?utf-8?q?...?=`, `=?utf-8?b?...?=`). */
function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=\s*/g, (_, _charset: string, kind: string, text: string) =>
    kind.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : decodeQuotedPrintable(text.replace(/_/g, ' ')),
  )
}
