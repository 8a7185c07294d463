/**
 * Words for pocketpages-plugin-anonymous's errors in a form: one sentence for the form, one per
 * field. (The same file ships in the package as examples/pages/_private/guest-form-errors.js.)
 *
 * The plugin's AnonymousAuthError has a stable `code` and, for the upgrade form, `fieldErrors`
 * keyed by field (`email`, `password`, `passwordConfirm`). Its own field messages are already
 * sentences ("The passwords do not match."); PocketBase's validation messages are not
 * ("Must be at least 8 character(s)"), so the known ones are reworded here. Messages of errors a
 * user can act on (rate limits, another site's form, a session changed in another tab) are plain
 * words already and are shown as they are. Errors with status 500 are the app's configuration
 * (their messages name collections and options): logged, and the user gets a generic line.
 *
 *   const { code, message, fields } = formErrors(error)   // fields.email, fields.password, ...
 */
module.exports = (thrown) => {
  const error = thrown || {}
  const raw = error.fieldErrors || {}
  const fields = {}
  for (const name of Object.keys(raw)) fields[name] = fieldMessage(name, String(raw[name]))
  const code = error.code
  let message
  if (code === 'VALIDATION_FAILED') message = 'Your account is not saved yet: check the fields marked below.'
  else if (code === 'EMAIL_TAKEN') message = 'That email is already used by another account.'
  else if (!code || !(error.status < 500)) {
    $app.logger().error(`form error: ${code ? `${code}: ` : ''}${error.message || error}`)
    message = 'Something went wrong on our side. Please try again later.'
  } else message = String(error.message)
  return { code: code || '', message, fields }
}

function fieldMessage(field, text) {
  let m = /at least (\d+) character/i.exec(text)
  if (m) return `Use at least ${m[1]} characters.`
  m = /at most (\d+) character/i.exec(text)
  if (m) return `Use at most ${m[1]} characters.`
  if (/valid email/i.test(text)) return 'Enter an email address like name@example.com.'
  if (/cannot be blank|is required/i.test(text)) return field === 'email' ? 'Enter an email address.' : 'Fill this in.'
  if (/domain/i.test(text)) return 'Email addresses of this domain are not accepted here. Use another one.'
  if (/^already in use\.?$/i.test(text)) return 'Already used by another account.'
  // Anything else: PocketBase's text as a sentence ("Invalid value" -> "Invalid value.").
  const sentence = text.replace(/\(s\)/g, 's').trim()
  return sentence.charAt(0).toUpperCase() + sentence.slice(1) + (/[.!?]$/.test(sentence) ? '' : '.')
}
