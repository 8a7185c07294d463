// @ts-check
// What the benchmark measures: the scenarios (what one operation is, how to load it, what counts
// as a success) and the servers they run on. The targets computed from the results: targets.mjs.

const FORM = 'application/x-www-form-urlencoded'
/** Rate limits that never refuse (the bookkeeping still runs). */
const NEVER_REFUSE = '100000000'

/**
 * @typedef {{
 *   method: string, path: string, body?: string, contentType?: string,
 *   sameOrigin?: boolean, guestCookie?: boolean, clientIps?: 'distinct' | 'one',
 * }} RequestSpec `clientIps: 'distinct'`: a new client IP per request in X-Forwarded-For (trusted by
 *   the bench servers only), as on a real site; 'one' (default): all from 127.0.0.1.
 * @typedef {{ status?: number, cookie?: string, body?: string, header?: string }} Expect a success
 * @typedef {{
 *   id: string, title: string, what: string, unit: string, load: 'wrk' | 'rest-pair',
 *   request?: RequestSpec, expect?: Expect, countBody?: string, samples?: number,
 * }} Scenario
 */

/** @type {Record<string, Scenario>} */
export const SCENARIOS = {
  signin: {
    id: 'signin',
    title: 'Guest sign-in, /login form',
    what: 'POST /login mode=anonymous → 302 + pb_auth cookie',
    unit: 'sign-ins/s',
    load: 'wrk',
    request: {
      method: 'POST',
      path: '/login',
      body: 'mode=anonymous',
      contentType: FORM,
      sameOrigin: true,
      clientIps: 'distinct',
    },
    expect: { status: 302, cookie: 'pb_auth' },
    samples: 4,
  },
  signin_by_hand: {
    id: 'signin_by_hand',
    title: 'Guest sign-in by hand, same app',
    what: "POST /bench-guest-by-hand: a page of the same app doing PocketBase's part (validated insert of the same guest record with a ready hash, its token, a cookie) → 302",
    unit: 'sign-ins/s',
    load: 'wrk',
    request: {
      method: 'POST',
      path: '/bench-guest-by-hand',
      body: 'mode=anonymous',
      contentType: FORM,
      sameOrigin: true,
      clientIps: 'distinct',
    },
    expect: { status: 302, cookie: 'pb_auth' },
  },
  guest_insert: {
    id: 'guest_insert',
    title: 'Bare guest insert',
    what: "bench route: the plugin's guest record saved by PocketBase, its token, the cookie → 302",
    unit: 'sign-ins/s',
    load: 'wrk',
    request: { method: 'POST', path: '/api/bench/guest-insert', clientIps: 'distinct' },
    expect: { status: 302, cookie: 'pb_auth' },
  },
  upstream: {
    id: 'upstream',
    title: 'Upstream auth plugin path (REST)',
    what: 'create a user with a random password, then auth-with-password (2 × bcrypt)',
    unit: 'sign-ins/s',
    load: 'rest-pair',
  },
  session_in: {
    id: 'session_in',
    title: 'Identical page, signed in',
    what: 'GET /bench-session with a guest cookie (same body signed in or out) → 200, session read',
    unit: 'req/s',
    load: 'wrk',
    request: { method: 'GET', path: '/bench-session', guestCookie: true },
    expect: { status: 200, body: 'same page for everyone', header: 'Cache-Control: private, no-cache' },
  },
  session_out: {
    id: 'session_out',
    title: 'Identical page, signed out',
    what: 'GET /bench-session without a cookie → 200',
    unit: 'req/s',
    load: 'wrk',
    request: { method: 'GET', path: '/bench-session' },
    expect: { status: 200, body: 'same page for everyone' },
  },
  home_in: {
    id: 'home_in',
    title: 'Home page, guest',
    what: "GET / with a guest cookie: the user's details and notes → 200",
    unit: 'req/s',
    load: 'wrk',
    request: { method: 'GET', path: '/', guestCookie: true },
    expect: { status: 200, body: 'id="user-id"' },
  },
  home_out: {
    id: 'home_out',
    title: 'Home page, signed out',
    what: 'GET / without a cookie → 200',
    unit: 'req/s',
    load: 'wrk',
    request: { method: 'GET', path: '/' },
    expect: { status: 200, body: 'id="signed-out"' },
  },
  signin_one_network: {
    id: 'signin_one_network',
    title: 'Guest sign-in, one client network',
    what: 'as /login sign-in, every request from 127.0.0.1: one network counter, read and written each time',
    unit: 'sign-ins/s',
    load: 'wrk',
    request: { method: 'POST', path: '/login', body: 'mode=anonymous', contentType: FORM, sameOrigin: true },
    expect: { status: 302, cookie: 'pb_auth' },
  },
  cold_page: {
    id: 'cold_page',
    title: 'Tiny page, counting fresh JS VMs',
    what: "GET /bench-vm → 200 'cold' when its JS VM served nothing before",
    unit: 'req/s',
    load: 'wrk',
    request: { method: 'GET', path: '/bench-vm' },
    expect: { status: 200, body: 'vm:' },
    countBody: 'vm:cold',
  },
  // Used as diagnostics: they split the costs behind the targets.
  plain_insert: {
    id: 'plain_insert',
    title: 'One plain insert',
    what: 'bench route: one row into a base collection with one text field → 204',
    unit: 'inserts/s',
    load: 'wrk',
    request: { method: 'POST', path: '/api/bench/insert' },
    expect: { status: 204 },
  },
  signin_direct: {
    id: 'signin_direct',
    title: 'Plugin sign-in without a page',
    what: "bench route: the plugin's signInAnonymously() through its PocketPages interface, no page → 302",
    unit: 'sign-ins/s',
    load: 'wrk',
    request: { method: 'POST', path: '/api/bench/guest-direct', sameOrigin: true, clientIps: 'distinct' },
    expect: { status: 302, cookie: 'pb_auth' },
  },
  verify: {
    id: 'verify',
    title: "PocketBase's token check",
    what: 'bench route: parse the cookie, findAuthRecordByToken → 200',
    unit: 'req/s',
    load: 'wrk',
    request: { method: 'GET', path: '/api/bench/verify-token', guestCookie: true },
    expect: { status: 200, body: 'verified ' },
  },
  noop: {
    id: 'noop',
    title: 'Empty JS route',
    what: 'bench route answering "ok", same cookie sent: the floor under the token check',
    unit: 'req/s',
    load: 'wrk',
    request: { method: 'GET', path: '/api/bench/noop', guestCookie: true },
    expect: { status: 200, body: 'ok' },
  },
}

