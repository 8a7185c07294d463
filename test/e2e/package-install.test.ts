// The npm package as a user gets it (issues 9.5 and 9.6), built the way a git install builds it:
// a copy of the repository's files (no build output) runs `npm pack`, whose `prepare` builds the
// bundle and the declarations; a fresh app outside the repository installs the tarball offline,
// follows the README ("Add it to a PocketPages app" and "Types": its code blocks are used as they
// are, and its step 5 copies the shipped example pages), type-checks against what was installed,
// and serves the example pages from PocketBase started in the app's directory: guest sign-in, a
// refused and a good save of the account, the guest's sign-out warning, a second guest merged into
// the account by password sign-in, sign-out. typescript and pocketbase-jsvm come from this
// repository's node_modules.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import ts from 'typescript'
import { repoRoot } from '../../scripts/pocketbase.mjs'
import { getPage, signInAsGuest } from '../support/guest.ts'
import { isDeletion } from '../support/http.ts'
import {
  findRecord,
  postPasswordLogin,
  postUpgrade,
  sessionFrom,
  submitForm,
  uniqueEmail,
  viewHome,
} from '../support/lifecycle.ts'
import { startPocketBase } from '../support/pocketbase.ts'
import { rawUpload, uploadHead } from '../support/raw-http.ts'

const run = promisify(execFile)
const PACKAGE = 'pocketpages-plugin-anonymous'
const PLUGIN_MIGRATION = /^\d+_pocketpages_anonymous.*\.js$/

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'package-install-'))
const source = path.join(work, 'source')
const app = path.join(work, 'app')
const installed = path.join(app, 'node_modules', PACKAGE)
const inApp = (...parts: string[]) => path.join(app, ...parts)

after(() => {
  if (process.env.KEEP_PB_DATA !== '1') fs.rmSync(work, { recursive: true, force: true })
})

// --- the README's code blocks -------------------------------------------------------------------

const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8')

function sectionOf(heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`)
  assert.ok(start >= 0, `README has no "${heading}"`)
  const next = readme.indexOf('\n## ', start + heading.length + 2)
  return readme.slice(start, next < 0 ? undefined : next)
}

function codeBlock(section: string, lang: string, containing: string): string {
  const blocks = [...section.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].filter(
    (m) => m[1] === lang && m[2]!.includes(containing),
  )
  assert.equal(blocks.length, 1, `README: expected one \`\`\`${lang} block with ${containing}`)
  return blocks[0]![2]!
}

const addIt = sectionOf('## Add it to a PocketPages app')
const types = sectionOf('## Types')
const README_CODE = {
  entryFile: codeBlock(addIt, 'js', '.registerHooks()'),
  typedConfig: codeBlock(addIt, 'js', '// @ts-check'),
  homeSnippet: codeBlock(addIt, 'html', "include('guest-banner')"),
  typedModule: codeBlock(types, 'ts', 'AnonymousContextApi'),
}
/** Step 5 of the README: the shipped example pages, copied into the app. */
const COPY_EXAMPLES = `cp -r node_modules/${PACKAGE}/examples/pages/. pb_hooks/pages/`

// --- the app's files beyond the README's ----------------------------------------------------------

/** The README's home-page lines, after what the tests read (who is signed in). */
const HOME_PAGE = `<script server>
  const user = request.auth
</script>
<% if (!user) { %><p id="signed-out">Signed out</p><% } %>
<dl><dt>User id</dt><dd id="user-id"><%= user ? user.id : '' %></dd>
<dt>Anonymous</dt><dd id="user-anonymous"><%= isAnonymous() ? 'yes' : 'no' %></dd></dl>
${README_CODE.homeSnippet}`

/** Upstream PocketPages' context type, the part the README's module uses (the package is not installable here). */
const POCKETPAGES_TYPES = `/// <reference types="pocketbase-jsvm" />
export type PagesRequestContext<TData = any> = {
  auth?: core.Record
  data?: TData
  body: () => Record<string, any> | string
  redirect: (path: string, options?: { status?: number; message?: string }) => void
}
`

