// The pocketpages-plugin-auth stand-in's shape, as other plugins and pages see it: its name, what
// its factory adds to globalApi, what it assigns onto `api`, the cookie writes of signIn/signOut,
// and the parts of onRequest that run before PocketBase is asked. The PocketBase side is tested
// end to end in test/e2e/auth-plugin-standin.test.ts.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import authPluginFactory from '../../src/auth-plugin/index.ts'
import { withoutHiddenFields } from '../../src/auth-plugin/pocketbase-api.ts'
import type { PagesGlobalApi, PagesRequest, PagesRequestContext, PagesResponse } from '../../src/pocketpages/types.ts'

const noop = () => {}

function fakeGlobalApi(): PagesGlobalApi {
  return {
    url: noop as never,
    stringify: JSON.stringify,
    env: () => '',
    store: noop,
    dbg: noop,
    info: noop,
    warn: noop,
    error: noop,
  }
}

function instantiate(globalApi = fakeGlobalApi()) {
  const plugin = authPluginFactory(
    { pagesRoot: '/pages', config: { plugins: [], debug: false }, globalApi, routes: [], dbg: noop },
    {},
  )
  return { plugin, globalApi }
}

type CookieCall = [name: string, value: unknown, options: unknown]

function fakeResponse(calls: CookieCall[]): PagesResponse {
  return {
    cookie: (name: string, value: unknown, options?: unknown) => {
      calls.push([name, value, options])
      return undefined
    },
  } as unknown as PagesResponse
}

describe('pocketpages-plugin-auth stand-in', () => {
  it("is named 'auth' and adds upstream's functions to globalApi, typo included", () => {
    const { plugin, globalApi } = instantiate()
    assert.equal(plugin.name, 'auth')
    for (const name of [
      'createUser',
      'createAnonymousUser',
      'createPaswordlessUser',
      'requestVerification',
      'confirmVerification',
      'requestOTP',
    ]) {
      assert.equal(typeof globalApi[name], 'function', name)
    }
  })

  it('assigns the sign-in functions onto api, and no OAuth2 functions', () => {
    const { plugin, globalApi } = instantiate()
    const api = { ...globalApi } as PagesRequestContext
    plugin.onExtendContextApi?.({ api, route: {} as never })
    for (const name of [
      'registerWithPassword',
      'signInWithPassword',
      'signInAnonymously',
      'signInWithOTP',
      'signOut',
      'signIn',
    ]) {
      assert.equal(typeof api[name], 'function', name)
    }
    assert.equal(api.requestOAuth2Login, undefined)
    assert.equal(api.signInWithOAuth2, undefined)
  })

  it('signIn writes pb_auth = {token, plain record} with PocketPages defaults; signOut clears it with maxAge 0', () => {
    const { plugin, globalApi } = instantiate()
    const calls: CookieCall[] = []
    const api = { ...globalApi, response: fakeResponse(calls) } as PagesRequestContext
    plugin.onExtendContextApi?.({ api, route: {} as never })
    const record = { id: 'r1', email: 'a@example.org', toJSON: () => ({ id: 'r1', email: 'a@example.org' }) }
    api.signIn({ token: 't', record })
    api.signOut()
    assert.deepEqual(calls, [
      ['pb_auth', { token: 't', record: { id: 'r1', email: 'a@example.org' } }, undefined],
      ['pb_auth', '', { maxAge: 0 }],
    ])
    assert.throws(() => api.signIn({ token: 't' }), /No auth record found/)
  })

  describe('onRequest before any token check', () => {
    const run = (request: Partial<PagesRequest>) => {
      const calls: CookieCall[] = []
      instantiate().plugin.onRequest?.({ request: request as PagesRequest, response: fakeResponse(calls) })
      return calls
    }

    it('leaves a request that is already signed in alone (the cookie is not even read)', () => {
      const cookies = () => assert.fail('the cookie was read')
      assert.deepEqual(run({ auth: { id: 'x' } as never, cookies: cookies as never }), [])
    })

    const cases: { name: string; value: unknown; clears: boolean }[] = [
      { name: 'no cookie', value: undefined, clears: false },
      { name: 'an empty cookie', value: '', clears: false },
      { name: 'a string that is not JSON', value: 'garbage', clears: true },
      { name: 'a number (the host parsed the JSON)', value: 123, clears: true },
      { name: 'JSON text of a number', value: '42', clears: true },
      { name: 'an object without a token', value: { record: {} }, clears: false },
      { name: 'JSON null', value: 'null', clears: false },
    ]
    for (const c of cases) {
      it(`${c.name}: ${c.clears ? 'cleared with maxAge 0' : 'ignored'}`, () => {
        const calls = run({ cookies: ((name: string) => (name === 'pb_auth' ? c.value : undefined)) as never })
        assert.deepEqual(calls, c.clears ? [['pb_auth', '', { maxAge: 0 }]] : [])
      })
    }
  })

  describe('withoutHiddenFields (what a non-superuser may send to the create API)', () => {
    const fields = [
      { name: 'email' },
      { name: 'password', hidden: true },
      { name: 'tokenKey', hidden: true },
      { name: 'anonymous', hidden: true },
      { name: 'lastSeen', hidden: true },
      { name: 'name' },
    ]
    const data = {
      email: 'a@example.org',
      password: 'p',
      passwordConfirm: 'p',
      tokenKey: 'k',
      anonymous: true,
      lastSeen: 'x',
      name: 'n',
    }

    it('drops hidden fields but keeps the auth password and non-field keys', () => {
      assert.deepEqual(withoutHiddenFields(fields, true, data), {
        email: 'a@example.org',
        password: 'p',
        passwordConfirm: 'p',
        name: 'n',
      })
    })

    it('drops a hidden `password` field of a base collection too', () => {
      assert.ok(
        !('password' in withoutHiddenFields(fields, false, data)),
        'a hidden password field of a base collection is dropped',
      )
    })
  })
})
