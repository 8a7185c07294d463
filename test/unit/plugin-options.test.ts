// The plugin's options, resolved one way (src/plugin/plugin-options.ts): its entry in +config.js,
// read in the asking JS VM, through the one reader of plugin entries; PocketPages' passed options
// only for a wrapped factory. Goja's globals (`__hooks`, `require`) are stood in for here.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { optionsFromPagesConfig, requestOptions } from '../../src/plugin/plugin-options.ts'

const globals = globalThis as unknown as Record<string, unknown>

/** Serves `config` as pb_hooks/pages/+config.js and counts how often it is required. */
function withConfig(config: unknown): { requires: number } {
  const counter = { requires: 0 }
  globals.__hooks = '/app/pb_hooks'
  globals.require = (path: string) => {
    if (path === 'pocketpages') return { globalApi: { env: () => 'from-env' } }
    assert.equal(path, '/app/pb_hooks/pages/+config.js', 'only +config.js is read')
    counter.requires++
    return config
  }
  return counter
}

afterEach(() => {
  delete globals.__hooks
  delete globals.require
})

describe('optionsFromPagesConfig', () => {
  it('finds the entry by package name and resolves its options (PocketPages keys ignored)', () => {
    withConfig({
      plugins: [
        'pocketpages-plugin-ejs',
        { name: 'pocketpages-plugin-anonymous', debug: true, collection: 'members', collections: ['members'] },
      ],
    })
    assert.equal(optionsFromPagesConfig(() => {})?.collection, 'members', 'the entry named by package')
  })
  it('finds a bare package name, with the defaults', () => {
    withConfig({ plugins: ['pocketpages-plugin-anonymous'] })
    assert.equal(optionsFromPagesConfig(() => {})?.collection, 'users', 'the default collection')
  })
  it('finds the entry that gives this factory, and calls a config function with globalApi', () => {
    const factory = () => {}
    withConfig((api: { env(k: string): string }) => ({
      plugins: [{ fn: factory, emailDomain: `${api.env('X')}.test` }],
    }))
    assert.equal(optionsFromPagesConfig(factory)?.emailDomain, 'from-env.test', 'the function form, with env')
  })
  it('is null when +config.js does not list the plugin', () => {
    withConfig({ plugins: ['pocketpages-plugin-ejs', { name: 'other', collection: 'x' }] })
    assert.equal(
      optionsFromPagesConfig(() => {}),
      null,
      'not listed',
    )
  })
  it('throws INVALID_OPTIONS for a misspelt option', () => {
    withConfig({ plugins: [{ name: 'pocketpages-plugin-anonymous', colection: 'users' }] })
    assert.throws(() => optionsFromPagesConfig(() => {}), { code: 'INVALID_OPTIONS' })
  })
})

describe('requestOptions', () => {
  it('resolves +config.js once per JS VM and factory, whatever PocketPages passes', () => {
    const factory = () => {}
    const counter = withConfig({ plugins: [{ name: 'pocketpages-plugin-anonymous', emailPrefix: 'visitor-' }] })
    const first = requestOptions(factory, { emailPrefix: 'ignored-' })
    const second = requestOptions(factory, { emailPrefix: 'ignored-' })
    assert.equal(first.emailPrefix, 'visitor-', "+config.js's options, not the passed ones")
    assert.equal(second, first, 'the same resolution')
    assert.equal(counter.requires, 1, 'read once')
  })
  it('falls back to the passed options for a wrapped factory, reusing equal ones', () => {
    const factory = () => {}
    withConfig({ plugins: [{ fn: () => {} }] })
    const cookie = { sameSite: 'Strict' }
    const first = requestOptions(factory, { name: 'x', cookie })
    assert.equal(first.cookie.sameSite, 'Strict', 'the passed options')
    assert.equal(requestOptions(factory, { name: 'x', cookie }), first, 'equal references: same resolution')
    assert.equal(requestOptions(factory, { cookie: { sameSite: 'Lax' } }).cookie.sameSite, 'Lax', 'a new object')
    assert.throws(() => requestOptions(factory, { nope: 1 }), /unknown key 'nope'/)
  })
})
