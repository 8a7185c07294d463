/// <reference path="../node_modules/pocketbase-jsvm/index.d.ts" />
/**
 * pocketpages-plugin-anonymous, second migration: guest status that only the server writes, and
 * rate-limit counters that reveal no client address. Fixes what the first migration left open.
 *
 * - `users.anonymous` and `users.lastSeen` become hidden: PocketBase then drops them from every
 *   record API write by a non-superuser (create, update, batch, OAuth2 sign-up) and from responses,
 *   while API rules can still say `@request.auth.anonymous = false`.
 * - Existing guests get the guest password marker (a bcrypt hash with the digest
 *   `anonymousGuestHasNoPasswordHere`), the second fact the plugin requires of a guest. The first
 *   plugin version stored 53 random characters after `$2a$10$`, which is almost never a canonical
 *   bcrypt hash (1 in 64 is); a real password's hash always is. So a flagged record whose hash is
 *   not canonical is a guest. A flagged record with a canonical hash is a guest only if it looks
 *   like one (an unverified `<prefix><20 letters and digits>@...` email); otherwise it has a real
 *   password, so it is a full account whose flag was set through the old hole: the flag is cleared.
 *   Token keys do not change: guests stay signed in.
 * - `pocketpages_anonymous_counters` replaces `pocketpages_anonymous_signins`, which stored client
 *   IPs as plain SHA-256 hashes (reversible by brute force); the old table and its rows are dropped.
 *
 * Down makes the two fields visible again and swaps the tables back (empty); the marker hashes stay
 * (they are well-formed bcrypt hashes nobody can log in with).
 */
const COLLECTION = 'users'
const GUEST_DIGEST = 'anonymousGuestHasNoPasswordHere'
const COUNTERS = 'pocketpages_anonymous_counters'
const OLD_SIGN_IN_LOG = 'pocketpages_anonymous_signins'

migrate(
  (app) => {
    const users = app.findCollectionByNameOrId(COLLECTION)
    for (const name of ['anonymous', 'lastSeen']) {
      const field = users.fields.getByName(name)
      if (field) field.hidden = true
    }
    app.save(users)

    // Bulk: flagged records whose hash is not canonical bcrypt. The salt (16 bytes in 22 characters)
    // ends in one of 4 characters, the digest (23 bytes in 31) in one of 16.
    const canonical = `length(password) = 60 AND substr(password, 29, 1) IN ('.', 'O', 'e', 'u') AND substr(password, 60, 1) IN ('.', 'C', 'G', 'K', 'O', 'S', 'W', 'a', 'e', 'i', 'm', 'q', 'u', 'y', '2', '6')`
    const marked = app
      .db()
      .newQuery(
        `UPDATE ${COLLECTION} SET password = substr(password, 1, 28) || 'e' || '${GUEST_DIGEST}'
         WHERE anonymous = TRUE AND password LIKE '$2_$__$%' AND length(password) = 60 AND NOT (${canonical})`,
      )
      .execute()
      .rowsAffected()

    // The few flagged records left: decide one by one.
    const rows = arrayOf(new DynamicModel({ id: '', email: '', verified: false, password: '' }))
    app
      .db()
      .newQuery(
        `SELECT id, email, verified, password FROM ${COLLECTION} WHERE anonymous = TRUE AND substr(password, 30) != '${GUEST_DIGEST}'`,
      )
      .all(rows)
    let remarked = 0
    const cleared = []
    for (const row of rows) {
      const looksLikeGuest =
        !row.verified &&
        /^[a-z0-9._+-]{0,32}[a-z0-9]{20}@[^@\s]+$/.test(row.email) &&
        /^\$2[aby]\$\d\d\$/.test(row.password)
      if (looksLikeGuest) {
        app
          .db()
          .newQuery(
            `UPDATE ${COLLECTION} SET password = substr(password, 1, 28) || 'e' || '${GUEST_DIGEST}' WHERE id = {:id}`,
          )
          .bind({ id: row.id })
          .execute()
        remarked++
      } else {
        app.db().newQuery(`UPDATE ${COLLECTION} SET anonymous = FALSE WHERE id = {:id}`).bind({ id: row.id }).execute()
        cleared.push(row.id)
      }
    }
    console.log(
      `[pocketpages-plugin-anonymous] migration: ${Number(marked) + remarked} guest(s) marked; ${cleared.length} full account(s) had the guest flag and lost it${cleared.length ? `: ${cleared.join(', ')}` : ''}`,
    )

    app
      .db()
      .newQuery(
        `CREATE TABLE IF NOT EXISTS ${COUNTERS} (
          bucket TEXT NOT NULL,
          slot INTEGER NOT NULL,
          count INTEGER NOT NULL,
          expires INTEGER NOT NULL,
          PRIMARY KEY (bucket, slot)
        ) WITHOUT ROWID`,
      )
      .execute()
    app.db().newQuery(`CREATE INDEX IF NOT EXISTS idx_${COUNTERS}_expires ON ${COUNTERS} (expires)`).execute()
    app.db().newQuery(`DROP TABLE IF EXISTS ${OLD_SIGN_IN_LOG}`).execute()
  },
  (app) => {
    const users = app.findCollectionByNameOrId(COLLECTION)
    const anonymous = users.fields.getByName('anonymous')
    if (anonymous) anonymous.hidden = false
    app.save(users)
    app.db().newQuery(`DROP TABLE IF EXISTS ${COUNTERS}`).execute()
    app
      .db()
      .newQuery(
        `CREATE TABLE IF NOT EXISTS ${OLD_SIGN_IN_LOG} (id INTEGER PRIMARY KEY AUTOINCREMENT, ipKey TEXT NOT NULL, created INTEGER NOT NULL)`,
      )
      .execute()
    app
      .db()
      .newQuery(`CREATE INDEX IF NOT EXISTS idx_${OLD_SIGN_IN_LOG}_ip ON ${OLD_SIGN_IN_LOG} (ipKey, created)`)
      .execute()
    app
      .db()
      .newQuery(`CREATE INDEX IF NOT EXISTS idx_${OLD_SIGN_IN_LOG}_created ON ${OLD_SIGN_IN_LOG} (created)`)
      .execute()
  },
)
