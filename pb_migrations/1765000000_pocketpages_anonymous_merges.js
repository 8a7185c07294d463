/// <reference path="../node_modules/pocketbase-jsvm/index.d.ts" />
/**
 * pocketpages-plugin-anonymous, third migration: the merge journal.
 *
 * A merge of a guest into an account runs in short transactions, so that a guest with many records
 * never holds PocketBase's one writer for long. These two server-only tables (plain SQLite tables,
 * not collections: no API reaches them) record a merge under way, so that a crash midway is
 * finished, or undone, by the next cleanup run:
 *
 * - `pocketpages_anonymous_merges`: one row per guest being merged (`id` is
 *   `<guest collection id>/<guest id>`): the account, the guest's token key before the merge (given
 *   back when the merge is undone), the state, and who runs it since when.
 * - `pocketpages_anonymous_merge_moves`: each record repointed so far and the ids its field held,
 *   to put it back if a later move fails.
 *
 * Down drops both tables (a merge under way is then left as it stands).
 */
const MERGES = 'pocketpages_anonymous_merges'
const MOVES = 'pocketpages_anonymous_merge_moves'

migrate(
  (app) => {
    app
      .db()
      .newQuery(
        `CREATE TABLE IF NOT EXISTS ${MERGES} (
          id TEXT PRIMARY KEY NOT NULL,
          guestCollection TEXT NOT NULL,
          guest TEXT NOT NULL,
          targetCollection TEXT NOT NULL,
          target TEXT NOT NULL,
          tokenKey TEXT NOT NULL,
          state TEXT NOT NULL,
          attempt INTEGER NOT NULL,
          heartbeat INTEGER NOT NULL,
          started INTEGER NOT NULL
        ) WITHOUT ROWID`,
      )
      .execute()
    app
      .db()
      .newQuery(
        `CREATE TABLE IF NOT EXISTS ${MOVES} (
          merge TEXT NOT NULL,
          collection TEXT NOT NULL,
          record TEXT NOT NULL,
          field TEXT NOT NULL,
          multiple INTEGER NOT NULL,
          previous TEXT NOT NULL,
          PRIMARY KEY (merge, collection, record, field)
        )`,
      )
      .execute()
  },
  (app) => {
    app.db().newQuery(`DROP TABLE IF EXISTS ${MOVES}`).execute()
    app.db().newQuery(`DROP TABLE IF EXISTS ${MERGES}`).execute()
  },
)
