/// <reference path="../node_modules/pocketbase-jsvm/index.d.ts" />
/**
 * pocketpages-plugin-anonymous: what the plugin needs in the database.
 *
 * - `users.anonymous` (bool, not required): true for guests, so API rules can say
 *   `@request.auth.anonymous = false` to keep guests out of something.
 * - `users.lastSeen` (date, hidden): a guest's last activity, written at most once an hour;
 *   the cleanup job deletes guests inactive longer than `retentionDays`.
 * - an index for the cleanup query, and password auth enabled so upgraded guests can sign in.
 * - `pocketpages_anonymous_signins`: one row per guest sign-in (hashed IP, time in ms), the
 *   sliding window the rate limits count. Pruned by the cleanup job.
 *
 * Down removes all of it, except that password auth is left enabled (it may predate us).
 */
const COLLECTION = 'users'
const INDEX_NAME = 'idx_pocketpages_anonymous_lastSeen'
const SIGN_IN_LOG = 'pocketpages_anonymous_signins'

migrate(
  (app) => {
    const users = app.findCollectionByNameOrId(COLLECTION)
    if (!users.fields.getByName('anonymous')) {
      users.fields.add(new BoolField({ name: 'anonymous', required: false }))
    }
    if (!users.fields.getByName('lastSeen')) {
      users.fields.add(new DateField({ name: 'lastSeen', required: false, hidden: true }))
    }
    users.addIndex(INDEX_NAME, false, 'anonymous, lastSeen', '')
    if (!users.passwordAuth.enabled) users.passwordAuth.enabled = true
    app.save(users)

    app
      .db()
      .newQuery(
        `CREATE TABLE IF NOT EXISTS ${SIGN_IN_LOG} (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ipKey TEXT NOT NULL,
        created INTEGER NOT NULL
      )`,
      )
      .execute()
    app.db().newQuery(`CREATE INDEX IF NOT EXISTS idx_${SIGN_IN_LOG}_ip ON ${SIGN_IN_LOG} (ipKey, created)`).execute()
    app.db().newQuery(`CREATE INDEX IF NOT EXISTS idx_${SIGN_IN_LOG}_created ON ${SIGN_IN_LOG} (created)`).execute()
  },
  (app) => {
    const users = app.findCollectionByNameOrId(COLLECTION)
    users.removeIndex(INDEX_NAME)
    users.fields.removeByName('anonymous')
    users.fields.removeByName('lastSeen')
    app.save(users)
    app.db().newQuery(`DROP TABLE IF EXISTS ${SIGN_IN_LOG}`).execute()
  },
)
