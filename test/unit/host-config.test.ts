import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isTruthyFlag, normalizeConfig, normalizePluginEntry } from '../../src/host/config.ts'

describe('normalizeConfig', () => {
  it('defaults to the EJS plugin alone and no debug', () => {
    assert.deepEqual(normalizeConfig(undefined, undefined), { plugins: ['pocketpages-plugin-ejs'], debug: false })
    assert.deepEqual(normalizeConfig({}, ''), { plugins: ['pocketpages-plugin-ejs'], debug: false })
  })

  it('turns DEBUG=1 into verbose debug, unless the config says otherwise', () => {
    assert.equal(normalizeConfig(undefined, '1').debug, 'verbose')
    assert.equal(normalizeConfig({ debug: true }, '1').debug, true)
  })

  it('replaces the default plugin list', () => {
    const mine = () => ({ name: 'mine' })
    assert.deepEqual(normalizeConfig({ plugins: [mine] }, undefined).plugins, [mine])
  })

  it('rejects unknown keys and a plugins value that is not a list', () => {
    assert.throws(() => normalizeConfig({ plugins: [], layout: 'x' }, undefined), /Invalid config key: layout/)
    assert.throws(() => normalizeConfig({ plugins: 'ejs' }, undefined), /plugins must be an array/)
  })
})

describe('isTruthyFlag', () => {
  it('accepts the usual spellings of true', () => {
    for (const v of ['true', '1', 'yes', 'on', 'enabled', 'TRUE']) assert.equal(isTruthyFlag(v), true, v)
    for (const v of [undefined, '', '0', 'false', 'no']) assert.equal(isTruthyFlag(v), false, String(v))
  })
})

describe('normalizePluginEntry', () => {
  const factory = () => ({ name: 'p' })
  const other = () => ({ name: 'q' })
  const load = (name: string) => {
    if (name === 'pkg') return factory
    throw new Error(`Cannot find module '${name}'`)
  }

  it('loads a package name', () => {
    assert.deepEqual(normalizePluginEntry('pkg', load), { fn: factory, options: { debug: false } })
  })

  it('takes a factory as is', () => {
    assert.deepEqual(normalizePluginEntry(other, load), { fn: other, options: { debug: false } })
  })

  it('passes { fn, ...options } options on, without fn', () => {
    assert.deepEqual(normalizePluginEntry({ fn: other, color: 'red' }, load), {
      fn: other,
      options: { debug: false, color: 'red' },
    })
  })

  it('passes { name, ...options } options on, without name, debug overridable', () => {
    assert.deepEqual(normalizePluginEntry({ name: 'pkg', size: 3, debug: true }, load), {
      fn: factory,
      options: { debug: true, size: 3 },
    })
  })

  it('rejects anything else and propagates load errors', () => {
    assert.throws(() => normalizePluginEntry(42 as never, load), /Invalid plugin config/)
    assert.throws(() => normalizePluginEntry({ color: 'red' } as never, load), /Invalid plugin config/)
    assert.throws(() => normalizePluginEntry('missing', load), /Cannot find module 'missing'/)
  })
})
