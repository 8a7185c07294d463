/// <reference path="../node_modules/pocketbase-jsvm/index.d.ts" />
/**
 * Demo app only (not shipped in the npm package: its name lacks `_pocketpages_anonymous`): closes
 * PocketBase's own sign-up API, `POST /api/collections/users/records`, which the demo does not use
 * (its guests are created by the plugin and upgraded in place, both through $app). Left open, that
 * endpoint creates accounts past the plugin's rate limits and tells anyone whether an email has an
 * account (`validation_not_unique`), whatever care the demo's password form takes.
 *
 * The rule still lets OAuth2 sign up new people (auth-with-oauth2 creates its record under the
 * create rule, in the "oauth2" request context). PocketBase checks the rule before it validates
 * the record, so a direct create answers the same 400 for every email. Reverting this migration
 * restores PocketBase's default ("": anyone may sign up).
 */
migrate(
  (app) => {
    const users = app.findCollectionByNameOrId('users')
    users.createRule = '@request.context = "oauth2"'
    app.save(users)
  },
  (app) => {
    const users = app.findCollectionByNameOrId('users')
    users.createRule = ''
    app.save(users)
  },
)
