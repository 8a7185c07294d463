// The real-PocketPages check's comparison (scripts/real-pocketpages-check.mjs): the same probe
// requests to this repo's stand-in PocketPages (src/host, same pages and config), and each
// difference a browser could see printed as a `diff` line (status, headers, cookies set, the page
// with its random values masked). Information, not checks.

import fs from 'node:fs'
import path from 'node:path'
import { fromIp, trustProxy } from '../../test/support/abuse.ts'
import { CHROME, getSetCookie, isDeletion, parseSetCookies, postForm } from '../../test/support/http.ts'
import { startPocketBase } from '../../test/support/pocketbase.ts'
import { repoRoot } from '../pocketbase.mjs'

/** Requests whose answers are compared; `as: 'guest'` sends the cookie of the guest probe. */
const PROBES = [
  { name: 'GET / signed out', path: '/' },
  { name: 'GET /login', path: '/login', headers: { 'user-agent': CHROME } },
  { name: 'POST /login guest', path: '/login', form: { mode: 'anonymous' }, keep: true },
  { name: 'GET / as guest', path: '/', as: 'guest' },
  { name: 'GET / malformed cookie', path: '/', cookie: 'pb_auth=%7Bnot-json' },
  // What a browser sends after a response set `pb_auth=` (pocketpages-plugin-auth 0.2.2 as released).
  { name: 'GET / empty pb_auth cookie', path: '/', cookie: 'pb_auth=' },
  { name: 'GET / cookie of a bad token', path: '/', cookie: 'pb_auth=%7B%22token%22%3A%22x.y.z%22%7D' },
  { name: 'POST /login cross-site', path: '/login', form: { mode: 'anonymous' }, origin: 'https://evil.example' },
  {
    name: 'POST /login wrong password',
    path: '/login',
    form: { mode: 'password', email: 'nobody@example.com', password: 'x' },
  },
  {
    name: 'POST /upgrade passwords differ',
    path: '/upgrade',
    as: 'guest',
    form: { email: 'a@example.com', password: 'aaaaaaaaaa', passwordConfirm: 'b' },
  },
  { name: 'POST /upgrade-code bad address', path: '/upgrade-code', as: 'guest', form: { step: 'email', email: 'no' } },
  {
    name: 'POST /login 1001 fields',
    path: '/login',
    form: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`f${i}`, 'x'])),
  },
  { name: 'GET /notes (redirect)', path: '/notes' },
  { name: 'GET /logout as guest', path: '/logout', as: 'guest' },
  { name: 'GET /real-pp-ensure', path: '/real-pp-ensure', headers: { 'user-agent': CHROME } },
  {
    name: 'GET /real-pp-shape as guest',
    path: '/real-pp-shape?n=1&s=abc&j=%7B%22a%22%3A1%7D',
    as: 'guest',
    extraCookies: 'c1=%7B%22a%22%3A1%7D; c2=plain',
    shape: true,
  },
  { name: 'GET /no-such-page', path: '/no-such-page' },
  // Routing at the edges: a trailing slash, a deeper URL, an index by name, files no URL may reach.
  { name: 'GET /login/', path: '/login/' },
  { name: 'GET /login/deeper', path: '/login/deeper' },
  { name: 'GET /LOGIN', path: '/LOGIN' },
  { name: 'GET /index', path: '/index' },
  { name: 'GET /+config.js', path: '/+config.js' },
  { name: 'GET /_private/not-found.html', path: '/_private/not-found.html' },
  { name: 'GET /?__flash=hello', path: '/?__flash=hello' },
  { name: 'HEAD /', path: '/', method: 'HEAD' },
  { name: 'GET /assets/pico.classless.min.css', path: '/assets/pico.classless.min.css' },
  { name: 'POST /logout as guest', path: '/logout', as: 'guest', form: {} },
]

/** What a browser sees of a response, with ids and dates made comparable. */
function summarize(res, body) {
  const same = (text) =>
    String(text ?? '')
      .replace(/[a-z0-9]{15}/g, '<id>')
      .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<date>')
  const cookies = parseSetCookies(res).map((c) => {
    const attributes = Object.keys(c.attributes)
      .filter((k) => k !== 'expires')
      .sort()
      .map((k) =>
        k === 'max-age'
          ? `max-age=${c.maxAge > 0 ? '+' : c.maxAge}`
          : k === 'samesite' || k === 'path'
            ? `${k}=${c.attributes[k]}`
            : k,
      )
    return `${c.name}${isDeletion(c) ? '(cleared)' : c.value === '' ? '(empty)' : ''}[${attributes.join(',')}]`
  })
  const html = /html/.test(res.headers.get('content-type') ?? '')
  return {
    status: String(res.status),
    'content-type': res.headers.get('content-type') ?? '',
    location: same(res.headers.get('location')),
    'set-cookie': cookies.join(' '),
    'cache-control': res.headers.get('cache-control') ?? '',
    vary: res.headers.get('vary') ?? '',
    'element ids': html ? [...new Set([...body.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]))].sort().join(',') : '',
    // The page itself, its random values (ids, nonces, dates) masked: where the two first differ.
    body: same(body).replace(/value="[A-Za-z0-9_-]{16,}"/g, 'value="<random>"'),
  }
}

