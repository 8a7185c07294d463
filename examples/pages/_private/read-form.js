/**
 * The posted form, or null after answering the request with a short 400 (413 when too large) page.
 *
 * `body()` throws when PocketBase cannot read the body: a urlencoded body over 10 MB (Go's limit),
 * more than 1,000 form fields (PocketBase 0.40+), a malformed multipart body. A page that does not
 * catch that answers PocketPages' generic 500 page, so every form here reads through this.
 * More than MAX_FIELDS values are refused here too, so PocketBase 0.25 answers as 0.40 does.
 * After `response.html()` the response has a Content-Type other than plain `text/html`, and
 * PocketPages then sends nothing more: the rest of the page renders into nothing.
 *
 *   const form = readForm({ body, response })
 *   if (form) { ... }
 */
const MAX_FIELDS = 1000

/** How many values a form holds (a repeated field counts once per value). */
const countValues = (form) =>
  Object.keys(form).reduce((n, key) => n + (Array.isArray(form[key]) ? form[key].length : 1), 0)

const refuse = (response, status, reason) =>
  response.html(
    status,
    '<!doctype html><html><body><h1>The form could not be read</h1>' +
      `<p id="error">${reason}</p><p><a href="/">Back</a></p></body></html>`,
  )

module.exports = ({ body, response }) => {
  let form
  try {
    form = body()
  } catch (e) {
    const tooLarge = /too large/i.test(String(e?.message))
    refuse(response, tooLarge ? 413 : 400, tooLarge ? 'It is too large.' : 'It is malformed or has too many fields.')
    return null
  }
  if (!form || typeof form !== 'object') return {}
  if (countValues(form) > MAX_FIELDS) {
    refuse(response, 400, 'It is malformed or has too many fields.')
    return null
  }
  return form
}
