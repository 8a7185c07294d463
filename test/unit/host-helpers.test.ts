import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatLogArgs } from '../../src/host/global-api.ts'
import { errorPage, statusPage } from '../../src/host/http.ts'
import path from '../../src/host/shims/path.ts'

describe('formatLogArgs', () => {
  it('joins text, JSON-encodes objects, keeps an error stack', () => {
    assert.equal(formatLogArgs(['msg', { k: 1 }, 3, null]), 'msg {"k":1} 3 null')
    assert.match(formatLogArgs([new Error('boom')]), /^Error: boom\n\s+at /)
  })
})

describe('error and status pages', () => {
  it('say nothing about the cause outside debug mode', () => {
    const page = errorPage(new Error('secret <detail>'), false, '/hooks')
    assert.match(page, /Internal Server Error/)
    assert.doesNotMatch(page, /secret/)
  })

  it('show the escaped message and stack in debug mode, paths shortened', () => {
    const page = errorPage(new Error('bad <thing> in /hooks/pages/x.ejs'), true, '/hooks')
    assert.match(page, /bad &lt;thing&gt; in \/pages\/x\.ejs/)
    assert.match(page, /at /)
    assert.doesNotMatch(page, /\/hooks\//)
  })

  it('escape HTML in the title and text', () => {
    assert.equal(
      statusPage('<t>', `<a href="x">'&'</a>`),
      '<!doctype html><html><body><h1>&lt;t&gt;</h1><p>&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;</p></body></html>',
    )
  })
})

describe('path shim (for ejs)', () => {
  it('behaves like POSIX path for what ejs uses', () => {
    assert.equal(path.basename('/a/b/c.ejs'), 'c.ejs')
    assert.equal(path.basename('/a/b/c.ejs', '.ejs'), 'c')
    assert.equal(path.basename('/a/.ejs', '.ejs'), '.ejs')
    assert.equal(path.extname('/a/b.c/d.ejs'), '.ejs')
    assert.equal(path.extname('/a/b.c/d'), '')
    assert.equal(path.extname('/a/.hidden'), '')
    assert.equal(path.extname('/a/x.tar.gz'), '.gz')
  })
})
