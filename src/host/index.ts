/**
 * A small PocketPages-compatible host: the stand-in this repo uses for the `pocketpages`
 * package (which is not installable here) in its demo app and tests. Built to
 * pb_hooks/lib/pocketpages-host.js; `require('pocketpages')` resolves to it through the shim
 * package scripts/build.mjs writes to node_modules/pocketpages.
 *
 * Like PocketPages, requiring it from a pb_hooks/*.pb.js file (the loader VM, where
 * `onBootstrap` exists) registers the bootstrap handler and the page middleware. Handlers run
 * in other VMs as source text, so they reach the host again through `require`.
 */
import { AfterBootstrapHandler } from './bootstrap'
import { globalApi } from './global-api'
import { MiddlewareHandler } from './middleware'

if (typeof onBootstrap !== 'undefined') {
  onBootstrap((e) => {
    e.next()
    require('pocketpages').AfterBootstrapHandler(e)
  })
  routerUse((e) => {
    require('pocketpages').MiddlewareHandler(e)
  })
}

export { AfterBootstrapHandler, globalApi, MiddlewareHandler }
