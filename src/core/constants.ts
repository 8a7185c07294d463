/** Names used in more than one place, defined once. */

/** The npm package name; also the `name` of the plugin entry in `+config.js`. */
export const PLUGIN_NAME = 'pocketpages-plugin-anonymous'

/** The cookie the PocketBase JS SDK's `exportToCookie()` / `loadFromCookie()` use. */
export const DEFAULT_COOKIE_NAME = 'pb_auth'

/**
 * Browsers drop cookies larger than about 4 KiB, so anything bigger was not set by us:
 * refuse it before parsing (a hostile client can send any size).
 */
export const MAX_COOKIE_VALUE_LENGTH = 4096

/** A PocketBase auth JWT is a few hundred characters; anything far longer is not one. */
export const MAX_TOKEN_LENGTH = 2048

/** The raw SQLite table that holds one row per guest sign-in, for the rate limits. */
export const SIGN_IN_LOG_TABLE = 'pocketpages_anonymous_signins'

/** `cronAdd` job id of the cleanup of abandoned guests. */
export const CLEANUP_CRON_ID = 'pocketpages-plugin-anonymous-cleanup'

/** Superuser-only route that runs the cleanup once, by hand. */
export const CLEANUP_ROUTE_PATH = '/api/pocketpages-anonymous/cleanup'
