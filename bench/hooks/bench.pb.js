/// <reference path="../../node_modules/pocketbase-jsvm/index.d.ts" />
// Bench-only routes. scripts/bench.mjs copies this file into a TEMPORARY copy of pb_hooks (the
// harness's hooksOverlay) for the benchmark server only; it is never part of the app.
//
// Handlers run in PocketBase's pool of goja VMs and cannot see this file's top-level scope, so
// every handler is self-contained.

// (c) The floor: one record insert into a plain base collection, no PocketPages, no plugin.
routerAdd('POST', '/bench/insert', (e) => {
  const c = $app.findCachedCollectionByNameOrId('bench_rows')
  const r = new Record(c)
  r.set('value', $security.randomString(20))
  $app.save(r)
  return e.noContent(204)
})

// Diagnostic: the plugin's own signInAnonymously() through its public PocketPages plugin
// interface (onRequest -> onExtendContextApi), but with no PocketPages page: no routing, no
// form parsing, no EJS: what /login costs minus the page machinery. The demo's PocketPages
// middleware still runs first (it runs for every request and builds the plugins), as for
// /login, so this route keeps its own plugin instance per VM instead of building a second one
// per request (an instance holds one request's state at a time).
routerAdd('POST', '/bench/guest-direct', (e) => {
  if (!globalThis.__benchAnonymousPlugin) {
    const factory = require('pocketpages-plugin-anonymous').default
    const perIp = Number($os.getenv('ANONYMOUS_RATE_LIMIT_PER_IP') || '30')
    globalThis.__benchAnonymousPlugin = factory(
      {},
      {
        debug: false,
        collection: 'users',
        rateLimit: { perIp: perIp, global: 0 },
        upgrade: { sendVerificationEmail: false },
      },
    )
  }
  const plugin = globalThis.__benchAnonymousPlugin
  const request = require(`${__hooks}/bench-guest.js`).pagesRequest(e, 'POST', '/bench/guest-direct')
  // The parts of PocketPages' response object a plugin may touch.
  const response = {
    cookie: () => undefined,
    header: (name, value) =>
      value === undefined ? e.response.header().get(name) : e.response.header().set(name, value),
    redirect: (to, status) => e.redirect(status || 302, to),
    json: (status, data) => e.json(status, data),
    html: (status, data) => e.html(status, data),
    write: (text) => e.string(200, text),
    file: () => undefined,
  }
  plugin.onRequest({ request: request, response: response })
  const api = { request: request, response: response }
  plugin.onExtendContextApi({ api: api })
  api.signInAnonymously()
  return e.redirect(302, '/')
})

// Diagnostic: the same database work written by hand, no plugin code: in ONE transaction the
// rate-limit window count + its log row + the guest insert (ready-made hash, no bcrypt), then
// PocketBase's auth token and the pb_auth cookie.
routerAdd('POST', '/bench/guest-raw', (e) => {
  const guest = require(`${__hooks}/bench-guest.js`)
  const users = $app.findCachedCollectionByNameOrId('users')
  const ipKey = $security.sha256(e.realIP())
  const now = Date.now()
  let record = null
  $app.runInTransaction((tx) => {
    const row = new DynamicModel({ count: 0, oldest: 0 })
    tx.db()
      .newQuery(
        'SELECT COUNT(*) AS count, COALESCE(MIN(created), 0) AS oldest FROM pocketpages_anonymous_signins WHERE ipKey = {:ipKey} AND created > {:since}',
      )
      .bind({ ipKey: ipKey, since: now - 3600 * 1000 })
      .one(row)
    tx.db()
      .newQuery('INSERT INTO pocketpages_anonymous_signins (ipKey, created) VALUES ({:ipKey}, {:created})')
      .bind({ ipKey: ipKey, created: now })
      .execute()
    const r = guest.newGuestRecord(users)
    tx.save(r)
    record = r
  })
  return guest.redirectWithGuestCookie(e, users, record)
})

