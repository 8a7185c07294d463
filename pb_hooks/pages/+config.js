/**
 * PocketPages config of the demo app. The plugin entry is what an app adds to its own config.
 * Environment variables exist only so tests and benchmarks can loosen the abuse controls.
 */
module.exports = (api) => {
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
      },
    ],
  }
}
