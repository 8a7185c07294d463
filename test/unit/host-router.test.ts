import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { buildRoutes, findLayouts, isRoutable, resolveRoute } from '../../src/host/router.ts'

const ROOT = '/app/pb_hooks/pages'
const FILES = [
  '+config.js',
  '+layout.ejs',
  '_private/card.ejs',
  'about.ejs',
  'about/team.ejs',
  'assets/app.css',
  'blog/+layout.ejs',
  'blog/index.ejs',
  'blog/new.ejs',
  'docs/-draft.ejs',
  'index.ejs',
]
const handles = (path: string) => path.endsWith('.ejs')
const routes = buildRoutes(ROOT, FILES, handles)
const resolve = (path: string) => resolveRoute(path, routes)?.relativePath ?? null

describe('isRoutable', () => {
  it('hides +, _ and - files and folders', () => {
    assert.equal(isRoutable('+config.js'), false)
    assert.equal(isRoutable('blog/+layout.ejs'), false)
    assert.equal(isRoutable('_private/card.ejs'), false)
    assert.equal(isRoutable('docs/-draft.ejs'), false)
    assert.equal(isRoutable('a/b_c.ejs'), true)
  })
})

describe('buildRoutes', () => {
  it('keeps only routable files, the longest routes first', () => {
    assert.deepEqual(routes.map((r) => r.relativePath).sort(), [
      'about.ejs',
      'about/team.ejs',
      'assets/app.css',
      'blog/index.ejs',
      'blog/new.ejs',
      'index.ejs',
    ])
    const lengths = routes.map((r) => r.segments.length)
    assert.deepEqual(
      lengths,
      [...lengths].sort((a, b) => b - a),
    )
  })

  it('marks files no plugin handles as static and keeps their extension', () => {
    const css = routes.find((r) => r.relativePath === 'assets/app.css')!
    assert.equal(css.isStatic, true)
    assert.equal(css.absolutePath, `${ROOT}/assets/app.css`)
    assert.deepEqual(css.segments, [{ nodeName: 'assets' }, { nodeName: 'app.css' }])
    assert.deepEqual(css.layouts, [])
  })

  it('strips page extensions and lists layouts nearest first', () => {
    const post = routes.find((r) => r.relativePath === 'blog/new.ejs')!
    assert.equal(post.isStatic, false)
    assert.deepEqual(post.segments, [{ nodeName: 'blog' }, { nodeName: 'new' }])
    assert.deepEqual(post.layouts, [`${ROOT}/blog/+layout.ejs`, `${ROOT}/+layout.ejs`])
    assert.deepEqual(routes.find((r) => r.relativePath === 'about/team.ejs')!.layouts, [`${ROOT}/+layout.ejs`])
  })
})

describe('findLayouts', () => {
  it('takes any +layout.* file of a folder and rejects two in one folder', () => {
    assert.deepEqual(findLayouts('a/b/page.ejs', ['a/+layout.md', 'a/b/c/+layout.ejs', 'x+layout.ejs']), [
      'a/+layout.md',
    ])
    assert.throws(() => findLayouts('page.ejs', ['+layout.ejs', '+layout.md']), /Multiple layouts/)
  })
})

describe('resolveRoute', () => {
  it('maps / and /index to index.ejs, a folder to its index', () => {
    assert.equal(resolve('/'), 'index.ejs')
    assert.equal(resolve('/index'), 'index.ejs')
    assert.equal(resolve('/blog'), 'blog/index.ejs')
    assert.equal(resolve('/blog/'), 'blog/index.ejs')
  })

  it('serves pages without and static files with their extension', () => {
    assert.equal(resolve('/blog/new'), 'blog/new.ejs')
    assert.equal(resolve('/blog/new.ejs'), null)
    assert.equal(resolve('/assets/app.css'), 'assets/app.css')
    assert.equal(resolve('/assets/app'), null)
  })

  it('answers deeper URLs with the longest matching route, like PocketPages 0.22', () => {
    assert.equal(resolve('/about/team'), 'about/team.ejs')
    assert.equal(resolve('/about/extra'), 'about.ejs')
    assert.equal(resolve('/blog/new/x/y'), 'blog/new.ejs')
  })

  it('never serves hidden files', () => {
    assert.equal(resolve('/+config.js'), null)
    assert.equal(resolve('/_private/card'), null)
    assert.equal(resolve('/blog/+layout'), null)
    assert.equal(resolve('/docs/-draft'), null)
  })

  it('returns null when nothing matches', () => {
    assert.equal(resolve('/nope'), null)
    assert.equal(resolve('/api/health'), null)
  })
})
