// Runs this plugin's bundle inside the REAL PocketPages, beside the real pocketpages-plugin-auth,
// both built from a PocketPages source checkout, and checks the demo's flows over raw HTTP on every
// PocketBase version of package.json, in both plugin orders. A manual check, not part of npm test
// (the real PocketPages is not in the npm registry CI reaches):
//
//   git clone https://github.com/benallfree/pocketpages ../pocketpages
//   npm run build && node --import tsx scripts/real-pocketpages-check.mjs ../pocketpages
//
// (or env POCKETPAGES_SRC instead of the argument). Without node_modules in the checkout (`bun
// install` there), env POCKETPAGES_DEPS names a directory of source clones of the four packages
// some registries lack: the script says which `git clone` commands to run there.
//
// Env POCKETBASE_VERSION runs one version only, REAL_PP_ORDER one order only (anonymous-first,
// auth-first), KEEP_PB_DATA=1 keeps the temp dirs, REAL_PP_LOGS=1 prints the server log's end after
// a failure, REAL_PP_SDK_AS_IS=1 leaves the jsvm SDK's transport as built (see the config).
//
// The app (a temp dir): node_modules with the built pocketpages, pocketpages-plugin-ejs, -js-sdk,
// -auth and this repo's pb_hooks/lib/pocketpages-plugin-anonymous.js; pb_hooks with this repo's
// entry file, 404 route and demo pages, plus scripts/real-pocketpages/pages (its +config.js: the
// demo's plugin entries, in the order REAL_PP_ORDER names; three small pages that call
// ensureGuest() and the auth plugin's OTP and OAuth2 sign-ins); this repo's pb_migrations.
// Checks over HTTP, one line each, then `N of M checks passed`; exit code 1 if any failed.
// For each version and order, the same probe requests then also go to this repo's stand-in, and
// each difference a browser could see is printed (real-pocketpages/compare-stand-in.mjs).

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { formatPocketBaseDate } from '../src/core/dates.ts'
import { fromIp, trustProxy } from '../test/support/abuse.ts'
import { runCleanupRoute } from '../test/support/attack.ts'
import { enableOidc, startFakeOidc } from '../test/support/fake-oidc.ts'
import { decodeAuthCookie, getPage, markText } from '../test/support/guest.ts'
import { CHROME, getSetCookie, isDeletion, parseSetCookies, postForm } from '../test/support/http.ts'
import {
  createFullUser,
  DAY_MS,
  findRecord,
  getRecord,
  listRecords,
  setColumns,
  submitForm,
  uniqueEmail,
  viewHome,
} from '../test/support/lifecycle.ts'
import { startPocketBase } from '../test/support/pocketbase.ts'
import { startSmtpSink, useSmtpSink } from '../test/support/smtp-sink.ts'
import { repoRoot } from './pocketbase.mjs'
import { buildUpstream, commitOf, upstreamVersions } from './real-pocketpages/build-upstream.mjs'
import { compareWithStandIn } from './real-pocketpages/compare-stand-in.mjs'

/** Fresh guests one client network may make (the demo's ANONYMOUS_RATE_LIMIT_PER_IP) in the 429 check. */
const GUESTS_PER_NETWORK = 3

const checkout = path.resolve(process.argv[2] ?? process.env.POCKETPAGES_SRC ?? '')
if (!process.argv[2] && !process.env.POCKETPAGES_SRC) usage('no PocketPages checkout given')
if (!fs.existsSync(path.join(checkout, 'packages/pocketpages/src/index.ts'))) {
  usage(`${checkout} is not a PocketPages source checkout (no packages/pocketpages/src/index.ts)`)
}
const pluginBundle = path.join(repoRoot, 'pb_hooks/lib/pocketpages-plugin-anonymous.js')
if (!fs.existsSync(pluginBundle)) usage('no plugin bundle: run `npm run build` first')

const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'))
const versions = process.env.POCKETBASE_VERSION ? [process.env.POCKETBASE_VERSION] : pkg.pocketbase.versions
const orders = process.env.REAL_PP_ORDER ? [process.env.REAL_PP_ORDER] : ['anonymous-first', 'auth-first']

let passed = 0
let failed = 0
const appDir = fs.mkdtempSync(path.join(os.tmpdir(), 'real-pocketpages-'))