/** Every context function and the error type, as a TS module of an app would use them. */
const USAGE_MODULE = `import type { PagesRequestContext } from 'pocketpages'
import anonymousPlugin, {
  AnonymousAuthError,
  type AnonymousContextApi,
  type AnonymousPluginOptions,
  type AuthData,
  ErrorCodes,
  type GuestCheckContext,
  isAnonymousAuthError,
  type MergeContext,
  registerHooks,
} from 'pocketpages-plugin-anonymous'

type Api = PagesRequestContext & AnonymousContextApi

export function signInForm(api: Api, form: Record<string, string>): string {
  try {
    if (form.mode === 'anonymous') {
      const { token, record }: AuthData = api.signInAnonymously({ collection: 'users' })
      return record.id + token.length + String(api.isAnonymous(record))
    }
    const attempt = api.failedAttempts('password-sign-in', { perKey: 5, perNetwork: 20, windowSeconds: 900 })
      .begin(form.email ?? '')
    const signedIn = api.signIn({ token: form.token ?? '' })
    attempt.succeeded()
    return signedIn.record.email()
  } catch (error) {
    if (isAnonymousAuthError(error)) {
      const status: number = error.status
      if (error.code === ErrorCodes.RATE_LIMITED) return \`retry in \${error.retryAfterSeconds ?? 0} s (\${status})\`
      if (error.code === 'VALIDATION_FAILED') return Object.values(error.fieldErrors ?? {}).join(', ')
      return error.collection ?? error.message
    }
    throw error
  }
}

export function keep(api: Api, form: Record<string, string>, existing: core.Record): void {
  try {
    api.upgradeAnonymousUser({ email: form.email, password: form.password, passwordConfirm: form.passwordConfirm })
  } catch (error) {
    if (!(error instanceof AnonymousAuthError) || error.code !== ErrorCodes.EMAIL_TAKEN) throw error
    api.mergeAnonymousUser(existing)
  }
  if (api.isAnonymous()) api.signOut()
}

export const options: AnonymousPluginOptions = {
  onMerge: ({ guest, user, app }: MergeContext) => {
    for (const note of app.findRecordsByFilter('notes', 'owner = {:id}', '', 0, 0, { id: guest.id })) {
      if (!note) continue
      note.set('owner', user.id)
      app.save(note)
    }
  },
  beforeGuestSignIn: ({ clientIp }: GuestCheckContext) => clientIp !== '',
}

export const factory: typeof anonymousPlugin = anonymousPlugin
export const hooks: () => void = registerHooks
`

/**
 * Mistakes, each marked with the error it must produce on its line: \`// error TS<code> <text>\`
 * (the text must appear in the message). No unmarked line may have an error.
 */
const BAD_CONFIG = `// @ts-check
/** @typedef {import('pocketpages-plugin-anonymous').AnonymousPluginEntry} Entry */
/** @type {Entry} */
const misspelt = { name: 'pocketpages-plugin-anonymous', colection: 'users' } // error TS2561 'colection'
/** @type {Entry} */
const wrongType = { name: 'pocketpages-plugin-anonymous', rateLimit: { perNetwork: '30' } } // error TS2322 'string' is not assignable to type 'number'
/** @type {Entry} */
const wrongValue = { name: 'pocketpages-plugin-anonymous', cookie: { sameSite: 'lax' } } // error TS2820 '"lax"'
/** @type {Entry} */
const nestedTypo = { name: 'pocketpages-plugin-anonymous', cleanup: { retentionDay: 7 } } // error TS2561 'retentionDay'
/** @type {Entry} */
const otherName = { name: 'pocketpages-plugin-anonymus' } // error TS2322 '"pocketpages-plugin-anonymus"'
/** @type {Entry} */
const badHook = { name: 'pocketpages-plugin-anonymous', onMerge: ({ guest }) => guest.nope() } // error TS2339 'nope'
module.exports = { misspelt, wrongType, wrongValue, nestedTypo, otherName, badHook }
`

