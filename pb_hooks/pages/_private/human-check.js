/**
 * A `beforeGuestSignIn` check for the demo: proof that a person, not a script, asks for a guest.
 *
 * The sign-in form carries the token a captcha widget (Cloudflare Turnstile, hCaptcha, reCAPTCHA)
 * put into it; this asks the provider's "siteverify" endpoint whether the token is good. All three
 * use the same protocol: POST secret, response and remoteip as a form, answer JSON `{ success }`.
 * Anything but a clear yes refuses: a missing token, a "no", an error status, or an endpoint that
 * does not answer within the timeout (the plugin logs a hook that throws and refuses the sign-in).
 *
 *   beforeGuestSignIn: humanCheck({ url: env('CAPTCHA_VERIFY_URL'), secret: env('CAPTCHA_SECRET') })
 */
module.exports =
  ({ url, secret, field = 'cf-turnstile-response', timeoutSeconds = 5 }) =>
  ({ request, clientIp }) => {
    const form = request.body()
    const token = form && typeof form[field] === 'string' ? form[field] : ''
    if (!token) return false
    const res = $http.send({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: [
        `secret=${encodeURIComponent(secret)}`,
        `response=${encodeURIComponent(token)}`,
        `remoteip=${encodeURIComponent(clientIp)}`,
      ].join('&'),
      timeout: timeoutSeconds,
    })
    return res.statusCode === 200 && !!res.json && res.json.success === true
  }