/**
 * @typedef {{
 *   id: string, title: string,
 *   env?: Record<string, string>,
 *   hooksPool?: 'pooled' | number,
 *   fill?: { guests?: number, staleGuests?: number, windowSignIns?: number },
 *   authFirst?: boolean,
 * }} ServerSpec `hooksPool: 'pooled'`: enough prewarmed JS VMs for the connections (2 × concurrency).
 *   `authFirst`: +config.js lists pocketpages-plugin-auth before this plugin (the demo: after).
 * @typedef {{ id: string, title: string, servers: ServerSpec[], scenarios: string[], diagnostics?: string[] }} Phase
 *   Each phase runs its scenarios on its servers side by side: rounds in alternating order.
 *   `diagnostics` run too unless BENCH_DIAGNOSTICS=0; they split the costs behind the targets.
 */

const SITE_ENV = { ANONYMOUS_RATE_LIMIT_PER_IP: NEVER_REFUSE, ANONYMOUS_RATE_LIMIT_GLOBAL: '0' }
const CAPPED_ENV = { ANONYMOUS_RATE_LIMIT_PER_IP: NEVER_REFUSE, ANONYMOUS_RATE_LIMIT_GLOBAL: NEVER_REFUSE }

/** @type {Phase[]} */
export const PHASES = [
  {
    id: 'site',
    title: 'The demo app, default settings but limits that never refuse',
    servers: [{ id: 'site', title: 'demo app', env: SITE_ENV, hooksPool: 'pooled' }],
    scenarios: [
      'signin',
      'signin_by_hand',
      'guest_insert',
      'upstream',
      'session_in',
      'session_out',
      'home_in',
      'home_out',
    ],
    diagnostics: ['plain_insert', 'signin_direct', 'verify', 'noop'],
  },
  {
    id: 'guests',
    title: '300,000 guests in the table, against none',
    servers: [
      { id: 'empty', title: 'no guests', env: SITE_ENV, hooksPool: 'pooled' },
      { id: 'guests', title: '300,000 guests', env: SITE_ENV, hooksPool: 'pooled', fill: { guests: 300_000 } },
    ],
    scenarios: ['signin', 'home_in'],
    diagnostics: ['guest_insert'],
  },
  {
    id: 'window',
    title: 'A rate-limit window holding 10,000 sign-ins, against 30 (per-network and global limits on)',
    servers: [
      { id: 'window30', title: '30 in the window', env: CAPPED_ENV, hooksPool: 'pooled', fill: { windowSignIns: 30 } },
      {
        id: 'window10k',
        title: '10,000 in the window',
        env: CAPPED_ENV,
        hooksPool: 'pooled',
        fill: { windowSignIns: 10_000 },
      },
    ],
    scenarios: ['signin_one_network', 'signin'],
  },
  {
    id: 'order',
    title: 'The identical page with the auth plugin listed before this one, against after (the demo)',
    servers: [
      { id: 'anonymous_first', title: 'this plugin first (demo)', env: SITE_ENV, hooksPool: 'pooled' },
      { id: 'auth_first', title: 'auth plugin first', env: SITE_ENV, hooksPool: 'pooled', authFirst: true },
    ],
    scenarios: ['session_in', 'session_out'],
  },
  {
    id: 'vm',
    title: 'Throw-away JS VMs: one prewarmed VM for all connections, against enough',
    servers: [
      { id: 'pooled', title: 'enough prewarmed VMs', env: SITE_ENV, hooksPool: 'pooled' },
      { id: 'cold', title: '--hooksPool=1', env: SITE_ENV, hooksPool: 1 },
    ],
    scenarios: ['cold_page'],
  },
]

/** The cleanup phase: its own server with a backlog of stale guests, light paced load. */
export const CLEANUP = {
  server: /** @type {ServerSpec} */ ({
    id: 'cleanup',
    title: '100,000 stale guests',
    env: SITE_ENV,
    hooksPool: 'pooled',
    fill: { staleGuests: 100_000 },
  }),
  /** The paced load (home page as a guest, and sign-ins) runs each at this share of what the server sustains. */
  loadShare: 0.1,
}
