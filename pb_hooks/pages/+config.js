/**
 * PocketPages config of the demo app. The plugin entries are what an app adds to its own config:
 * this plugin for guests and the session, then pocketpages-plugin-auth for password sign-in of
 * full accounts. The other order works the same (the tests run both); this one is faster, since
 * the auth plugin then skips its own reading of the cookie. Environment variables exist only so
 * tests and benchmarks can loosen the abuse controls.
 */
module.exports = (api) => {
  // Optional proof-of-human check before a guest is created (a captcha's siteverify endpoint).
  const humanCheck = require(`${__hooks}/pages/_private/human-check.js`)
  const captchaUrl = api.env('CAPTCHA_VERIFY_URL')
  const number = (name, fallback) => {
    const value = api.env(name)
    return value === '' || value === undefined ? fallback : Number(value)
  }
  return {
    plugins: [
      'pocketpages-plugin-ejs',
      {
        name: 'pocketpages-plugin-anonymous',
        collection: 'users',
        rateLimit: {
          perNetwork: number('ANONYMOUS_RATE_LIMIT_PER_IP', 30),
          global: number('ANONYMOUS_RATE_LIMIT_GLOBAL', 0),
        },
        // The demo runs without an SMTP server; a real app may turn this on.
        upgrade: { sendVerificationEmail: false },
        beforeGuestSignIn: captchaUrl ? humanCheck({ url: captchaUrl, secret: api.env('CAPTCHA_SECRET') }) : null,
      },
      'pocketpages-plugin-auth',
    ],
  }
}
