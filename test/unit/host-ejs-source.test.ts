import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { rewriteScriptServer } from '../../src/host/script-server.ts'

// The same ejs package the host bundles (CommonJS build).
const ejs = createRequire(import.meta.url)('ejs') as {
  compile(template: string, options?: object): (data: object) => string
}
const render = (template: string, api: Record<string, unknown>) =>
  ejs.compile(rewriteScriptServer(template))({ ...api, api })

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

describe('templates rendered with the real ejs', () => {
  it('run <script server> code with api keys as locals', () => {
    const html = render('<script server>\n  const who = greet(name)\n</script><p><%= who %></p>', {
      name: '<Ada>',
      greet: (n: string) => `hi ${n}`,
    })
    assert.equal(html, '<p>hi &lt;Ada&gt;</p>')
  })

  it('locals are a snapshot; api is live', () => {
    const api: Record<string, unknown> = { auth: null }
    const html = render('<% api.auth = "user1" %><%= auth === null ? "none" : auth %>|<%= api.auth %>', api)
    assert.equal(html, 'none|user1')
    assert.equal(api.auth, 'user1')
  })

  it('keeps template line numbers in errors (the rewrite adds no lines)', () => {
    assert.throws(
      () => render('<script server>\n  const a = 1\n</script>\n<% missingFn(a) %>', {}),
      (e: Error) => /missingFn/.test(e.message) && /ejs:4/.test(e.message),
    )
  })
})