/** The two texts from a little before where they first differ, 80 characters each, JSON-quoted. */
function firstDifference(a, b) {
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  const from = Math.max(0, i - 20)
  const cut = (t) => JSON.stringify(t.slice(from, from + 80)).slice(1, -1)
  return [`@${i}: ${cut(a)}`, `@${i}: ${cut(b)}`]
}

async function probe(pb, client) {
  const out = []
  let guestCookie = ''
  for (const p of PROBES) {
    const headers = { ...client(), ...p.headers }
    const cookie = [p.as === 'guest' ? guestCookie : p.cookie, p.extraCookies].filter(Boolean).join('; ')
    const res = p.form
      ? await postForm(`${pb.url}${p.path}`, p.form, { headers, cookie, ...(p.origin ? { origin: p.origin } : {}) })
      : await pb.fetch(p.path, { method: p.method ?? 'GET', headers: { ...headers, ...(cookie ? { cookie } : {}) } })
    const body = await res.text()
    if (p.keep) guestCookie = `pb_auth=${getSetCookie(res, 'pb_auth')?.value ?? ''}`
    out.push(summarize(res, body))
  }
  return out
}

export async function compareWithStandIn(real, version, order, client) {
  const standIn = await startPocketBase({
    version,
    env: { REAL_PP_ORDER: order, ANONYMOUS_RATE_LIMIT_PER_IP: '1000' },
    hooksOverlay: {
      'pages/+config.js': fs.readFileSync(path.join(repoRoot, 'scripts/real-pocketpages/pages/+config.js'), 'utf8'),
      'pages/real-pp-shape.ejs': fs.readFileSync(
        path.join(repoRoot, 'scripts/real-pocketpages/pages/real-pp-shape.ejs'),
        'utf8',
      ),
      'pages/real-pp-ensure.ejs': fs.readFileSync(
        path.join(repoRoot, 'scripts/real-pocketpages/pages/real-pp-ensure.ejs'),
        'utf8',
      ),
      'pages/_private/demo-config.js': fs.readFileSync(path.join(repoRoot, 'pb_hooks/pages/+config.js'), 'utf8'),
    },
  })
  try {
    await trustProxy(standIn)
    let ip = 100
    const realAnswers = await probe(real, client)
    const standInAnswers = await probe(standIn, () => fromIp(++ip))
    for (const [i, p] of PROBES.entries()) {
      const a = realAnswers[i]
      const b = standInAnswers[i]
      if (p.shape) {
        compareShapes(`[${version} ${order}] ${p.name}`, a.body, b.body)
        continue
      }
      const fields = Object.keys(a).filter((k) => a[k] !== b[k])
      if (fields.length === 0)
        console.log(`same  [${version} ${order}] ${p.name} (${a.status}, ${a.body.length} characters)`)
      for (const k of fields) {
        const [x, y] = k === 'body' ? firstDifference(a[k], b[k]) : [a[k], b[k]]
        console.log(`diff  [${version} ${order}] ${p.name}: ${k}: real "${x}", stand-in "${y}"`)
      }
    }
  } finally {
    await standIn.stop()
  }
}

/** The names (with types) each side's shape page lists that the other's does not, by object. */
function compareShapes(label, realBody, standInBody) {
  const read = (body) => {
    const text = /<pre id="shape">([\s\S]*?)<\/pre>/.exec(body)?.[1]
    return text
      ? JSON.parse(
          text
            .replace(/&#34;/g, '"')
            .replace(/&quot;/g, '"')
            .replace(/&amp;/g, '&'),
        )
      : null
  }
  const real = read(realBody)
  const standIn = read(standInBody)
  if (!real || !standIn) {
    console.log(`diff  ${label}: no shape (real ${real ? 'ok' : 'none'}, stand-in ${standIn ? 'ok' : 'none'})`)
    return
  }
  let same = true
  for (const object of Object.keys(real)) {
    if (!Array.isArray(real[object])) {
      for (const key of Object.keys(real[object])) {
        const [x, y] = [JSON.stringify(real[object][key]), JSON.stringify(standIn[object]?.[key])]
        if (x === y) continue
        same = false
        console.log(`diff  ${label}: ${object}.${key}: real ${x}, stand-in ${y}`)
      }
      continue
    }
    const onlyReal = real[object].filter((k) => !standIn[object]?.includes(k))
    const onlyStandIn = (standIn[object] ?? []).filter((k) => !real[object].includes(k))
    if (onlyReal.length === 0 && onlyStandIn.length === 0) continue
    same = false
    console.log(
      `diff  ${label}: ${object}: only real [${onlyReal.join(' ')}], only stand-in [${onlyStandIn.join(' ')}]`,
    )
  }
  if (same) console.log(`same  ${label}`)
}
