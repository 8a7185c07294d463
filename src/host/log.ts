/**
 * Logging to PocketBase's logger ($app.logger(), shown in the dashboard's Logs).
 * Arguments are joined into one message: strings as they are, other values JSON-encoded.
 * Callers must never pass request bodies, cookies or tokens.
 */
import { stringify } from './stringify'

type Level = 'debug' | 'info' | 'warn' | 'error'

export function formatLogArgs(args: unknown[]): string {
  return args
    .map((arg) => {
      if (typeof arg === 'string') return arg
      if (arg instanceof Error) return arg.stack ?? String(arg)
      return stringify(arg)
    })
    .join(' ')
}

function write(level: Level, args: unknown[]): void {
  $app.logger()[level](formatLogArgs(args))
}

export const dbg = (...args: unknown[]): void => write('debug', args)
export const info = (...args: unknown[]): void => write('info', args)
export const warn = (...args: unknown[]): void => write('warn', args)
export const error = (...args: unknown[]): void => write('error', args)

let verbose = false

/** Turns the host's own tracing on (`debug: 'verbose'` in +config.js) for this VM. */
export function setVerbose(on: boolean): void {
  verbose = on
}

/** The host's own tracing: a debug log only in verbose mode. */
export const systemDbg = (...args: unknown[]): void => {
  if (verbose) write('debug', ['[pocketpages]', ...args])
}
