import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { defaultOptions, resolveOptions } from '../../src/core/options.ts'

const PREFIX = 'pocketpages-plugin-anonymous: invalid option in +config.js: '

describe('resolveOptions: defaults', () => {
  it('no options resolve to the documented defaults', () => {
    assert.deepEqual(resolveOptions(undefined), defaultOptions())
    assert.deepEqual(resolveOptions(null), defaultOptions())
  })
  it('the defaults', () => {
    assert.deepEqual(defaultOptions(), {
      collection: 'users',
      collections: ['users'],
      emailDomain: 'example.com',
      emailPrefix: 'anonymous-',
      anonymousField: 'anonymous',
      lastSeenField: 'lastSeen',
      cookie: { name: 'pb_auth', path: '/', domain: undefined, httpOnly: true, sameSite: 'Lax', secure: 'auto' },
      keepAlive: { refreshAfterFraction: 0.5, lastSeenWriteIntervalSeconds: 3600 },
      rateLimit: { perNetwork: 30, perIpv6Site: 300, global: 0, windowSeconds: 3600, ipv4Prefix: 32, ipv6Prefix: 64 },
      csrf: { enabled: true, allowedOrigins: [] },
      upgrade: {
        sendVerificationEmail: false,
        failuresPerGuest: 10,
        failuresPerNetwork: 30,
        failureWindowSeconds: 900,
      },
      upgradeCode: {
        sendsPerGuest: 3,
        sendsPerNetwork: 10,
        sendsPerAddress: 3,
        sendWindowSeconds: 3600,
        failuresPerCode: 5,
        failuresPerNetwork: 30,
        signInToExisting: true,
      },
      mergeOnSignIn: true,
      onMerge: null,
      beforeGuestSignIn: null,
      beforeGuestDelete: null,
      respondWithErrorStatus: true,
      cleanup: {
        enabled: true,
        schedule: '17 * * * *',
        retentionDays: 30,
        batchSize: 100,
        maxPerRun: 10000,
        pauseMilliseconds: 50,
      },
    })
  })
  it('accepts the keys PocketPages adds to a plugin entry', () => {
    assert.deepEqual(
      resolveOptions({ name: 'pocketpages-plugin-anonymous', fn: () => {}, debug: false }),
      defaultOptions(),
    )
  })
  it('defaults collections to the chosen collection', () => {
    assert.deepEqual(resolveOptions({ collection: 'members' }).collections, ['members'])
  })
  it('merges nested options over the defaults', () => {
    const options = resolveOptions({ cookie: { sameSite: 'Strict' }, rateLimit: { perNetwork: 5 } })
    assert.equal(options.cookie.sameSite, 'Strict')
    assert.equal(options.cookie.httpOnly, true)
    assert.equal(options.rateLimit.perNetwork, 5)
    assert.equal(options.rateLimit.windowSeconds, 3600)
  })
  it('lower-cases the email domain and allowed origins', () => {
    const options = resolveOptions({
      emailDomain: 'Guests.Example.ORG',
      csrf: { allowedOrigins: ['https://App.Test'] },
    })
    assert.equal(options.emailDomain, 'guests.example.org')
    assert.deepEqual(options.csrf.allowedOrigins, ['https://app.test'])
  })
  it('accepts the edges of every range', () => {
    const options = resolveOptions({
      keepAlive: { refreshAfterFraction: 0, lastSeenWriteIntervalSeconds: 0 },
      rateLimit: { perNetwork: 0, windowSeconds: 1, ipv4Prefix: 1, ipv6Prefix: 128 },
      cleanup: { retentionDays: 0, batchSize: 1, maxPerRun: 1 },
      cookie: { secure: true, domain: 'app.test', sameSite: 'None' },
      collections: ['users', 'members'],
      emailPrefix: 'a'.repeat(32),
      emailDomain: 'a.b',
      csrf: { allowedOrigins: ['http://localhost:3000'] },
    })
    assert.equal(options.emailDomain, 'a.b')
    assert.deepEqual(options.csrf.allowedOrigins, ['http://localhost:3000'])
    assert.equal(resolveOptions({ cookie: { secure: 'auto' } }).cookie.secure, 'auto')
    assert.equal(options.keepAlive.refreshAfterFraction, 0)
    assert.equal(options.rateLimit.ipv6Prefix, 128)
    assert.equal(options.cookie.secure, true)
    assert.equal(options.cookie.domain, 'app.test')
    assert.deepEqual(options.collections, ['users', 'members'])
    assert.equal(resolveOptions({ keepAlive: { refreshAfterFraction: 1 } }).keepAlive.refreshAfterFraction, 1)
    assert.equal(resolveOptions({ rateLimit: { ipv4Prefix: 32, ipv6Prefix: 1 } }).rateLimit.ipv6Prefix, 1)
    assert.equal(resolveOptions({ cookie: { secure: false } }).cookie.secure, false)
  })
  it('keeps function options as given', () => {
    const onMerge = () => {}
    const beforeGuestSignIn = () => true
    const beforeGuestDelete = () => false
    const options = resolveOptions({ onMerge, beforeGuestSignIn, beforeGuestDelete })
    assert.equal(options.onMerge, onMerge)
    assert.equal(options.beforeGuestSignIn, beforeGuestSignIn)
    assert.equal(options.beforeGuestDelete, beforeGuestDelete, 'beforeGuestDelete is kept as given')
    assert.equal(resolveOptions({ onMerge: null }).onMerge, null)
  })
})

