/// <reference path="../../node_modules/pocketbase-jsvm/index.d.ts" />
// Shared by the bench-only routes in bench.pb.js (route handlers cannot share top-level code, but
// they can require a module, which each JS VM loads once). Packages are passed in by the handlers:
// a require() of a package from this file would resolve from its temp directory, not the repo.

/**
 * The benchmark hooks (bench/bench-hooks.ts, bundled apart from the plugin into lib/bench-hooks.js)
 * and the plugin's options from +config.js, once per JS VM.
 */
function plugin(anonymousModule) {
  if (!globalThis.__benchPlugin) {
    const hooks = require(`${__hooks}/lib/bench-hooks.js`).benchmarkHooks(anonymousModule.default)
    globalThis.__benchPlugin = { hooks: hooks, options: hooks.options() }
  }
  return globalThis.__benchPlugin
}

/** The value of the pb_auth cookie in the request ('' when none). */
function sessionCookieValue(e) {
  const match = /(?:^|;\s*)pb_auth=([^;]+)/.exec(e.request.header.get('Cookie') || '')
  return match ? match[1] : ''
}

/** The token in the request's pb_auth cookie ('' when none). */
function sessionToken(e) {
  const value = sessionCookieValue(e)
  return value ? JSON.parse(decodeURIComponent(value)).token : ''
}

/** The parts of PocketPages' request object plugins read, for routes that call plugins directly. */
function pagesRequest(e, method, pathname) {
  return {
    event: e,
    method: method,
    url: { pathname: pathname, query: {} },
    header: (name) => e.request.header.get(name),
    formData: () => ({}),
    body: () => ({}),
    cookies: (name) => {
      if (name !== 'pb_auth') return name === undefined ? {} : undefined
      const value = sessionCookieValue(e)
      return value ? decodeURIComponent(value) : undefined
    },
  }
}

/** The parts of PocketPages' response object plugins touch; writes go to the event. */
function pagesResponse(e) {
  return {
    cookie: () => undefined,
    header: (name, value) =>
      value === undefined ? e.response.header().get(name) : e.response.header().set(name, value),
    redirect: (to, status) => e.redirect(status || 302, to),
    json: (status, data) => e.json(status, data),
    html: (status, data) => e.html(status, data),
    write: (text) => e.string(200, text),
    file: () => undefined,
  }
}

/** The +config.js entry of a plugin by name, as PocketPages passes it to the factory. */
function configEntry(name, globalApi) {
  const exported = require(`${__hooks}/pages/+config.js`)
  const config = typeof exported === 'function' ? exported(globalApi) : exported
  for (const entry of config.plugins) {
    if (entry === name) return { debug: false }
    if (entry && typeof entry === 'object' && entry.name === name) {
      const options = { debug: false }
      for (const key of Object.keys(entry)) if (key !== 'name') options[key] = entry[key]
      return options
    }
  }
  throw new Error(`+config.js does not list ${name}`)
}

module.exports = { plugin, sessionToken, pagesRequest, pagesResponse, configEntry }
