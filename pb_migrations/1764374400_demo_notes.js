/// <reference path="../node_modules/pocketbase-jsvm/index.d.ts" />
/**
 * Demo app only (not shipped in the npm package, see "files" in package.json): the `notes` the
 * demo's home page lists and adds. A note belongs to one user. The API rules let a signed-in user
 * reach only their own notes (the demo's pages use $app and filter by owner themselves), and
 * cascadeDelete removes a user's notes with the user: a guest removed by the cleanup takes its
 * notes along, while a guest merged into an account has its notes repointed first.
 */
migrate(
  (app) => {
    const users = app.findCollectionByNameOrId('users')
    const own = 'owner = @request.auth.id'
    app.save(
      new Collection({
        type: 'base',
        name: 'notes',
        listRule: own,
        viewRule: own,
        createRule: own,
        // Nobody hands a note to another user.
        updateRule: `${own} && @request.body.owner:isset = false`,
        deleteRule: own,
        fields: [
          { name: 'text', type: 'text', required: true, max: 1000 },
          {
            name: 'owner',
            type: 'relation',
            collectionId: users.id,
            maxSelect: 1,
            required: true,
            cascadeDelete: true,
          },
          { name: 'created', type: 'autodate', onCreate: true, onUpdate: false },
          { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
        ],
        indexes: ['CREATE INDEX idx_notes_owner ON notes (owner, created)'],
      }),
    )
  },
  (app) => {
    app.delete(app.findCollectionByNameOrId('notes'))
  },
)