// Diagnostic: only the guest insert (no transaction, no rate-limit count or log row), then the
// token and the cookie. Compared with /bench/guest-raw it prices the rate-limit bookkeeping;
// compared with /bench/insert it prices the users table (more fields, indexes, auth validation).
routerAdd('POST', '/bench/guest-insert', (e) => {
  const guest = require(`${__hooks}/bench-guest.js`)
  const users = $app.findCachedCollectionByNameOrId('users')
  const r = guest.newGuestRecord(users)
  $app.save(r)
  return guest.redirectWithGuestCookie(e, users, r)
})

// The two GET diagnostics below live under /api/ so that the demo's PocketPages middleware (which
// runs for every request) does not read the guest cookie they are sent: the difference between
// them is PocketBase's own token check.

// Diagnostic floor for the GET scenarios: a JS route that does nothing.
routerAdd('GET', '/api/bench/noop', (e) => e.string(200, 'ok'))

// Diagnostic: PocketBase's own verification of the guest's token (what any authenticated API
// request costs): parse the pb_auth cookie, findAuthRecordByToken (signature, expiry, token
// key, one record read). No plugin, no PocketPages.
routerAdd('GET', '/api/bench/verify-token', (e) => {
  const header = e.request.header.get('Cookie') || ''
  const match = /(?:^|;\s*)pb_auth=([^;]+)/.exec(header)
  const token = match ? JSON.parse(decodeURIComponent(match[1])).token : ''
  const record = $app.findAuthRecordByToken(token, 'auth')
  return e.string(200, `verified ${record.id}`)
})

// Micro-timings inside one goja VM, no load (called a few times after the load runs, with the
// guest cookie): µs per call of the pieces a page view with a session pays.
routerAdd('GET', '/api/bench/micro', (e) => {
  const N = Number(e.request.url.query().get('n') || '400')
  const out = {}
  const time = (name, fn) => {
    for (let i = 0; i < 20; i++) fn()
    const start = Date.now()
    for (let i = 0; i < N; i++) fn()
    out[name] = ((Date.now() - start) * 1000) / N
  }
  const factory = require('pocketpages-plugin-anonymous').default
  const perIp = Number($os.getenv('ANONYMOUS_RATE_LIMIT_PER_IP') || '30')
  const options = {
    debug: false,
    collection: 'users',
    rateLimit: { perIp: perIp, global: 0 },
    upgrade: { sendVerificationEmail: false },
  }
  const plugin = factory({}, options)
  const request = () => require(`${__hooks}/bench-guest.js`).pagesRequest(e, 'GET', '/')
  const response = () => ({
    cookie: () => undefined,
    header: () => undefined,
    redirect: () => undefined,
    json: () => undefined,
    html: () => undefined,
    write: () => undefined,
    file: () => undefined,
  })
  const header = e.request.header.get('Cookie') || ''
  const match = /(?:^|;\s*)pb_auth=([^;]+)/.exec(header)
  const token = match ? JSON.parse(decodeURIComponent(match[1])).token : ''

  // Decodes base64url + UTF-8 byte by byte in JS (goja has no atob/Buffer), as the plugin did
  // before it used $security.parseUnverifiedJWT; kept only to price that approach.
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const VALUE_OF = {}
  for (let i = 0; i < ALPHABET.length; i++) VALUE_OF[ALPHABET[i]] = i
  const decodeJs = (input) => {
    const bytes = []
    let buffer = 0
    let bits = 0
    for (let i = 0; i < input.length; i++) {
      buffer = (buffer << 6) | VALUE_OF[input[i]]
      bits += 6
      if (bits >= 8) {
        bits -= 8
        bytes.push((buffer >> bits) & 0xff)
      }
    }
    let s = ''
    for (let i = 0; i < bytes.length; i++) s += String.fromCodePoint(bytes[i])
    return s
  }

  time('pluginFactory', () => factory({}, options))
  time('sessionRead', () => {
    const r = request()
    plugin.onRequest({ request: r, response: response() })
    if (!r.auth) throw new Error('the guest cookie did not sign in')
  })
  time('findAuthRecordByToken', () => $app.findAuthRecordByToken(token, 'auth'))
  const parts = token.split('.')
  time('jwtDecodeJs', () => JSON.parse(decodeJs(parts[0])) && JSON.parse(decodeJs(parts[1])))
  time('parseUnverifiedJWT', () => $security.parseUnverifiedJWT(token))
  return e.json(200, out)
})