function usage(problem) {
  console.error(`${problem}\nusage: node --import tsx scripts/real-pocketpages-check.mjs <pocketpages checkout>`)
  console.error('  get one with: git clone https://github.com/benallfree/pocketpages')
  process.exit(2)
}

async function buildApp() {
  await buildUpstream({
    checkout,
    appDir,
    cacheDir: path.join(repoRoot, '.cache/real-pocketpages'),
    depsDir: process.env.POCKETPAGES_DEPS,
  })
  const ours = path.join(appDir, 'node_modules/pocketpages-plugin-anonymous')
  fs.mkdirSync(ours)
  fs.copyFileSync(pluginBundle, path.join(ours, 'index.js'))
  fs.writeFileSync(path.join(ours, 'package.json'), JSON.stringify({ name: 'pocketpages-plugin-anonymous' }))
  const hooks = path.join(appDir, 'pb_hooks')
  for (const file of ['pocketpages.pb.js', 'not-found.pb.js', 'pages']) {
    fs.cpSync(path.join(repoRoot, 'pb_hooks', file), path.join(hooks, file), { recursive: true })
  }
  fs.renameSync(path.join(hooks, 'pages/+config.js'), path.join(hooks, 'pages/_private/demo-config.js'))
  fs.cpSync(path.join(repoRoot, 'scripts/real-pocketpages/pages'), path.join(hooks, 'pages'), { recursive: true })
}

/** One check: prints its line (with the string it returns, if any); a thrown error is a failure. */
async function check(label, fn) {
  try {
    const detail = await fn()
    passed++
    console.log(`ok    ${label}${typeof detail === 'string' ? ` (${detail})` : ''}`)
  } catch (error) {
    failed++
    console.log(`FAIL  ${label}: ${error instanceof Error ? error.message : error}`)
  }
}

/** The code in a mail: the only run of 8 or more digits in its text. */
function codeIn(mail) {
  const codes = [...new Set(mail.text.match(/\b\d{8,}\b/g) ?? [])]
  expect(codes.length === 1, `expected one code in the mail: ${mail.text.slice(0, 300)}`)
  return codes[0]
}

function expect(condition, message) {
  if (!condition) throw new Error(message)
}

