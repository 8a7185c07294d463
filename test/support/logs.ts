// PocketBase's app and request logs (the dashboard's Logs), stored in auxiliary.db. PocketBase
// writes them in batches every few seconds, so reading them means waiting for a flush first.
import type { PocketBaseServer } from './pocketbase.ts'
import { sqlite } from './sqlite.ts'

export interface LogEntry {
  level: number
  message: string
  /** The entry's attributes, parsed. */
  data: Record<string, unknown>
  /** The attributes as stored (JSON text), for scanning. */
  rawData: string
}

/**
 * Every `_logs` row, once PocketBase has written its buffered logs up to now: sends a request to
 * a unique path and polls until that request's own log row appears.
 */
export async function flushedLogs(pb: PocketBaseServer, timeoutMs = 15_000): Promise<LogEntry[]> {
  const marker = `/log-flush-marker-${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`
  await (await pb.fetch(marker)).body?.cancel()
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const rows = sqlite<{ level: number; message: string; data: string }>(
      pb.dataDir,
      'SELECT level, message, data FROM _logs ORDER BY rowid',
      'auxiliary.db',
    )
    if (rows.some((r) => r.data.includes(marker))) {
      return rows.map((r) => ({
        level: r.level,
        message: r.message,
        data: JSON.parse(r.data || '{}') as Record<string, unknown>,
        rawData: r.data,
      }))
    }
    if (Date.now() > deadline)
      throw new Error(`the request log of ${marker} did not reach _logs within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/**
 * The flushed log entries whose message contains `text`; flushes again until one appears or
 * `timeoutMs` passes (work in the background, like a cron run, may log after a flush).
 */
export async function logsContaining(pb: PocketBaseServer, text: string, timeoutMs = 10_000): Promise<LogEntry[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const entries = (await flushedLogs(pb)).filter((entry) => entry.message.includes(text))
    if (entries.length > 0 || Date.now() > deadline) return entries
  }
}
