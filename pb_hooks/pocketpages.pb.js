/// <reference path="../node_modules/pocketbase-jsvm/index.d.ts" />
// The app's one PocketBase hook file. `require('pocketpages')` loads PocketPages, which serves
// pb_hooks/pages. In this repo `pocketpages` resolves to the stand-in host built from src/host
// (node_modules/pocketpages is a shim written by `npm run build`, since the real package is not
// installable here); an app using the real PocketPages keeps exactly these lines.
require('pocketpages')
require('pocketpages-plugin-anonymous').registerHooks()
