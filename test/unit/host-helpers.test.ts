import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { assetUrl } from '../../src/host/asset.ts'
import { echoText } from '../../src/host/context.ts'
import { errorPage, escapeHtml } from '../../src/host/html.ts'
import { formatLogArgs } from '../../src/host/log.ts'
import { buildRoutes } from '../../src/host/router.ts'
import path from '../../src/host/shims/path.ts'
import { parseSlots } from '../../src/host/slots.ts'

describe('parseSlots', () => {
  it('returns plain content when there are no slots', () => {
    assert.deepEqual(parseSlots('  <p>hi</p>\n'), { slots: {}, content: '<p>hi</p>' })
  })

  it('splits named sections, each up to the next marker', () => {
    const page = 'intro\n<!-- slot:head --><title>T</title>\n<!--slot:default-->\n<p>body</p>\n'
    assert.deepEqual(parseSlots(page), {
      slots: { head: '<title>T</title>', default: '<p>body</p>' },
      content: 'intro',
    })
  })

  it('ignores empty slots', () => {
    assert.deepEqual(parseSlots('x<!-- slot:side -->  '), { slots: {}, content: 'x<!-- slot:side -->' })
  })
})

describe('assetUrl', () => {
  const routes = buildRoutes('/p', ['blog/index.ejs', 'blog/style.css', 'assets/app.css', 'index.ejs'], (f) =>
    f.endsWith('.ejs'),
  )
  for (const r of routes) if (r.isStatic) r.fingerprint = 'fp'
  const blog = routes.find((r) => r.relativePath === 'blog/index.ejs')!

  it('fingerprints absolute paths of static files', () => {
    assert.equal(assetUrl('/assets/app.css', blog, routes), '/assets/app.fp.css')
  })

  it('resolves relative paths against the page folder', () => {
    assert.equal(assetUrl('style.css', blog, routes), '/blog/style.fp.css')
    assert.equal(assetUrl('../assets/app.css', blog, routes), '/assets/app.fp.css')
  })

  it('returns unknown paths unchanged', () => {
    assert.equal(assetUrl('/nope.css', blog, routes), '/nope.css')
    assert.equal(assetUrl('nope.css', blog, routes), 'nope.css')
    assert.equal(assetUrl('/blog', blog, routes), '/blog')
  })
})

describe('echoText and formatLogArgs', () => {
  it('join text, JSON-encode objects', () => {
    assert.equal(echoText(['a', 1, { b: 2 }, null, undefined]), 'a 1 {"b":2} null undefined')
    assert.equal(formatLogArgs(['msg', { k: 1 }, 3]), 'msg {"k":1} 3')
    assert.match(formatLogArgs([new Error('boom')]), /^Error: boom/)
  })
})

describe('error pages', () => {
  it('say nothing about the cause outside debug mode', () => {
    const page = errorPage(new Error('secret <detail>'), false, '/hooks')
    assert.match(page, /Internal Server Error/)
    assert.doesNotMatch(page, /secret/)
  })

  it('show the escaped message in debug mode, paths shortened', () => {
    const err = new Error('bad <thing> in /hooks/pages/x.ejs')
    const page = errorPage(err, true, '/hooks')
    assert.match(page, /bad &lt;thing&gt; in \/pages\/x\.ejs/)
    assert.doesNotMatch(page, /\/hooks\//)
  })

  it('escape HTML', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;')
  })
})

describe('path shim (for ejs)', () => {
  it('behaves like POSIX path for what ejs uses', () => {
    assert.equal(path.dirname('/a/b/c.ejs'), '/a/b')
    assert.equal(path.dirname('/a'), '/')
    assert.equal(path.dirname('a'), '.')
    assert.equal(path.extname('/a/b.c/d.ejs'), '.ejs')
    assert.equal(path.extname('/a/.hidden'), '')
    assert.equal(path.basename('/a/b/c.ejs', '.ejs'), 'c')
    assert.equal(path.resolve('/root', 'x/../y.ejs'), '/root/y.ejs')
    assert.equal(path.resolve('/root', '/abs/z.ejs'), '/abs/z.ejs')
    assert.equal(path.join('/a', '../b', './c'), '/b/c')
    assert.equal(path.join('a', '..', '..', 'b'), '../b')
  })
})
