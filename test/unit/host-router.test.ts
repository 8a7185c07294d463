import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { buildRoutes, findLayouts, fingerprinted, isRoutable, resolveRoute } from '../../src/host/router.ts'

const ROOT = '/app/pb_hooks/pages'
const FILES = [
  '+config.js',
  '+layout.ejs',
  '_private/card.ejs',
  'about.ejs',
  'assets/app.css',
  'blog/+layout.ejs',
  'blog/[slug].ejs',
  'blog/index.ejs',
  'blog/new.ejs',
  'docs/-draft.ejs',
  'index.ejs',
  'products/[id]/edit.ejs',
  '(marketing)/pricing.ejs',
]
const handles = (path: string) => path.endsWith('.ejs')
const routes = buildRoutes(ROOT, FILES, handles)
const resolve = (path: string) => {
  const found = resolveRoute(path, routes)
  return found && { file: found.route.relativePath, params: found.params }
}

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
  it('keeps only routable files', () => {
    assert.deepEqual(routes.map((r) => r.relativePath).sort(), [
      '(marketing)/pricing.ejs',
      'about.ejs',
      'assets/app.css',
      'blog/[slug].ejs',
      'blog/index.ejs',
      'blog/new.ejs',
      'index.ejs',
      'products/[id]/edit.ejs',
    ])
  })

  it('marks files no plugin handles as static and keeps their extension', () => {
    const css = routes.find((r) => r.relativePath === 'assets/app.css')!
    assert.equal(css.isStatic, true)
    assert.deepEqual(css.segments, [{ nodeName: 'assets' }, { nodeName: 'app.css' }])
    assert.deepEqual(css.layouts, [])
  })

  it('strips page extensions, finds params and absolute paths', () => {
    const post = routes.find((r) => r.relativePath === 'blog/[slug].ejs')!
    assert.equal(post.isStatic, false)
    assert.equal(post.absolutePath, `${ROOT}/blog/[slug].ejs`)
    assert.deepEqual(post.segments, [{ nodeName: 'blog' }, { nodeName: '[slug]', paramName: 'slug' }])
  })

  it('lists layouts nearest first', () => {
    const post = routes.find((r) => r.relativePath === 'blog/[slug].ejs')!
    assert.deepEqual(post.layouts, [`${ROOT}/blog/+layout.ejs`, `${ROOT}/+layout.ejs`])
    const about = routes.find((r) => r.relativePath === 'about.ejs')!
    assert.deepEqual(about.layouts, [`${ROOT}/+layout.ejs`])
  })

  it('sorts static segments before params', () => {
    const blog = routes.filter((r) => r.segments[0]?.nodeName === 'blog').map((r) => r.relativePath)
    assert.ok(blog.indexOf('blog/new.ejs') < blog.indexOf('blog/[slug].ejs'))
  })
})

describe('findLayouts', () => {
  it('ignores layouts no plugin handles and rejects two in one folder', () => {
    assert.deepEqual(findLayouts('a/page.ejs', ['+layout.ejs~', 'a/page.ejs'], handles), [])
    assert.throws(() => findLayouts('page.ejs', ['+layout.ejs', '+layout.md'], () => true), /Multiple layouts/)
  })
})

describe('resolveRoute', () => {
  it('maps / and /index to index.ejs', () => {
    assert.deepEqual(resolve('/'), { file: 'index.ejs', params: {} })
    assert.deepEqual(resolve('/index'), { file: 'index.ejs', params: {} })
  })

  it('maps a folder to its index, with or without trailing slash', () => {
    assert.equal(resolve('/blog')?.file, 'blog/index.ejs')
    assert.equal(resolve('/blog/')?.file, 'blog/index.ejs')
  })

  it('captures params and prefers static segments', () => {
    assert.deepEqual(resolve('/blog/hello'), { file: 'blog/[slug].ejs', params: { slug: 'hello' } })
    assert.deepEqual(resolve('/blog/new'), { file: 'blog/new.ejs', params: {} })
    assert.deepEqual(resolve('/products/42/edit'), { file: 'products/[id]/edit.ejs', params: { id: '42' } })
  })

  it('decodes percent-encoded segments', () => {
    assert.deepEqual(resolve('/blog/caf%C3%A9'), { file: 'blog/[slug].ejs', params: { slug: 'café' } })
    assert.deepEqual(resolve('/blog/%E0%A4%A'), { file: 'blog/[slug].ejs', params: { slug: '%E0%A4%A' } })
  })

  it('leaves (group) folders out of the URL', () => {
    assert.equal(resolve('/pricing')?.file, '(marketing)/pricing.ejs')
    assert.equal(resolve('/(marketing)/pricing'), null)
  })

  it('requires the same number of segments (unlike PocketPages 0.22)', () => {
    assert.equal(resolve('/about/extra'), null)
    assert.equal(resolve('/blog/a/b'), null)
    assert.equal(resolve('/products/42'), null)
  })

  it('never serves hidden files', () => {
    assert.equal(resolve('/+config.js'), null)
    assert.equal(resolve('/_private/card'), null)
    // A param route may capture the name, but the layout file itself is never the route.
    assert.deepEqual(resolve('/blog/+layout'), { file: 'blog/[slug].ejs', params: { slug: '+layout' } })
    assert.equal(resolve('/assets/+layout'), null)
  })

  it('serves static files by name and by fingerprinted name', () => {
    const withFingerprint = buildRoutes(ROOT, ['assets/app.css'], () => false)
    withFingerprint[0]!.fingerprint = 'abc123'
    assert.equal(resolveRoute('/assets/app.css', withFingerprint)?.route.relativePath, 'assets/app.css')
    assert.equal(resolveRoute('/assets/app.abc123.css', withFingerprint)?.route.relativePath, 'assets/app.css')
    assert.equal(resolveRoute('/assets/app.zzz.css', withFingerprint), null)
  })

  it('returns null when nothing matches', () => {
    assert.equal(resolve('/nope'), null)
    assert.equal(resolve('/api/health'), null)
  })
})

describe('fingerprinted', () => {
  it('inserts the fingerprint before the extension', () => {
    assert.equal(fingerprinted('app.css', 'f00'), 'app.f00.css')
    assert.equal(fingerprinted('app.min.js', 'f00'), 'app.min.f00.js')
    assert.equal(fingerprinted('LICENSE', 'f00'), 'LICENSE.f00')
  })
})
