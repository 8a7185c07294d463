/** The part of Node's `fs` the bundled `ejs` uses, over PocketBase's `$os` (goja only). */
import { fileExists, readText } from '../files'

export default { existsSync: fileExists, readFileSync: readText }
