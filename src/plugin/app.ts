/**
 * `$app` typed as the core.App the core functions take. The pocketbase-jsvm typings model `$app`
 * as PocketBase minus its hook methods, which is the same object at run time.
 */
export function pocketBaseApp(): core.App {
  return $app as unknown as core.App
}