const BAD_MODULE = `import type { AnonymousContextApi } from 'pocketpages-plugin-anonymous'
import { isAnonymousAuthError } from 'pocketpages-plugin-anonymous'
import { checkConfiguration } from 'pocketpages-plugin-anonymous' // error TS2614 'checkConfiguration'
import type { PluginFactoryConfig } from 'pocketpages-plugin-anonymous' // error TS2614 'PluginFactoryConfig'

export function bad(api: AnonymousContextApi, error: unknown): unknown {
  api.signInAnonymously({ colection: 'users' }) // error TS2561 'colection'
  api.failedAttempts('password-sign-in', { perKey: 5 }) // error TS2345 missing the following properties from type 'AttemptLimits': perNetwork
  api.isAnonymous('some-user-id') // error TS2345 Argument of type 'string' is not assignable to parameter of type 'Record'
  if (isAnonymousAuthError(error) && error.code === 'RATE_LIMITTED') return null // error TS2367 '"RATE_LIMITTED"'
  const wait: string = isAnonymousAuthError(error) ? error.retryAfterSeconds : '' // error TS2322 Type 'number | "" | undefined' is not assignable to type 'string'
  return [wait, checkConfiguration, null as unknown as PluginFactoryConfig]
}
`

// --- type checking --------------------------------------------------------------------------------

/**
 * The tsconfig settings a user needs, exactly: read from the README's "Types" section (its
 * `jsonc` block), so the README and this test cannot drift. `allowJs` checks a `// @ts-check`
 * +config.js; `skipLibCheck` is what pocketbase-jsvm's own declarations need (they have errors of
 * their own: jsvm.d.ts names `apis.ApiError`, `os.args`, ..., which do not exist). The package's
 * declarations are checked strictly on their own when they are built (scripts/build.mjs), since
 * skipLibCheck skips them here too. `strict` and `noEmit` are the usual choices, not requirements.
 */
const USER_SETTINGS = readmeCompilerOptions(codeBlock(types, 'jsonc', 'skipLibCheck'))

function readmeCompilerOptions(jsonc: string): Record<string, unknown> {
  const parsed = ts.parseConfigFileTextToJson('README tsconfig.json', jsonc)
  assert.equal(parsed.error, undefined, "the README's tsconfig block parses as JSON with comments")
  const settings = (parsed.config as { compilerOptions?: Record<string, unknown> }).compilerOptions
  assert.ok(settings?.skipLibCheck === true, "the README's tsconfig block sets compilerOptions.skipLibCheck")
  return settings
}

/**
 * How apps resolve modules, on top of USER_SETTINGS (any works): TypeScript's default, classic
 * CommonJS (node10), and Node's own for a CommonJS app (node16 refuses to require an ES module, so
 * it shows that the declarations say CommonJS, as the bundle is).
 */
const MODULE_SETTINGS: Record<string, Record<string, string>> = {
  'no module setting (default)': {},
  'commonjs + node10': { module: 'commonjs', moduleResolution: 'node10' },
  node16: { module: 'node16', moduleResolution: 'node16' },
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
}

function compilerOptions(settings: Record<string, string>): ts.CompilerOptions {
  const parsed = ts.parseJsonConfigFileContent({ compilerOptions: { ...USER_SETTINGS, ...settings } }, ts.sys, app)
  assert.deepEqual(parsed.errors, [], 'the settings parse')
  return parsed.options
}

interface Problem {
  file: string
  line: number
  code: number
  message: string
}

/** Parsed library files (TypeScript's lib, pocketbase-jsvm) shared by the programs below. */
const parsedFiles = new Map<string, ts.SourceFile | undefined>()

