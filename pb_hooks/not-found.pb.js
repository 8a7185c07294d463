/// <reference path="../node_modules/pocketbase-jsvm/index.d.ts" />
// The demo's "page not found". PocketPages serves the URLs that match a page and passes every
// other one on to PocketBase, whose own answer is JSON ({"status":404,...}). This GET route for
// every path is what PocketBase runs when nothing more specific matches (its built-in route for
// pb_public/ steps aside for an app's own /{path...}): a 404 page in the demo's style. PocketBase's
// API and dashboard keep their JSON answers. Works the same with the real PocketPages.
routerAdd('GET', '/{path...}', (e) => {
  const path = e.request.url.path
  if (path === '/api' || path.startsWith('/api/') || path === '/_' || path.startsWith('/_/')) {
    throw new NotFoundError()
  }
  return e.html(404, toString($os.readFile(`${__hooks}/pages/_private/not-found.html`)))
})
