/**
 * Small file-system helpers over PocketBase's `$os`/`$filepath` (goja only).
 * `$os.stat` only exists in newer PocketBase versions (not in 0.25); without it a file's
 * details come from listing its folder with `$os.readDir`.
 */

interface FileInfo {
  isDir(): boolean
  size(): number
  modTime(): { unixNano(): number }
}

function stat(path: string): FileInfo | null {
  try {
    const os = $os as unknown as { stat?: (path: string) => FileInfo }
    if (typeof os.stat === 'function') return os.stat(path)
    const name = $filepath.base(path)
    const entries = $os.readDir($filepath.dir(path))
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!
      if (entry.name() === name) return entry.info() as unknown as FileInfo
    }
    return null
  } catch {
    return null
  }
}

/** Whether a regular file exists. */
export function fileExists(path: string): boolean {
  const info = stat(path)
  return info !== null && !info.isDir()
}

/** Whether a directory exists. */
export function dirExists(path: string): boolean {
  return stat(path)?.isDir() ?? false
}

/** Changes whenever a file is rewritten (modification time and size); '' if it is missing. */
export function fileStamp(path: string): string {
  const info = stat(path)
  return info ? `${info.modTime().unixNano()}:${info.size()}` : ''
}

/** A file's content as text. Throws if it cannot be read. */
export function readText(path: string): string {
  return toString($os.readFile(path))
}

/** Every regular file below `root`, as `/`-separated paths relative to it, sorted. */
export function listFiles(root: string): string[] {
  const files: string[] = []
  $filepath.walkDir(root, (path: string, entry: { isDir(): boolean }, err: unknown) => {
    if (err || entry.isDir()) return
    files.push($filepath.toSlash(path.slice(root.length + 1)))
  })
  return files.sort()
}