describe('resolveOptions: every kind of mistake names the option', () => {
  const mistakes: [string, unknown, string][] = [
    ['not an object', 'users', 'options must be an object'],
    ['an array', [], 'options must be an object'],
    ['a nested non-object', { cookie: 'pb_auth' }, 'cookie must be an object'],
    ['a nested array', { rateLimit: [1] }, 'rateLimit must be an object'],
    [
      'a misspelt key',
      { colection: 'users' },
      "unknown key 'colection'; known keys: collection, collections, emailDomain, emailPrefix, anonymousField, lastSeenField, cookie, keepAlive, rateLimit, csrf, upgrade, upgradeCode, mergeOnSignIn, onMerge, beforeGuestSignIn, beforeGuestDelete, respondWithErrorStatus, cleanup",
    ],
    [
      'a misspelt nested key',
      { cookie: { samesite: 'Lax' } },
      "unknown key 'samesite' in cookie; known keys: name, path, domain, httpOnly, sameSite, secure",
    ],
    [
      'a host key nested',
      { cookie: { debug: true } },
      "unknown key 'debug' in cookie; known keys: name, path, domain, httpOnly, sameSite, secure",
    ],
    ['text: empty', { cookie: { path: '' } }, 'cookie.path must be a non-empty string'],
    ['text: not a string', { cleanup: { schedule: 5 } }, 'cleanup.schedule must be a non-empty string'],
    ['optional text: not a string', { cookie: { domain: 5 } }, 'cookie.domain must be a non-empty string'],
    [
      'name: not a name',
      { collection: 'users; DROP' },
      "collection must be a collection or field name (letters, digits, _), got 'users; DROP'",
    ],
    ['name: empty', { anonymousField: '' }, 'anonymousField must be a non-empty string'],
    ['name list: empty', { collections: [] }, 'collections must be a non-empty array of collection names'],
    ['name list: not an array', { collections: 'users' }, 'collections must be a non-empty array of collection names'],
    [
      'name list: a bad entry',
      { collections: ['users', 'a-b'] },
      "collections[1] must be a collection or field name (letters, digits, _), got 'a-b'",
    ],
    [
      'collections without the collection',
      { collection: 'a', collections: ['b', 'c'] },
      "collections must include the default collection 'a' (got [b, c])",
    ],
    [
      'domain: no dot',
      { emailDomain: 'localhost' },
      "emailDomain must be a domain name like 'example.com', got 'localhost'",
    ],
    [
      'domain: a leading dash',
      { emailDomain: '-a.test' },
      "emailDomain must be a domain name like 'example.com', got '-a.test'",
    ],
    [
      'domain: an address',
      { emailDomain: 'a@b.test' },
      "emailDomain must be a domain name like 'example.com', got 'a@b.test'",
    ],
    [
      'domain: a path',
      { emailDomain: 'b.test/x' },
      "emailDomain must be a domain name like 'example.com', got 'b.test/x'",
    ],
    [
      'email prefix: too long',
      { emailPrefix: 'a'.repeat(33) },
      `emailPrefix must be letters, digits and . _ + - (at most 32), got '${'a'.repeat(33)}'`,
    ],
    [
      'email prefix: an @',
      { emailPrefix: 'a@' },
      "emailPrefix must be letters, digits and . _ + - (at most 32), got 'a@'",
    ],
    ['cookie name: a space', { cookie: { name: 'pb auth' } }, "cookie.name 'pb auth' is not a valid cookie name"],
    ['bool: a string', { mergeOnSignIn: 'yes' }, 'mergeOnSignIn must be true or false'],
    ['auto or bool: another string', { cookie: { secure: 'always' } }, 'cookie.secure must be true or false'],
    [
      'number: too big',
      { keepAlive: { refreshAfterFraction: 2 } },
      'keepAlive.refreshAfterFraction must be a number between 0 and 1',
    ],
    [
      'number: negative',
      { keepAlive: { refreshAfterFraction: -0.1 } },
      'keepAlive.refreshAfterFraction must be a number between 0 and 1',
    ],
    ['number: NaN', { cleanup: { retentionDays: Number.NaN } }, 'cleanup.retentionDays must be a number >= 0'],
    [
      'number: Infinity',
      { cleanup: { retentionDays: Number.POSITIVE_INFINITY } },
      'cleanup.retentionDays must be a number >= 0',
    ],
    ['number: a string', { cleanup: { retentionDays: '30' } }, 'cleanup.retentionDays must be a number >= 0'],
    ['integer: below its minimum', { rateLimit: { perNetwork: -1 } }, 'rateLimit.perNetwork must be a number >= 0'],
    ['integer: zero window', { rateLimit: { windowSeconds: 0 } }, 'rateLimit.windowSeconds must be a number >= 1'],
    ['integer: a fraction', { cleanup: { batchSize: 2.5 } }, 'cleanup.batchSize must be a whole number'],
    [
      'integer: above its maximum',
      { rateLimit: { ipv4Prefix: 33 } },
      'rateLimit.ipv4Prefix must be a number between 1 and 32',
    ],
    [
      'integer: zero prefix',
      { rateLimit: { ipv6Prefix: 0 } },
      'rateLimit.ipv6Prefix must be a number between 1 and 128',
    ],
    ['one of: wrong case', { cookie: { sameSite: 'lax' } }, 'cookie.sameSite must be one of Lax, Strict, None'],
    [
      'origins: not an array',
      { csrf: { allowedOrigins: 'https://a.test' } },
      "csrf.allowedOrigins must be an array of origins like 'https://app.example.org'",
    ],
    [
      'origins: with a path',
      { csrf: { allowedOrigins: ['https://a.test/x'] } },
      "csrf.allowedOrigins entries must look like 'https://app.example.org' (scheme and host, no path), got 'https://a.test/x'",
    ],
    [
      'origins: a URL inside another',
      { csrf: { allowedOrigins: ['xhttps://a.test'] } },
      "csrf.allowedOrigins entries must look like 'https://app.example.org' (scheme and host, no path), got 'xhttps://a.test'",
    ],
    [
      'origins: an array that prints like an origin',
      { csrf: { allowedOrigins: [['https://a.test']] } },
      "csrf.allowedOrigins entries must look like 'https://app.example.org' (scheme and host, no path), got 'https://a.test'",
    ],
    [
      'origins: not http',
      { csrf: { allowedOrigins: ['ftp://a.test'] } },
      "csrf.allowedOrigins entries must look like 'https://app.example.org' (scheme and host, no path), got 'ftp://a.test'",
    ],
    [
      'origins: not a string',
      { csrf: { allowedOrigins: [42] } },
      "csrf.allowedOrigins entries must look like 'https://app.example.org' (scheme and host, no path), got '42'",
    ],
    ['hook: not a function', { onMerge: 'move' }, 'onMerge must be a function ({ guest, user, app }) => void'],
    [
      'hook: not a function',
      { beforeGuestSignIn: true },
      'beforeGuestSignIn must be a function ({ request, clientIp, app }) => boolean',
    ],
    [
      'hook: not a function',
      { beforeGuestDelete: 'keep polls' },
      'beforeGuestDelete must be a function ({ guest, app }) => boolean',
    ],
  ]
  for (const [name, input, message] of mistakes) {
    it(`${name}: ${message.slice(0, 70)}`, () => {
      assert.throws(() => resolveOptions(input), { code: 'INVALID_OPTIONS', status: 500, message: PREFIX + message })
    })
  }
})
