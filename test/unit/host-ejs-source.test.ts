import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { ECHO_PRELUDE, prepareTemplate, rewriteScriptServer } from '../../src/host/ejs-source.ts'

// The same ejs package the host bundles (CommonJS build).
const ejs = createRequire(import.meta.url)('ejs') as {
  compile(template: string, options?: object): (data: object) => string
}
const render = (template: string, api: Record<string, unknown>) =>
  ejs.compile(prepareTemplate(template))({ ...api, api })

describe('rewriteScriptServer', () => {
  it('turns <script server> blocks into EJS scriptlets', () => {
    assert.equal(rewriteScriptServer('a<script server>\n const x = 1\n</script>b'), 'a<% \n const x = 1\n %>b')
    assert.equal(rewriteScriptServer('<script  server >x()</script><script server>y()</script>'), '<% x() %><% y() %>')
  })

  it('leaves browser scripts alone', () => {
    const html = '<script>alert(1)</script><script type="module">x</script><script src="/a.js"></script>'
    assert.equal(rewriteScriptServer(html), html)
  })

  it('inserts code with $ signs literally', () => {
    assert.equal(rewriteScriptServer("<script server>const s = '$1 $&'</script>"), "<% const s = '$1 $&' %>")
  })
})

describe('prepareTemplate', () => {
  it('adds a one-line prelude and strips a BOM, keeping line numbers', () => {
    const prepared = prepareTemplate('\uFEFFline1\nline2')
    assert.equal(prepared, `${ECHO_PRELUDE}line1\nline2`)
    assert.equal(ECHO_PRELUDE.includes('\n'), false)
  })
})

describe('templates rendered with the real ejs', () => {
  it('run <script server> code with api keys as locals', () => {
    const html = render('<script server>\n  const who = greet(name)\n</script><p><%= who %></p>', {
      name: '<Ada>',
      greet: (n: string) => `hi ${n}`,
    })
    assert.equal(html, '<p>hi &lt;Ada&gt;</p>')
  })

  it('echo appends to the template output, objects as JSON', () => {
    const written: string[] = []
    const html = render('a<% echo("b", { c: 1 }, 2) %>d', { echo: (s: string) => written.push(s) })
    assert.equal(html, 'ab {"c":1} 2d')
    assert.deepEqual(written, [], 'api.echo (which writes to the response) is shadowed')
  })

  it('locals are a snapshot; api is live', () => {
    const api: Record<string, unknown> = { auth: null }
    const html = render('<% api.auth = "user1" %><%= auth === null ? "none" : auth %>|<%= api.auth %>', api)
    assert.equal(html, 'none|user1')
    assert.equal(api.auth, 'user1')
  })

  it('reports errors with the template line, not the prelude', () => {
    assert.throws(
      () => render('ok\n<% missingFn() %>', {}),
      (e: Error) => /missingFn/.test(e.message) && /ejs:2/.test(e.message),
    )
  })
})
