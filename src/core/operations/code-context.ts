/**
 * What the code operations use of an operation's context (a structural subset of the
 * OperationContext of the restructure, so either can be passed). TEMPORARY until it lands.
 */
import type { MergeHook, ResolvedOptions } from '../options'
import type { AuthRecord, Backend, Crypto } from '../ports'
import type { PrivateKeys } from '../private-keys'

export interface CodeSession {
  readonly record: AuthRecord | undefined
  refuseCrossSite(): void
  isAnonymous(record?: AuthRecord): boolean
  clientNetwork(): string
  start(record: AuthRecord, token: string): { token: string; record: AuthRecord }
}

export interface OperationContext {
  readonly session: CodeSession
  readonly backend: Backend
  readonly options: ResolvedOptions
  readonly crypto: Crypto
  readonly keys: PrivateKeys
  readonly hooks: { onMerge(): MergeHook | null }
  now(): number
}
