/**
 * A small PocketPages-compatible host: the stand-in this repo uses for the `pocketpages` package
 * in its demo app and tests. Built to pb_hooks/lib/pocketpages-host.js; `require('pocketpages')`
 * resolves to it through the shim package scripts/build.mjs writes to node_modules/pocketpages.
 *
 * As upstream, requiring it from a pb_hooks/*.pb.js file (the loader VM, where `onBootstrap`
 * exists) registers the bootstrap handler and the page middleware; handlers run in other VMs as
 * source text, so they reach the host again through `require`.
 */
import { AfterBootstrapHandler, MiddlewareHandler } from './handlers'

if (typeof onBootstrap !== 'undefined') {
  onBootstrap((e) => {
    e.next()
    require('pocketpages').AfterBootstrapHandler(e)
  })
  routerUse((e) => {
    require('pocketpages').MiddlewareHandler(e)
  })
}

export { globalApi } from './global-api'
export { AfterBootstrapHandler, MiddlewareHandler }
