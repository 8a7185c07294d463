// @ts-check
// The local demo's mail catcher: a tiny SMTP server on 127.0.0.1 that prints every mail
// PocketBase sends (the upgrade code, a verification mail) to the terminal instead of delivering
// it, so "Email me a code" works on a machine without a mail server. Plain SMTP (no STARTTLS, no
// AUTH): PocketBase's mailer, with an empty SMTP username, sends to it as is. Local use only.

import net from 'node:net'

/** Marks the settings as ours, so a real SMTP configuration in pb_data is never overwritten. */
export const CATCHER_SENDER_NAME = 'Demo mail catcher'

/**
 * Starts the catcher; resolves with its port. Each mail is printed as "to, subject, text".
 * @param {(line: string) => void} print
 * @returns {Promise<{ port: number, close: () => void }>}
 */
export async function startMailCatcher(print) {
  const server = net.createServer((socket) => {
    socket.on('error', () => {})
    let buffer = ''
    let inData = false
    /** @type {string[]} */
    let to = []
    const reply = (/** @type {string} */ line) => socket.write(`${line}\r\n`)
    reply('220 demo mail catcher')
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1')
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n')
          if (end === -1) return
          print(describe(to, Buffer.from(buffer.slice(0, end), 'latin1').toString('utf8')))
          buffer = buffer.slice(end + 5)
          inData = false
          to = []
          reply('250 OK')
          continue
        }
        const eol = buffer.indexOf('\r\n')
        if (eol === -1) return
        const line = buffer.slice(0, eol)
        buffer = buffer.slice(eol + 2)
        const verb = line.split(' ', 1)[0].toUpperCase()
        if (verb === 'RCPT') to.push(/<([^>]*)>/.exec(line)?.[1] ?? '')
        if (verb === 'DATA') {
          inData = true
          reply('354 go ahead')
        } else if (verb === 'QUIT') {
          reply('221 bye')
          socket.end()
          return
        } else reply('250 OK')
      }
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)))
  const address = /** @type {net.AddressInfo} */ (server.address())
  server.unref()
  return { port: address.port, close: () => server.close() }
}

/**
 * What to print of a mail: its recipients, subject and text without markup (quoted-printable
 * undone), enough to read a code.
 * @param {string[]} to @param {string} data
 */
function describe(to, data) {
  const subject = /^Subject: (.*)$/im.exec(data)?.[1] ?? ''
  const decoded = data
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(Number.parseInt(hex, 16)))
  const html = decoded.slice(decoded.toLowerCase().indexOf('content-type: text/html'))
  const text = html
    .replace(/^[^\n]*\n(?:[A-Za-z-]+:[^\n]*\n)*/, '')
    .replace(/<(style|head)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/--[0-9a-f]{20,}--?/g, '')
    .replace(/\s+/g, ' ')
    .trim()
  return `\n[demo mail] to ${to.join(', ')}: ${subject}\n[demo mail] ${text.slice(0, 300)}\n`
}

/**
 * Points the demo's PocketBase at the catcher, unless pb_data has a real SMTP server configured.
 * @param {string} base @param {{ email: string, password: string }} superuser @param {number} port
 * @returns {Promise<boolean>} whether the catcher is in use
 */
export async function useMailCatcher(base, superuser, port) {
  const auth = await fetch(`${base}/api/collections/_superusers/auth-with-password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identity: superuser.email, password: superuser.password }),
  })
  if (!auth.ok) return false
  const { token } = /** @type {{ token: string }} */ (await auth.json())
  const headers = { authorization: token, 'content-type': 'application/json' }
  const current = await (await fetch(`${base}/api/settings`, { headers })).json()
  const ours = current.meta?.senderName === CATCHER_SENDER_NAME
  if (current.smtp?.enabled && !ours) return false
  const res = await fetch(`${base}/api/settings`, {
    method: 'PATCH',
    headers,
    body: JSON.stringify({
      meta: { senderName: CATCHER_SENDER_NAME, senderAddress: 'demo@example.com' },
      smtp: { enabled: true, host: '127.0.0.1', port, tls: false, username: '', password: '' },
    }),
  })
  return res.ok
}