async function runChecks(version, order) {
  const sink = await startSmtpSink()
  const pb = await startPocketBase({
    version,
    cwd: appDir,
    hooksDir: path.join(appDir, 'pb_hooks'),
    migrationsDir: path.join(repoRoot, 'pb_migrations'),
    env: { REAL_PP_ORDER: order, ANONYMOUS_RATE_LIMIT_PER_IP: String(GUESTS_PER_NETWORK) },
  })
  const at = `[${version} ${order}]`
  let ip = 0
  // A new client network for each flow, so the 429 check alone meets the per-network limit.
  const client = () => fromIp(++ip)
  try {
    await useSmtpSink(pb, sink.port)
    await pb.apiJson('/api/settings', { method: 'PATCH', body: { meta: { appURL: pb.url } } })
    await trustProxy(pb)

    /** POST /login mode=anonymous: the session it set (asserts a redirect home with pb_auth). */
    const signInAsGuest = async (headers = client()) => {
      const res = await postForm(`${pb.url}/login`, { mode: 'anonymous' }, { headers })
      const location = res.headers.get('location')
      const body = await res.text()
      expect(res.status === 302, `POST /login answered ${res.status}: ${markText(body) ?? body.slice(0, 300)}`)
      expect(new URL(location ?? '', pb.url).pathname === '/', `redirected to ${location}`)
      const setCookie = getSetCookie(res, 'pb_auth')
      expect(setCookie && !isDeletion(setCookie), 'no pb_auth cookie was set')
      const { token, record } = decodeAuthCookie(setCookie.value)
      const trace = getSetCookie(res, 'pb_auth_guest')
      return { token, record, setCookie, trace, location, cookie: `pb_auth=${setCookie.value}` }
    }

    await check(`${at} guest sign-in sets pb_auth, the next request reads it back`, async () => {
      const guest = await signInAsGuest()
      expect(guest.setCookie.httpOnly, 'pb_auth is not HttpOnly')
      const home = await viewHome(pb, guest.cookie)
      expect(home.id === guest.record.id, `home shows ${home.id}, the cookie is ${guest.record.id}`)
      expect(home.anonymous === 'yes', `home says anonymous=${home.anonymous}`)
      return `redirect Location: ${guest.location}`
    })

    await check(`${at} a malformed pb_auth cookie is cleared`, async () => {
      const home = await viewHome(pb, 'pb_auth=%7Bnot-json')
      expect(home.signedOut, 'a malformed cookie signed someone in')
      expect(home.setCookie && isDeletion(home.setCookie), `not cleared: ${home.setCookie?.raw}`)
    })

    await check(`${at} sign-out clears the cookie; the old cookie no longer signs in`, async () => {
      const guest = await signInAsGuest()
      const res = await submitForm(pb, '/logout', {}, { cookie: guest.cookie, headers: client() })
      expect(res.status === 302, `POST /logout answered ${res.status}: ${res.error}`)
      expect(res.setCookie && isDeletion(res.setCookie), `pb_auth not cleared: ${res.setCookie?.raw}`)
      expect((await viewHome(pb, guest.cookie)).signedOut, 'the guest cookie still signs in')
    })

    await check(`${at} the auth plugin's password sign-in with a guest cookie merges the guest`, async () => {
      const member = await createFullUser(pb)
      const guest = await signInAsGuest()
      const note = await submitForm(pb, '/notes', { text: 'made as a guest' }, { cookie: guest.cookie })
      expect(note.status === 302, `POST /notes answered ${note.status}: ${note.error}`)
      const login = await submitForm(
        pb,
        '/login',
        { mode: 'password', email: member.email, password: member.password },
        { cookie: guest.cookie, headers: client() },
      )
      expect(login.status === 302, `POST /login answered ${login.status}: ${login.error ?? login.html.slice(0, 300)}`)
      expect(login.setCookie && !isDeletion(login.setCookie), 'no session cookie')
      const signedIn = decodeAuthCookie(login.setCookie.value).record.id
      expect(signedIn === member.id, `signed in as ${signedIn}, not the account ${member.id}`)
      const notes = await listRecords(pb, 'notes', `owner = "${member.id}"`)
      expect(notes.length === 1 && notes[0].text === 'made as a guest', `the account's notes: ${notes.length}`)
      expect((await findRecord(pb, 'users', guest.record.id)) === null, 'the guest record is still there')
      return `redirect Location: ${login.location}`
    })

    await check(`${at} upgrade to a password keeps the id`, async () => {
      const guest = await signInAsGuest()
      const email = uniqueEmail('real-pp')
      const password = `pw-${Date.now()}-upgrade`
      const res = await submitForm(
        pb,
        '/upgrade',
        { email, password, passwordConfirm: password },
        {
          cookie: guest.cookie,
          headers: client(),
        },
      )
      expect(res.status === 302, `POST /upgrade answered ${res.status}: ${res.error ?? res.html.slice(0, 300)}`)
      const record = await getRecord(pb, 'users', guest.record.id)
      expect(record.email === email && record.anonymous === false, `record: ${record.email} ${record.anonymous}`)
      const home = await viewHome(pb, `pb_auth=${res.setCookie?.value}`)
      expect(home.id === guest.record.id && home.anonymous === 'no', `home: ${home.id} ${home.anonymous}`)
    })

    await check(`${at} ensureGuest() on a page view makes one guest and keeps it`, async () => {
      const headers = { 'user-agent': CHROME, ...client() }
      const first = await getPage(pb, '/real-pp-ensure', undefined, headers)
      const html = await first.text()
      const id = /<p id="who">([a-z0-9]{15})<\/p>/.exec(html)?.[1]
      expect(id, `no guest: ${first.status} ${html.slice(0, 200)}`)
      const cookie = getSetCookie(first, 'pb_auth')
      expect(cookie && decodeAuthCookie(cookie.value).record.id === id, 'the cookie is not that guest’s')
      const again = await (await getPage(pb, '/real-pp-ensure', `pb_auth=${cookie.value}`, headers)).text()
      expect(again.includes(`<p id="who">${id}</p>`), `a second view is someone else: ${again.slice(0, 200)}`)
    })

    await check(`${at} upgrade with an emailed code, through an SMTP sink`, async () => {
      const guest = await signInAsGuest()
      const email = uniqueEmail('real-pp-code')
      const headers = client()
      const ask = await submitForm(pb, '/upgrade-code', { step: 'email', email }, { cookie: guest.cookie, headers })
      const otpId = /name="otpId" value="([a-z0-9]+)"/.exec(ask.html)?.[1]
      expect(ask.status === 200 && otpId, `asking for a code: ${ask.status} ${ask.error}`)
      const code = codeIn(await sink.waitFor(email))
      const res = await submitForm(
        pb,
        '/upgrade-code',
        { step: 'code', otpId, code, email: '' },
        {
          cookie: guest.cookie,
          headers,
        },
      )
      expect(res.status === 302, `sending the code: ${res.status} ${res.error ?? res.html.slice(0, 300)}`)
      const record = await getRecord(pb, 'users', guest.record.id)
      expect(record.email === email && record.verified === true && record.anonymous === false, 'not saved')
      const home = await viewHome(pb, `pb_auth=${res.setCookie?.value}`)
      expect(home.id === guest.record.id && home.anonymous === 'no', `home: ${home.id} ${home.anonymous}`)
    })

    await check(`${at} the auth plugin's one-time-code sign-in with a guest cookie merges the guest`, async () => {
      await pb.apiJson('/api/collections/users', { method: 'PATCH', body: { otp: { enabled: true } } })
      const member = await createFullUser(pb)
      const guest = await signInAsGuest()
      const note = await submitForm(pb, '/notes', { text: 'made before the code' }, { cookie: guest.cookie })
      expect(note.status === 302, `POST /notes answered ${note.status}: ${note.error}`)
      const headers = client()
      const ask = await submitForm(
        pb,
        '/real-pp-otp',
        { step: 'request', email: member.email },
        { cookie: guest.cookie, headers },
      )
      const otpId = /<p id="otp-id">([a-z0-9]+)<\/p>/.exec(ask.html)?.[1]
      expect(otpId, `requestOTP: ${ask.status} ${ask.error}`)
      const code = codeIn(await sink.waitFor(member.email))
      const res = await submitForm(pb, '/real-pp-otp', { step: 'code', otpId, code }, { cookie: guest.cookie, headers })
      expect(res.status === 302, `signInWithOTP: ${res.status} ${res.error}`)
      expect(
        res.setCookie && decodeAuthCookie(res.setCookie.value).record.id === member.id,
        'not signed in to the account',
      )
      const notes = await listRecords(pb, 'notes', `owner = "${member.id}"`)
      expect(notes.length === 1, `the account has ${notes.length} notes, expected the guest's one`)
      expect((await findRecord(pb, 'users', guest.record.id)) === null, 'the guest record is still there')
    })

    await check(
      `${at} the auth plugin's OAuth2 sign-up with a guest cookie: the guest becomes the account`,
      async () => {
        const oidc = await startFakeOidc()
        try {
          await enableOidc(pb, oidc)
          const guest = await signInAsGuest()
          const note = await submitForm(pb, '/notes', { text: 'made before OAuth2' }, { cookie: guest.cookie })
          expect(note.status === 302, `POST /notes answered ${note.status}: ${note.error}`)
          const email = uniqueEmail('real-pp-oauth2')
          const code = oidc.issueCode({ sub: `sub-${Date.now()}`, email })
          const res = await submitForm(pb, '/real-pp-oauth2', { code }, { cookie: guest.cookie, headers: client() })
          expect(res.status === 302, `signInWithOAuth2: ${res.status} ${res.error}`)
          const id = res.setCookie && decodeAuthCookie(res.setCookie.value).record.id
          expect(id === guest.record.id, `signed in as ${id}, not the guest id ${guest.record.id}`)
          const record = await getRecord(pb, 'users', guest.record.id)
          expect(record.email === email && record.anonymous === false, `record: ${record.email} ${record.anonymous}`)
          const notes = await listRecords(pb, 'notes', `owner = "${guest.record.id}"`)
          expect(notes.length === 1, `the notes did not stay: ${notes.length}`)
        } finally {
          await oidc.stop()
        }
      },
    )

    await check(`${at} a cross-site guest sign-in is refused with 403`, async () => {
      const res = await postForm(
        `${pb.url}/login`,
        { mode: 'anonymous' },
        { origin: 'https://evil.example', headers: client() },
      )
      await res.body?.cancel()
      expect(res.status === 403, `answered ${res.status}`)
      const sessions = parseSetCookies(res).filter((c) => c.name === 'pb_auth' && c.value && !isDeletion(c))
      expect(sessions.length === 0, `a session cookie was set: ${sessions.map((c) => c.raw).join(' | ')}`)
    })

    // A browser's session cookie is SameSite=Lax, so another site's form posts arrive without it.
    // A response that then sets pb_auth (even to '') replaces the browser's session: a sign-out
    // (for a guest, the loss of its account) that any other site can cause.
    await check(`${at} a cross-site POST without the session cookie sets no pb_auth`, async () => {
      const targets = [
        ['/login', { mode: 'anonymous' }],
        ['/notes', { text: 'x' }],
        ['/no-such-page', {}],
      ]
      const found = []
      for (const [target, fields] of targets) {
        const res = await postForm(`${pb.url}${target}`, fields, { origin: 'https://evil.example', headers: client() })
        await res.body?.cancel()
        for (const c of parseSetCookies(res).filter((c) => c.name === 'pb_auth')) found.push(`${target}: ${c.raw}`)
      }
      expect(found.length === 0, `Set-Cookie ${found.join(' | ')}`)
    })

    await check(`${at} fresh guests past the per-network limit get 429`, async () => {
      const headers = client()
      const statuses = []
      for (let i = 0; i <= GUESTS_PER_NETWORK; i++) {
        statuses.push((await submitForm(pb, '/login', { mode: 'anonymous' }, { headers })).status)
      }
      const expected = [...Array(GUESTS_PER_NETWORK).fill(302), 429]
      expect(statuses.join() === expected.join(), `statuses ${statuses.join()}, expected ${expected.join()}`)
    })

    await check(`${at} guestExpiresAt() renders lastSeen + 30 days`, async () => {
      const guest = await signInAsGuest()
      const html = (await viewHome(pb, guest.cookie)).html
      const shown = /<time id="guest-expires" datetime="([^"]+)"/.exec(html)?.[1]
      const record = await getRecord(pb, 'users', guest.record.id)
      expect(shown, 'no expiry on the home page')
      const expected = new Date(Date.parse(String(record.lastSeen).replace(' ', 'T')) + 30 * DAY_MS).toISOString()
      expect(shown === expected, `shown ${shown}, lastSeen + 30 days is ${expected}`)
    })

    await check(`${at} expiredGuest() tells a browser once that the cleanup deleted its guest`, async () => {
      const guest = await signInAsGuest()
      const traceCookie = guest.trace
      expect(traceCookie && !isDeletion(traceCookie), 'the guest sign-in set no pb_auth_guest trace')
      const old = formatPocketBaseDate(Date.now() - 40 * DAY_MS)
      setColumns(pb.dataDir, 'users', guest.record.id, { lastSeen: old, created: old })
      await runCleanupRoute(pb)
      expect((await findRecord(pb, 'users', guest.record.id)) === null, 'the cleanup did not delete the guest')
      const cookies = `${guest.cookie}; pb_auth_guest=${traceCookie.value}`
      const first = await getPage(pb, '/', cookies)
      const html = await first.text()
      expect(/id="guest-expired"/.test(html) && /id="signed-out"/.test(html), 'the first visit did not say so')
      const cleared = getSetCookie(first, 'pb_auth_guest')
      expect(cleared && isDeletion(cleared), 'the trace was not cleared')
    })

    await compareWithStandIn(pb, version, order, client)
  } catch (error) {
    failed++
    console.log(`FAIL  ${at} setup: ${error instanceof Error ? error.message : error}`)
  } finally {
    if (failed > 0 && process.env.REAL_PP_LOGS === '1') console.log(pb.logs().slice(-6000))
    await pb.stop()
    await sink.close()
  }
}

// Last, so that everything above is initialized.
try {
  await buildApp().catch((error) => {
    // A checkout or dependency that cannot be built: say what to do, no stack.
    console.error(error instanceof Error ? error.message : error)
    fs.rmSync(appDir, { recursive: true, force: true })
    process.exit(2)
  })
  const built = Object.entries(upstreamVersions(checkout)).map(([name, version]) => `${name} ${version}`)
  console.log(`real PocketPages from ${checkout}${commitOf(checkout)}: ${built.join(', ')}`)
  for (const version of versions) {
    for (const order of orders) await runChecks(version, order)
  }
} finally {
  if (process.env.KEEP_PB_DATA === '1') console.log(`kept ${appDir}`)
  else fs.rmSync(appDir, { recursive: true, force: true })
}
console.log(`${passed} of ${passed + failed} checks passed`)
process.exit(failed === 0 ? 0 : 1)
