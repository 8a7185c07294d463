/**
 * File helpers over PocketBase's `$os`/`$filepath` (goja only). PocketBase 0.25 has no `$os.stat`,
 * so a file exists when it can be read and a folder when it can be listed.
 */

export const readText = (path: string): string => toString($os.readFile(path))

export function fileExists(path: string): boolean {
  try {
    $os.readFile(path)
    return true
  } catch {
    return false
  }
}

export function dirExists(path: string): boolean {
  try {
    $os.readDir(path)
    return true
  } catch {
    return false
  }
}

/** Every regular file below `root`, as `/`-separated paths relative to it. */
export function listFiles(root: string): string[] {
  const files: string[] = []
  $filepath.walkDir(root, (path: string, entry: { isDir(): boolean }, err: unknown) => {
    if (!err && !entry.isDir()) files.push($filepath.toSlash(path.slice(root.length + 1)))
  })
  return files
}