/** Every diagnostic of a program of the given files, as `tsc` with these settings reports them. */
function typeCheck(files: string[], options: ts.CompilerOptions): Problem[] {
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    if (!fileName.includes(`${path.sep}node_modules${path.sep}`) || fileName.startsWith(installed)) {
      return getSourceFile.call(host, fileName, languageVersion, ...rest)
    }
    const key = `${fileName}\0${JSON.stringify(languageVersion)}`
    if (!parsedFiles.has(key)) parsedFiles.set(key, getSourceFile.call(host, fileName, languageVersion, ...rest))
    return parsedFiles.get(key)
  }
  const program = ts.createProgram(files, options, host)
  const declarations = program.getSourceFile(path.join(installed, 'pb_hooks/lib/pocketpages-plugin-anonymous.d.cts'))
  assert.ok(declarations, 'the installed declarations were not used')
  return ts.getPreEmitDiagnostics(program).map((d) => ({
    file: d.file ? path.relative(app, d.file.fileName) : '',
    line: d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0,
    code: d.code,
    message: ts.flattenDiagnosticMessageText(d.messageText, ' '),
  }))
}

function show(problems: Problem[]): string {
  return problems.map((p) => `${p.file}:${p.line} TS${p.code} ${p.message}`).join('\n')
}

/** The `// error TS<code> <text>` markers of a file. */
function expectedErrors(file: string): { line: number; code: number; text: string }[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line, i) => {
      const m = /\/\/ error TS(\d+) (.*)$/.exec(line)
      return m ? [{ line: i + 1, code: Number(m[1]), text: m[2]! }] : []
    })
}

// --- the tests ------------------------------------------------------------------------------------

