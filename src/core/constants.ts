/* Names used in more than one place, defined once. */

/** The npm package name; also the `name` of the plugin entry in `+config.js`. */
export const PLUGIN_NAME = 'pocketpages-plugin-anonymous'

/**
 * Browsers drop cookies larger than about 4 KiB, so anything bigger was not set by us:
 * refuse it before parsing (a hostile client can send any size).
 */
export const MAX_COOKIE_VALUE_LENGTH = 4096

/** A PocketBase auth JWT is a few hundred characters; anything far longer is not one. */
export const MAX_TOKEN_LENGTH = 2048

/** The SQLite table of the rate limits' and throttles' counters (created by the plugin's second migration). */
export const COUNTERS_TABLE = 'pocketpages_anonymous_counters'

/** `cronAdd` job id of the cleanup of abandoned guests. */
export const CLEANUP_CRON_ID = 'pocketpages-plugin-anonymous-cleanup'

/** Superuser-only route that runs the cleanup once, by hand. */
export const CLEANUP_ROUTE_PATH = '/api/pocketpages-anonymous/cleanup'

/** Superuser-only route with the operator's figures (stats.ts). */
export const STATS_ROUTE_PATH = '/api/pocketpages-anonymous/stats'

/** Prefix of the plugin's keys in `$app.store()`. */
export const STORE_PREFIX = 'pocketpages-plugin-anonymous/'

/** The SQLite tables of the merge journal (merge-batches.ts), created by the plugin's third migration. */
export const MERGES_TABLE = 'pocketpages_anonymous_merges'
export const MERGE_MOVES_TABLE = 'pocketpages_anonymous_merge_moves'
