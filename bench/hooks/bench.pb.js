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
// interface (factory -> onRequest -> onExtendContextApi), but with no PocketPages host, no
// routing, no +config.js, no EJS page: what /login costs minus the page machinery.
routerAdd('POST', '/bench/guest-direct', (e) => {
  const factory = require('pocketpages-plugin-anonymous').default
  const perIp = Number($os.getenv('ANONYMOUS_RATE_LIMIT_PER_IP') || '30')
  const plugin = factory(
    {},
    { debug: false, collection: 'users', rateLimit: { perIp: perIp, global: 0 }, upgrade: { sendVerificationEmail: false } },
  )
  const request = {
    event: e,
    method: 'POST',
    url: { pathname: '/bench/guest-direct' },
    header: (name) => e.request.header.get(name),
    formData: () => ({}),
    body: () => ({}),
    cookies: () => ({}),
  }
  plugin.onRequest({ request: request })
  const api = { request: request }
  plugin.onExtendContextApi({ api: api })
  api.signInAnonymously()
  return e.redirect(302, '/')
})

// Diagnostic: the same database work written by hand, no plugin code: in ONE transaction the
// rate-limit window count + its log row + the guest insert (ready-made hash, no bcrypt), then
// PocketBase's auth token and the pb_auth cookie.
routerAdd('POST', '/bench/guest-raw', (e) => {
  const users = $app.findCachedCollectionByNameOrId('users')
  const ipKey = $security.sha256(e.realIP())
  const now = Date.now()
  let record = null
  $app.runInTransaction((tx) => {
    const row = new DynamicModel({ count: 0, oldest: 0 })
    tx.db()
      .newQuery('SELECT COUNT(*) AS count, COALESCE(MIN(created), 0) AS oldest FROM pocketpages_anonymous_signins WHERE ipKey = {:ipKey} AND created > {:since}')
      .bind({ ipKey: ipKey, since: now - 3600 * 1000 })
      .one(row)
    tx.db()
      .newQuery('INSERT INTO pocketpages_anonymous_signins (ipKey, created) VALUES ({:ipKey}, {:created})')
      .bind({ ipKey: ipKey, created: now })
      .execute()
    const r = new Record(users)
    r.setEmail('anonymous-' + $security.randomStringWithAlphabet(20, 'abcdefghijklmnopqrstuvwxyz0123456789') + '@example.com')
    r.setEmailVisibility(false)
    r.setVerified(false)
    const hash = '$2a$10$' + $security.randomStringWithAlphabet(53, './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')
    r.setRaw('password', users.fields.getByName('password').prepareValue(r, hash))
    r.set('anonymous', true)
    r.set('lastSeen', new Date().toISOString().replace('T', ' '))
    tx.save(r)
    record = r
  })
  const token = record.newAuthToken()
  const value = encodeURIComponent(
    JSON.stringify({
      token: token,
      record: { id: record.id, collectionId: users.id, collectionName: users.name, email: record.email(), verified: false, anonymous: true },
    }),
  )
  e.response.header().add('Set-Cookie', 'pb_auth=' + value + '; Path=/; Max-Age=432000; HttpOnly; SameSite=Lax')
  return e.redirect(302, '/')
})

// Diagnostic: only the guest insert (no transaction, no rate-limit count or log row), then the
// token and the cookie. Compared with /bench/guest-raw it prices the rate-limit bookkeeping;
// compared with /bench/insert it prices the users table (more fields, indexes, auth validation).
routerAdd('POST', '/bench/guest-insert', (e) => {
  const users = $app.findCachedCollectionByNameOrId('users')
  const r = new Record(users)
  r.setEmail('anonymous-' + $security.randomStringWithAlphabet(20, 'abcdefghijklmnopqrstuvwxyz0123456789') + '@example.com')
  r.setEmailVisibility(false)
  r.setVerified(false)
  const hash = '$2a$10$' + $security.randomStringWithAlphabet(53, './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')
  r.setRaw('password', users.fields.getByName('password').prepareValue(r, hash))
  r.set('anonymous', true)
  r.set('lastSeen', new Date().toISOString().replace('T', ' '))
  $app.save(r)
  const token = r.newAuthToken()
  const value = encodeURIComponent(
    JSON.stringify({
      token: token,
      record: { id: r.id, collectionId: users.id, collectionName: users.name, email: r.email(), verified: false, anonymous: true },
    }),
  )
  e.response.header().add('Set-Cookie', 'pb_auth=' + value + '; Path=/; Max-Age=432000; HttpOnly; SameSite=Lax')
  return e.redirect(302, '/')
})

// Diagnostic floor for the GET scenarios: a JS route that does nothing.
routerAdd('GET', '/bench/noop', (e) => e.string(200, 'ok'))

// Diagnostic: PocketBase's own verification of the guest's token (what any authenticated API
// request costs): parse the pb_auth cookie, findAuthRecordByToken (signature, expiry, token
// key, one record read). No plugin, no PocketPages.
routerAdd('GET', '/bench/verify-token', (e) => {
  const header = e.request.header.get('Cookie') || ''
  const match = /(?:^|;\s*)pb_auth=([^;]+)/.exec(header)
  const token = match ? JSON.parse(decodeURIComponent(match[1])).token : ''
  const record = $app.findAuthRecordByToken(token, 'auth')
  return e.string(200, 'verified ' + record.id)
})