describe('the npm package, installed from a tarball into a fresh app', () => {
  let packedFiles: string[] = []
  let tarball = ''

  before(async () => {
    // The repository's files as a clone has them: tracked and new files, none of the build output.
    const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: repoRoot,
      maxBuffer: 16 * 1024 * 1024,
    })
    for (const file of stdout.split('\0').filter(Boolean)) {
      const from = path.join(repoRoot, file)
      if (!fs.existsSync(from) || !fs.lstatSync(from).isFile()) continue // deleted, or a symlink
      fs.mkdirSync(path.dirname(path.join(source, file)), { recursive: true })
      fs.copyFileSync(from, path.join(source, file))
    }
    assert.ok(!fs.existsSync(path.join(source, 'pb_hooks/lib')), 'build output was copied')
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(source, 'node_modules'))

    // npm pack runs `prepare`, as a git install does.
    const packed = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: source,
      maxBuffer: 16 * 1024 * 1024,
    })
    const json = packed.stdout.slice(packed.stdout.search(/^\[/m))
    const [report] = JSON.parse(json) as { filename: string; files: { path: string }[] }[]
    assert.ok(report, `npm pack --json gave no report: ${json.slice(0, 200)}`)
    packedFiles = report.files.map((f) => f.path).sort()
    tarball = path.join(work, report.filename)

    fs.mkdirSync(app)
    fs.writeFileSync(inApp('package.json'), `${JSON.stringify({ name: 'app', version: '1.0.0', private: true })}\n`)
  })

  it('npm pack (prepare) ships exactly the bundle, its declarations, the plugin migrations, the example pages, README, LICENSE and package.json', () => {
    const migrations = fs
      .readdirSync(path.join(repoRoot, 'pb_migrations'))
      .filter((f) => PLUGIN_MIGRATION.test(f))
      .map((f) => `pb_migrations/${f}`)
    assert.ok(migrations.length >= 2, 'the plugin migrations')
    const examples = fs
      .readdirSync(path.join(repoRoot, 'examples/pages'), { recursive: true, encoding: 'utf8' })
      .map((f) => `examples/pages/${f}`)
      .filter((f) => fs.statSync(path.join(repoRoot, f)).isFile())
    assert.ok(examples.includes('examples/pages/login.ejs'), 'the example pages')
    const expected = [
      'LICENSE',
      'README.md',
      'package.json',
      'pb_hooks/lib/pocketpages-plugin-anonymous.d.cts',
      'pb_hooks/lib/pocketpages-plugin-anonymous.js',
      ...migrations,
      ...examples,
    ].sort()
    assert.deepEqual(packedFiles, expected, 'the packed files')
  })

  it('npm install <tarball> works offline and gives the app the package', async () => {
    const result = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: app })
    assert.doesNotMatch(result.stderr, /npm error/i, result.stderr)
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
      main: string
      types: string
    }
    assert.ok(fs.statSync(path.join(installed, manifest.main)).size > 10_000, 'the bundle')
    const bundle = fs.readFileSync(path.join(installed, manifest.main), 'utf8')
    assert.ok(!bundle.includes('benchmarkHooks'), 'the published bundle carries no benchmark hooks')
    assert.match(fs.readFileSync(path.join(installed, manifest.types), 'utf8'), /AnonymousContextApi/)
    const migrations = fs.readdirSync(path.join(installed, 'pb_migrations'))
    assert.ok(migrations.length >= 2 && migrations.every((f) => PLUGIN_MIGRATION.test(f)), migrations.join(', '))
    // The optional peer dependency, and upstream PocketPages (not installable here): from this repo.
    fs.symlinkSync(path.join(repoRoot, 'node_modules', 'pocketbase-jsvm'), inApp('node_modules', 'pocketbase-jsvm'))
    fs.mkdirSync(inApp('node_modules', 'pocketpages'))
    fs.writeFileSync(inApp('node_modules', 'pocketpages', 'package.json'), '{"name":"pocketpages","main":"index.js"}\n')
    fs.copyFileSync(path.join(repoRoot, 'pb_hooks/lib/pocketpages-host.js'), inApp('node_modules/pocketpages/index.js'))
    fs.writeFileSync(inApp('node_modules', 'pocketpages', 'index.d.ts'), POCKETPAGES_TYPES)

    // The app, as the README says: the migrations, the example pages (step 5), then its own files.
    assert.ok(readme.includes(`\n${COPY_EXAMPLES}\n`), `README step 5: ${COPY_EXAMPLES}`)
    fs.cpSync(path.join(installed, 'examples/pages'), inApp('pb_hooks/pages'), { recursive: true })
    fs.mkdirSync(inApp('pb_migrations'))
    for (const f of migrations) fs.copyFileSync(path.join(installed, 'pb_migrations', f), inApp('pb_migrations', f))
    const files: Record<string, string> = {
      'pb_hooks/pocketpages.pb.js': README_CODE.entryFile,
      'pb_hooks/pages/+config.js': README_CODE.typedConfig,
      'pb_hooks/pages/index.ejs': HOME_PAGE,
      'pb_hooks/pages/_private/guest.ts': README_CODE.typedModule,
      'pb_hooks/pages/_private/usage.ts': USAGE_MODULE,
      'typecheck/bad-config.js': BAD_CONFIG,
      'typecheck/bad-module.ts': BAD_MODULE,
    }
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(inApp(file)), { recursive: true })
      fs.writeFileSync(inApp(file), text)
    }
  })

  for (const [name, settings] of Object.entries(MODULE_SETTINGS)) {
    it(`the README's typed +config.js and module type-check, and mistakes are type errors (${name})`, () => {
      const good = ['pb_hooks/pages/+config.js', 'pb_hooks/pages/_private/guest.ts', 'pb_hooks/pages/_private/usage.ts']
      const bad = ['typecheck/bad-config.js', 'typecheck/bad-module.ts']
      const problems = typeCheck(
        [...good, ...bad].map((f) => inApp(f)),
        compilerOptions(settings),
      )
      assert.equal(show(problems.filter((p) => !bad.includes(p.file))), '', 'no error outside the two bad files')
      for (const file of bad) {
        const expected = expectedErrors(inApp(file))
        assert.ok(expected.length >= 5, `${file}: its // error markers were lost (${expected.length})`)
        const found = problems.filter((p) => p.file === file)
        for (const e of expected) {
          const match = found.find((p) => p.line === e.line && p.code === e.code && p.message.includes(e.text))
          assert.ok(match, `${file}:${e.line}: no TS${e.code} mentioning ${e.text}; got:\n${show(found)}`)
        }
        const unexpected = found.filter((p) => !expected.some((e) => e.line === p.line))
        assert.equal(show(unexpected), '', `${file}: errors on unmarked lines`)
      }
    })
  }

  it("editors show each option's documentation and default, and complete the options", () => {
    const file = inApp('pb_hooks/pages/+config.js')
    const options = compilerOptions(MODULE_SETTINGS.nodenext!)
    const service = ts.createLanguageService({
      getCompilationSettings: () => options,
      getScriptFileNames: () => [file],
      getScriptVersion: () => '1',
      getScriptSnapshot: (f) =>
        fs.existsSync(f) ? ts.ScriptSnapshot.fromString(fs.readFileSync(f, 'utf8')) : undefined,
      getCurrentDirectory: () => app,
      getDefaultLibFileName: ts.getDefaultLibFilePath,
      fileExists: ts.sys.fileExists,
      readFile: ts.sys.readFile,
      readDirectory: ts.sys.readDirectory,
      directoryExists: ts.sys.directoryExists,
      getDirectories: ts.sys.getDirectories,
    })
    const text = fs.readFileSync(file, 'utf8')
    const hover = (word: string) => {
      const info = service.getQuickInfoAtPosition(file, text.indexOf(word) + 1)
      assert.ok(info, `no quick info on ${word}`)
      return {
        docs: ts.displayPartsToString(info.documentation),
        tags: (info.tags ?? []).map((t) => `@${t.name} ${ts.displayPartsToString(t.text)}`),
      }
    }
    const collection = hover('collection:')
    assert.match(collection.docs, /collection/i)
    assert.deepEqual(collection.tags, ["@default 'users'"])
    const perNetwork = hover('perNetwork:')
    assert.match(perNetwork.docs, /Guest sign-ins per client network per window/)
    assert.deepEqual(perNetwork.tags, ['@default 30'])

    const inRateLimit = text.indexOf('perNetwork:')
    const completions = service.getCompletionsAtPosition(file, inRateLimit, {})
    const names = (completions?.entries ?? []).map((e) => e.name)
    for (const name of ['global', 'windowSeconds', 'ipv4Prefix', 'ipv6Prefix']) assert.ok(names.includes(name), name)
    const details = service.getCompletionEntryDetails(file, inRateLimit, 'windowSeconds', {}, undefined, {}, undefined)
    assert.match(ts.displayPartsToString(details?.documentation), /Sliding window length/)
  })

  it("the installed bundle serves the shipped example pages from PocketBase started in the app's directory", async () => {
    const pb = await startPocketBase({
      cwd: app,
      hooksDir: inApp('pb_hooks'),
      migrationsDir: inApp('pb_migrations'),
    })
    try {
      // login.ejs: continue as a guest; the home page's README lines show the guest banner.
      const guest = await signInAsGuest(pb)
      const home = await viewHome(pb, guest.cookie)
      assert.equal(home.id, guest.record.id, 'the guest is signed in')
      assert.equal(home.anonymous, 'yes', 'a guest')
      assert.match(home.html, /id="guest-banner"/, "the README's home lines: the guest banner")
      assert.match(home.html, /<form method="post" action="\/upgrade">/, "the README's home lines: the save form")

      // upgrade.ejs: a refused save says why next to the field and keeps the email; then a good one.
      const email = uniqueEmail('example')
      const password = 'example-password-1'
      const upgradePage = await getPage(pb, '/upgrade', guest.cookie)
      assert.equal(upgradePage.status, 200, 'GET /upgrade as a guest')
      const short = await postUpgrade(pb, guest.cookie, { email, password: 'short1', passwordConfirm: 'short1' })
      assert.equal(short.status, 400, `a short password: ${short.error}`)
      assert.equal(short.fieldErrors.password, 'Use at least 8 characters.', 'next to the password')
      assert.ok(short.html.includes(`value="${email}"`), 'the email typed is kept')
      const saved = sessionFrom(
        await postUpgrade(pb, guest.cookie, { email, password, passwordConfirm: password }),
        'save',
      )
      const account = await viewHome(pb, saved.cookie)
      assert.equal(account.id, guest.record.id, 'the same id')
      assert.equal(account.anonymous, 'no', 'a full account now')

      // login.ejs and upgrade.ejs: a body PocketBase cannot read answers the example's 400/413
      // page (body() throws; uncaught, PocketPages would answer its generic 500), signed in or not.
      const hostile: [string, Buffer, number][] = [
        ['20 MB', Buffer.from(`mode=anonymous&x=${'a'.repeat(20 * 1024 * 1024)}`), 413],
        ['20,000 fields', Buffer.from(Array.from({ length: 20_000 }, (_, i) => `f${i}=x`).join('&')), 400],
      ]
      for (const [what, bytes, status] of hostile) {
        for (const [path, cookie] of [
          ['/login', undefined],
          ['/upgrade', guest.cookie],
        ] as const) {
          const headers: Record<string, string | number> = {
            'Content-Type': 'application/x-www-form-urlencoded',
            'Content-Length': bytes.length,
          }
          if (cookie) headers.Cookie = cookie
          const res = await rawUpload(pb.port, uploadHead(path, headers), bytes)
          assert.equal(res.status, status, `${what} to ${path}: ${res.body.slice(0, 200)}`)
          assert.match(res.body, /The form could not be read/, `${what} to ${path}: the example's page`)
        }
      }

      // logout.ejs: a second guest is warned before signing out.
      const second = await signInAsGuest(pb)
      const warning = await (await getPage(pb, '/logout', second.cookie)).text()
      assert.match(warning, /it will be deleted/, "the guest's sign-out warning")
      assert.match(warning, /href="\/upgrade"/, 'the offer to save first')

      // login.ejs: the second guest signs in to the account with its password and is merged into it.
      const merged = sessionFrom(await postPasswordLogin(pb, second.cookie, email, password), 'password sign-in')
      assert.equal((await viewHome(pb, merged.cookie)).id, guest.record.id, 'signed in to the account')
      assert.equal(await findRecord(pb, 'users', second.record.id), null, 'the merged guest is deleted')
      const wrong = await postPasswordLogin(pb, undefined, email, `${password}-wrong`)
      assert.equal(wrong.error, 'Wrong email or password.', 'a wrong password')

      // logout.ejs: POST signs out.
      const out = await submitForm(pb, '/logout', {}, { cookie: merged.cookie })
      assert.equal(out.status, 302, `sign-out: ${out.error}`)
      assert.ok(out.setCookie && isDeletion(out.setCookie), 'the cookie is cleared')

      // registerHooks() ran from the installed package: its cleanup route exists.
      const cleanup = await pb.api('/api/pocketpages-anonymous/cleanup', { method: 'POST' })
      assert.equal(cleanup.status, 200, await cleanup.text())
      assert.doesNotMatch(
        pb.logs(),
        /\[pocketpages-plugin-anonymous\] (error|warn)|form error|login: /,
        'errors logged',
      )
    } finally {
      await pb.stop()
    }
  })

  it('PocketBase started from another directory does not find the package (hence the README)', async () => {
    await assert.rejects(
      startPocketBase({ cwd: work, hooksDir: inApp('pb_hooks'), migrationsDir: inApp('pb_migrations') }),
      /failed to execute pocketpages\.pb\.js/i,
    )
  })
})
