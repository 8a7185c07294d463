/**
 * PocketPages config of the app scripts/real-pocketpages-check.mjs runs in the real PocketPages:
 * the demo's own plugin entries (pb_hooks/pages/+config.js, copied next to this file as
 * _private/demo-config.js), the anonymous and auth plugins in the order env REAL_PP_ORDER names
 * ('anonymous-first' or 'auth-first'), after pocketpages-plugin-js-sdk, which supplies the
 * `pb()` client that pocketpages-plugin-auth makes its REST calls with.
 */
module.exports = (api) => {
  const demo = require(`${__hooks}/pages/_private/demo-config.js`)(api)
  const nameOf = (entry) => (typeof entry === 'string' ? entry : entry.name)
  const entry = (name) => demo.plugins.find((e) => nameOf(e) === name)
  const anonymous = entry('pocketpages-plugin-anonymous')
  const auth = entry('pocketpages-plugin-auth')
  const order = api.env('REAL_PP_ORDER') === 'auth-first' ? [auth, anonymous] : [anonymous, auth]
  return {
    // shapeProbe last, so that it sees what every other plugin added.
    plugins: [
      'pocketpages-plugin-ejs',
      ...(installed('pocketpages-plugin-js-sdk') ? [{ fn: jsSdk }] : []),
      ...order,
      { fn: shapeProbe },
    ],
  }
}

/** The check also runs this config in this repo's stand-in PocketPages, which has no js-sdk plugin. */
function installed(name) {
  try {
    require(name)
    return true
  } catch (_) {
    return false
  }
}

/**
 * pocketpages-plugin-js-sdk, with two things its options cannot say. The host: the server's own
 * URL, known only once it listens on its free port (the check sets it as the app URL; the factory
 * runs on every request). The transport: the jsvm SDK's send() (pocketbase-js-sdk-jsvm
 * 0.25.10001, the source that can be built) calls `$http.send({ url })` without the method,
 * headers or body, and calls `response.json()`, a property of $http.send's result: every REST call
 * of the auth plugin would fail. The SDK's beforeSend hook hands it a fetch that sends the whole
 * request, so what is checked is the auth plugin itself.
 */
function jsSdk(config, extra) {
  const factory = require('pocketpages-plugin-js-sdk')
  const plugin = (factory.default ?? factory)(config, { ...extra, host: $app.settings().meta.appURL })
  // REAL_PP_SDK_AS_IS=1: the SDK's own transport (to see whether a newer SDK still needs this).
  if ($os.getenv('REAL_PP_SDK_AS_IS') === '1') return plugin
  const pb = config.globalApi.pb
  config.globalApi.pb = (options) => {
    const client = pb(options)
    client.beforeSend = (url, sendOptions) => {
      // The SDK then adds the query to the URL it passes the fetch, and serializes the body in here.
      const options = { ...sendOptions }
      options.fetch = (request) => send(request.url, options)
      return { url, options }
    }
    return client
  }
  return plugin
}

function send(url, options) {
  const body = options.body
  const res = $http.send({
    url,
    method: options.method || 'GET',
    headers: options.headers || {},
    body: body === undefined || body === null || typeof body === 'string' ? body || '' : JSON.stringify(body),
    timeout: 30,
  })
  return { url, status: res.statusCode, statusCode: res.statusCode, headers: res.headers, json: () => res.json }
}

/**
 * What a plugin and a page are handed, for the check's comparison with the stand-in: the names and
 * types of the factory's config, the global API, the page context and its request and response.
 * Last in the list, so that it sees what every other plugin added. Page: real-pp-shape.ejs.
 */
function shapeProbe(config) {
  const shape = (object) =>
    Object.keys(object)
      .sort()
      .map((key) => `${key}:${typeof object[key]}`)
  const factory = { config: shape(config), globalApi: shape(config.globalApi) }
  return {
    name: 'real-pp-shape',
    onExtendContextApi: ({ api }) => {
      api.realPpShape = () => ({
        ...factory,
        api: shape(api),
        request: shape(api.request),
        response: shape(api.response),
      })
    },
  }
}
