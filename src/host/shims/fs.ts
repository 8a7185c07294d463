/**
 * The part of Node's `fs` that the bundled `ejs` package uses (existsSync, readFileSync),
 * over PocketBase's `$os`. Goja only.
 */
import { dirExists, fileExists, readText } from '../files'

export function existsSync(path: string): boolean {
  return fileExists(path) || dirExists(path)
}

export function readFileSync(path: string): string {
  return readText(path)
}

export default { existsSync, readFileSync }
