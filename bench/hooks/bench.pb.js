/// <reference path="../../node_modules/pocketbase-jsvm/index.d.ts" />
// Bench-only routes. bench/run.mjs copies bench/hooks into a TEMPORARY copy of pb_hooks (the
// harness's hooksOverlay) for the benchmark's servers only; none of this is part of the app.
// Handlers run in PocketBase's pool of JS VMs and see no top-level code here: each one requires
// what it needs. The plugin's own code is reached through lib/bench-hooks.js (bench/bench-hooks.ts).
//
// The bare routes live under /api/, where the plugins leave the request alone (PocketPages' middleware
// still runs its plugin factories for every request, as for any route of the app).

// Floor: one record into a plain base collection (one text field).
routerAdd('POST', '/api/bench/insert', (e) => {
  const r = new Record($app.findCachedCollectionByNameOrId('bench_rows'))
  r.set('value', $security.randomString(20))
  $app.save(r)
  return e.noContent(204)
})

// PocketBase's part of a guest sign-in, nothing else: the plugin's own guest record (core
// createGuestRecord: validated auth-record insert), its auth token, the session cookie, the redirect.
// No transaction, rate limit, same-origin check, beforeGuestSignIn hook or page.
routerAdd('POST', '/api/bench/guest-insert', (e) => {
  const bench = require(`${__hooks}/bench-support.js`).plugin(require('pocketpages-plugin-anonymous'))
  const now = Date.now()
  const record = bench.hooks.createGuest($app, bench.options, now)
  e.response.header().add('Set-Cookie', bench.hooks.sessionCookie(bench.options, record, record.newAuthToken(), now))
  return e.redirect(302, '/')
})

// The plugin's signInAnonymously() through its PocketPages interface (factory, onRequest,
// onExtendContextApi), on a request it takes for a page, but with no page: no routing, form
// parsing, EJS or other plugin. /login minus the page machinery.
routerAdd('POST', '/api/bench/guest-direct', (e) => {
  const support = require(`${__hooks}/bench-support.js`)
  if (!globalThis.__benchAnonymousOptions)
    globalThis.__benchAnonymousOptions = support.configEntry(
      'pocketpages-plugin-anonymous',
      require('pocketpages').globalApi,
    )
  const plugin = require('pocketpages-plugin-anonymous').default({}, globalThis.__benchAnonymousOptions)
  const request = support.pagesRequest(e, 'POST', '/bench/guest-direct')
  const response = support.pagesResponse(e)
  plugin.onRequest({ request: request, response: response })
  const api = { request: request, response: response }
  plugin.onExtendContextApi({ api: api })
  api.signInAnonymously()
  return e.redirect(302, '/')
})

// Floor of the GET diagnostics: a JS route that does nothing.
routerAdd('GET', '/api/bench/noop', (e) => e.string(200, 'ok'))

// PocketBase's own check of the session's token (what any authenticated API request costs):
// parse the pb_auth cookie, findAuthRecordByToken (signature, expiry, token key, one record read).
routerAdd('GET', '/api/bench/verify-token', (e) => {
  const token = require(`${__hooks}/bench-support.js`).sessionToken(e)
  const record = $app.findAuthRecordByToken(token, 'auth')
  return e.string(200, `verified ${record.id}`)
})

// 'cold' the first time a JS VM serves it, 'warm' after: counts the throw-away VMs PocketBase
// builds when every pooled VM is busy (each loads PocketPages and the plugins first).
routerAdd('GET', '/api/bench/vm', (e) => {
  const first = !globalThis.__benchVmUsed
  globalThis.__benchVmUsed = true
  return e.string(200, first ? 'cold' : 'warm')
})

// Fixture: `count` guest sign-ins from client IP `ip`, spread evenly over the rate-limit window
// that ends now, counted by the plugin's own countGuestSignIn (its counters and in-memory keys).
routerAdd(
  'POST',
  '/api/bench/fill-window',
  (e) => {
    const bench = require(`${__hooks}/bench-support.js`).plugin(require('pocketpages-plugin-anonymous'))
    const query = e.request.url.query()
    const ip = query.get('ip') || '127.0.0.1'
    const count = Number(query.get('count') || '0')
    const windowMs = bench.options.rateLimit.windowSeconds * 1000
    const now = Date.now()
    const started = Date.now()
    try {
      $app.runInTransaction((tx) => {
        for (let i = 0; i < count; i++) {
          const at = now - windowMs + Math.floor(((i + 0.5) * windowMs) / count)
          bench.hooks.countGuestSignIn(tx, bench.options, ip, at)
        }
      })
    } catch (error) {
      return e.json(500, { message: String(error) })
    }
    return e.json(200, { count: count, ms: Date.now() - started })
  },
  $apis.requireSuperuserAuth(),
)

