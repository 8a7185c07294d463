/// <reference path="../../node_modules/pocketbase-jsvm/index.d.ts" />
// Bench-only route (issue 19): micro-timings of the plugins' whole work on one page view, inside one
// JS VM, without load: the factory, onRequest, onExtendContextApi, the EJS plugin's `{ ...api }`
// snapshot (which reads every context function) and onResponse, with a fake PocketPages request on
// this route's own event. Called with a guest's cookie; "signed out" removes the Cookie header for
// the call. `?case=<name>&n=<views>` runs one case n times (bench/page-micro.mjs measures the
// process's CPU time around the call: on a shared machine wall time inside the VM says little);
// without `case`, every case, µs of wall time per page view (median of 5 timings of n views).

routerAdd('GET', '/api/bench/page-micro', (e) => {
  const support = require(`${__hooks}/bench-support.js`)
  const globalApi = require('pocketpages').globalApi
  const anonymousFactory = require('pocketpages-plugin-anonymous').default
  const authFactory = require('pocketpages-plugin-auth').default
  const anonymousOptions = support.configEntry('pocketpages-plugin-anonymous', globalApi)
  const n = Number(e.request.url.query().get('n') || '1000')
  const headers = e.response.header()
  const out = {}

  const time = (name, fn) => {
    const runs = []
    for (let i = 0; i < 50; i++) fn()
    for (let r = 0; r < 5; r++) {
      const start = Date.now()
      for (let i = 0; i < n; i++) fn()
      runs.push(((Date.now() - start) * 1000) / n)
    }
    runs.sort((a, b) => a - b)
    out[name] = Math.round(runs[2] * 10) / 10
  }

  /** One page view through `factories` in order; `expectAuth` checks the outcome. */
  const view = (factories, expectAuth) => () => {
    const request = support.pagesRequest(e, 'GET', '/bench-session')
    const response = support.pagesResponse(e)
    const plugins = factories.map((f) => f())
    for (const p of plugins) if (p.onRequest) p.onRequest({ request: request, response: response })
    const api = { request: request, response: response, auth: request.auth }
    for (const p of plugins) if (p.onExtendContextApi) p.onExtendContextApi({ api: api })
    const locals = Object.assign({}, api, { api: api })
    if (expectAuth !== null && !!locals.auth !== expectAuth)
      throw new Error(`expected ${expectAuth ? 'a' : 'no'} signed-in user`)
    for (const p of plugins) if (p.onResponse?.({ content: 'x', api: api })) break
    headers.del('Vary')
    headers.del('Cache-Control')
  }
  const anonymous = () => anonymousFactory({}, anonymousOptions)
  const auth = () => authFactory({ globalApi: globalApi }, { debug: false })

  const cookies = e.request.header.values('Cookie')
  const signedOut = (fn) => () => {
    e.request.header.del('Cookie')
    try {
      fn()
    } finally {
      for (const line of cookies) e.request.header.add('Cookie', line)
    }
  }

  const cases = {
    emptyView: view([], false),
    emptyViewSignedOut: signedOut(view([], false)),
    anonymousSignedOut: signedOut(view([anonymous], false)),
    anonymousSignedIn: view([anonymous], true),
    anonymousWithCookie: view([anonymous], null),
    authPluginSignedOut: signedOut(view([auth], false)),
    authPluginSignedIn: view([auth], true),
    bothSignedOut: signedOut(view([anonymous, auth], false)),
    bothSignedIn: view([anonymous, auth], true),
    authFirstSignedOut: signedOut(view([auth, anonymous], false)),
    authFirstSignedIn: view([auth, anonymous], true),
  }
  // A guest sign-in: through the plugin (its whole lifecycle around signInAnonymously(), a
  // same-origin POST without a cookie), against PocketBase's part by hand (as
  // pages/bench-guest-by-hand.ejs: the validated insert, the token, the cookie). Each creates a guest.
  const signIn = (fn) =>
    signedOut(() => {
      const method = e.request.method
      e.request.method = 'POST'
      e.request.header.set('Origin', `http://${e.request.host}`)
      try {
        fn()
      } finally {
        e.request.method = method
        e.request.header.del('Origin')
        headers.del('Set-Cookie')
        headers.del('Vary')
        headers.del('Cache-Control')
      }
    })
  cases.signInPlugin = signIn(() => {
    const request = support.pagesRequest(e, 'POST', '/login')
    const response = support.pagesResponse(e)
    const plugins = [anonymous(), auth()]
    for (const p of plugins) p.onRequest?.({ request: request, response: response })
    const api = { request: request, response: response, auth: request.auth }
    for (const p of plugins) p.onExtendContextApi?.({ api: api })
    api.signInAnonymously()
    for (const p of plugins) if (p.onResponse?.({ content: 'x', api: api })) break
  })
  cases.signInByHand = signIn(() => {
    const request = support.pagesRequest(e, 'POST', '/bench-guest-by-hand')
    const response = support.pagesResponse(e)
    const plugins = [anonymous(), auth()]
    for (const p of plugins) p.onRequest?.({ request: request, response: response })
    const api = { request: request, response: response, auth: request.auth }
    for (const p of plugins) p.onExtendContextApi?.({ api: api })
    const BCRYPT = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
    const users = $app.findCachedCollectionByNameOrId('users')
    const record = new Record(users)
    record.setEmail(
      `anonymous-${$security.randomStringWithAlphabet(20, 'abcdefghijklmnopqrstuvwxyz0123456789')}@example.com`,
    )
    record.setEmailVisibility(false)
    record.setVerified(false)
    const hash = `$2a$10$${$security.randomStringWithAlphabet(21, BCRYPT)}${$security.randomStringWithAlphabet(1, '.Oeu')}anonymousGuestHasNoPasswordHere`
    record.setRaw('password', users.fields.getByName('password').prepareValue(record, hash))
    record.set('anonymous', true)
    record.set('lastSeen', new Date().toISOString().replace('T', ' '))
    $app.save(record)
    const token = record.newAuthToken()
    const value = encodeURIComponent(
      JSON.stringify({
        token: token,
        record: {
          id: record.id,
          collectionId: users.id,
          collectionName: users.name,
          email: record.email(),
          verified: false,
          anonymous: true,
        },
      }),
    )
    headers.add('Set-Cookie', `pb_auth=${value}; Path=/; Max-Age=${users.authToken.duration}; HttpOnly; SameSite=Lax`)
    headers.set('Cache-Control', 'private, no-store')
    for (const p of plugins) if (p.onResponse?.({ content: 'x', api: api })) break
  })

  // Pieces of a read, alone (the same guest's token each time).
  const token = support.sessionToken(e)
  const record = $app.findAuthRecordByToken(token, 'auth')
  cases.findAuthRecordByToken = () => $app.findAuthRecordByToken(token, 'auth')
  cases.parseUnverifiedJWT = () => $security.parseUnverifiedJWT(token)
  cases.enrichRecord = () => $apis.enrichRecord(e, record)
  cases.cookieLines = () => e.request.header.values('Cookie')
  cases.recordCollection = () => record.collection().authToken.duration
  cases.responseHeaderValues = () => headers.values('Cache-Control')

  const rawCookie = /(?:^|;\s*)pb_auth=([^;]+)/.exec(cookies.join('; '))[1]
  cases.decodeCookie = () => JSON.parse(decodeURIComponent(rawCookie)).token
  cases.recordReads = () => [
    record.id,
    record.collection().id,
    record.getBool('anonymous'),
    record.getString('lastSeen'),
  ]
  cases.newRecordHandle = () => $app.findCachedCollectionByNameOrId('users')
  const lastSeen = record.getString('lastSeen')
  cases.dateParse = () => Date.parse(lastSeen.replace(' ', 'T'))
  const GUEST_HASH = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{21}[.Oeu]anonymousGuestHasNoPasswordHere$/
  cases.guestHashCheck = () => record.getBool('anonymous') && GUEST_HASH.test(record.getRaw('password').hash)
  cases.cacheRule = () => {
    const cc = headers.values('Cache-Control').join(', ')
    if (!/\b(private|no-store)\b/i.test(cc)) headers.set('Cache-Control', 'private, no-cache')
    if (!headers.values('Vary').some((v) => /(^|,)\s*(cookie|\*)\s*(,|$)/i.test(v))) headers.add('Vary', 'Cookie')
    headers.del('Vary')
  }
  cases.enrichFresh = () => {
    e.set('pbRequestInfo', null)
    $apis.enrichRecord(e, record)
  }

  // What a throw-away JS VM pays per bundle: running the module once (require() compiles each file
  // once per process; every new VM runs it again).
  for (const [name, file] of [
    ['runAnonymousBundle', 'pocketpages-plugin-anonymous.js'],
    ['runAuthBundle', 'pocketpages-plugin-auth.js'],
    ['runHostBundle', 'pocketpages-host.js'],
  ]) {
    cases[name] = () => {
      globalThis.__benchBundleBodies ??= {}
      globalThis.__benchBundleBodies[file] ??= new Function(
        'exports',
        'require',
        'module',
        '__filename',
        '__dirname',
        toString($os.readFile(`${__hooks}/lib/${file}`)),
      )
      const module = { exports: {} }
      globalThis.__benchBundleBodies[file](module.exports, require, module, file, __hooks)
    }
  }

  const only = e.request.url.query().get('case')
  if (only) {
    const fn = cases[only]
    if (!fn) return e.json(404, { message: `no case ${only}` })
    const start = Date.now()
    for (let i = 0; i < n; i++) fn()
    return e.json(200, { case: only, n: n, ms: Date.now() - start })
  }
  for (const name of Object.keys(cases)) time(name, cases[name])
  return e.json(200, out)
})
