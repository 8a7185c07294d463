/// <reference path="../node_modules/pocketbase-jsvm/index.d.ts" />
/**
 * Demo app only (not shipped in the npm package: its name lacks `_pocketpages_anonymous`): closes
 * PocketBase's own sign-up API, `POST /api/collections/users/records`, which the demo does not use
 * (its guests are created by the plugin and upgraded in place, both through $app). Left open, that
 * endpoint creates accounts past the plugin's rate limits and tells anyone whether an email has an
 * account (`validation_not_unique`), whatever care the demo's password form takes. An app that
 * wants API sign-up sets the rule back; reverting this migration restores PocketBase's default ("").
 */
migrate(
  (app) => {
    const users = app.findCollectionByNameOrId('users')
    users.createRule = null
    app.save(users)
  },
  (app) => {
    const users = app.findCollectionByNameOrId('users')
    users.createRule = ''
    app.save(users)
  },
)