// Micro-timings inside one JS VM, without load: µs per call (median of `runs` timings of n calls)
// of the pieces a request pays. Called with a guest's cookie. Writes are rolled back.
routerAdd('GET', '/api/bench/micro', (e) => {
  const support = require(`${__hooks}/bench-support.js`)
  const bench = support.plugin(require('pocketpages-plugin-anonymous'))
  const query = e.request.url.query()
  const n = Number(query.get('n') || '400')
  const out = {}
  const time = (name, fn, calls) => {
    const count = calls || n
    const runs = []
    for (let i = 0; i < Math.min(20, count); i++) fn()
    for (let r = 0; r < 5; r++) {
      const start = Date.now()
      for (let i = 0; i < count; i++) fn()
      runs.push(((Date.now() - start) * 1000) / count)
    }
    runs.sort((a, b) => a - b)
    out[name] = Math.round(runs[2] * 10) / 10
  }
  /** Runs fn in a transaction that is rolled back. */
  const rolledBack = (fn) => {
    try {
      $app.runInTransaction((tx) => {
        fn(tx)
        throw new Error('rollback')
      })
    } catch (_) {}
  }

  const anonymousFactory = require('pocketpages-plugin-anonymous').default
  const authFactory = require('pocketpages-plugin-auth').default
  const globalApi = require('pocketpages').globalApi
  const anonymousOptions = support.configEntry('pocketpages-plugin-anonymous', require('pocketpages').globalApi)
  const token = support.sessionToken(e)
  const request = () => support.pagesRequest(e, 'GET', '/')
  const response = () => support.pagesResponse(e)

  time('anonymousFactory', () => anonymousFactory({}, anonymousOptions))
  time('authFactory', () => authFactory({ globalApi: globalApi }, { debug: false }))
  time('optionsFromConfig', () => bench.hooks.options())
  time('anonymousSessionRead', () => {
    const r = request()
    anonymousFactory({}, anonymousOptions).onRequest({ request: r, response: response() })
    if (!r.auth) throw new Error('the guest cookie did not sign in')
    e.response.header().del('Vary') // added per read; keep the response small
  })
  time('authPluginSessionRead', () => {
    const r = request()
    authFactory({ globalApi: globalApi }, { debug: false }).onRequest({ request: r, response: response() })
    if (!r.auth) throw new Error('the auth plugin did not read the guest cookie')
  })
  time('findAuthRecordByToken', () => $app.findAuthRecordByToken(token, 'auth'))
  const record = $app.findAuthRecordByToken(token, 'auth')
  time('enrichRecord', () => $apis.enrichRecord(e, record))
  time('parseUnverifiedJWT', () => $security.parseUnverifiedJWT(token))
  const inserts = Math.max(1, Math.floor(n / 4))
  rolledBack((tx) => time('createGuest', () => bench.hooks.createGuest(tx, bench.options, Date.now()), inserts))
  // One sign-in's counting when its network's window has events in 1 slot, and in all 61.
  rolledBack((tx) => {
    const windowMs = bench.options.rateLimit.windowSeconds * 1000
    const now = Date.now()
    for (let i = 0; i < 60; i++) {
      bench.hooks.countGuestSignIn(tx, bench.options, '203.0.113.61', now - windowMs + ((i + 0.5) * windowMs) / 60)
    }
    time(
      'countGuestSignIn1Slot',
      () => bench.hooks.countGuestSignIn(tx, bench.options, '203.0.113.1', Date.now()),
      inserts,
    )
    time(
      'countGuestSignIn61Slots',
      () => bench.hooks.countGuestSignIn(tx, bench.options, '203.0.113.61', Date.now()),
      inserts,
    )
  })
  // What a throw-away JS VM pays per bundle: running the module once. (require() compiles each
  // file once per process, in PocketBase's shared module registry; every new VM runs it again.)
  for (const [name, file] of [
    ['runAnonymousBundle', 'pocketpages-plugin-anonymous.js'],
    ['runAuthBundle', 'pocketpages-plugin-auth.js'],
    ['runHostBundle', 'pocketpages-host.js'],
  ]) {
    const source = toString($os.readFile(`${__hooks}/lib/${file}`))
    const body = new Function('exports', 'require', 'module', '__filename', '__dirname', source)
    time(
      name,
      () => {
        const module = { exports: {} }
        body(module.exports, require, module, file, __hooks)
      },
      20,
    )
  }
  return e.json(200, out)
})
