/// <reference path="../../node_modules/pocketbase-jsvm/index.d.ts" />
// Shared by the bench-only routes in bench.pb.js (handlers cannot share top-level code, but
// they can require a module). Written by hand, without the plugin: the same record and cookie the
// plugin makes, so the diagnostics price PocketBase's work apart from the plugin's.

/** A guest record like the plugin's: random email, ready-made bcrypt hash (no bcrypt runs), flags. */
function newGuestRecord(users) {
  const r = new Record(users)
  r.setEmail(`anonymous-${$security.randomStringWithAlphabet(20, 'abcdefghijklmnopqrstuvwxyz0123456789')}@example.com`)
  r.setEmailVisibility(false)
  r.setVerified(false)
  const hash =
    '$2a$10$' +
    $security.randomStringWithAlphabet(53, './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')
  r.setRaw('password', users.fields.getByName('password').prepareValue(r, hash))
  r.set('anonymous', true)
  r.set('lastSeen', new Date().toISOString().replace('T', ' '))
  return r
}

/** PocketBase's auth token in a pb_auth cookie, then the redirect /login answers with. */
function redirectWithGuestCookie(e, users, record) {
  const value = encodeURIComponent(
    JSON.stringify({
      token: record.newAuthToken(),
      record: {
        id: record.id,
        collectionId: users.id,
        collectionName: users.name,
        email: record.email(),
        verified: false,
        anonymous: true,
      },
    }),
  )
  e.response.header().add('Set-Cookie', `pb_auth=${value}; Path=/; Max-Age=432000; HttpOnly; SameSite=Lax`)
  return e.redirect(302, '/')
}

/** The parts of PocketPages' request object a plugin reads, for routes that call the plugin directly. */
function pagesRequest(e, method, pathname) {
  return {
    event: e,
    method: method,
    url: { pathname: pathname },
    header: (name) => e.request.header.get(name),
    formData: () => ({}),
    body: () => ({}),
    cookies: () => ({}),
  }
}

module.exports = { newGuestRecord, redirectWithGuestCookie, pagesRequest }
