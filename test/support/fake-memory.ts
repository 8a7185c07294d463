// `$app.store()` (the core's SharedMemory port) in memory: one map, like the process-wide store
// every JS VM of a PocketBase process shares. getOrSet creates at most once per key.
import type { SharedMemory } from '../../src/core/ports.ts'

export class FakeMemory implements SharedMemory {
  readonly map = new Map<string, unknown>()
  get(key: string): unknown {
    return this.map.get(key)
  }
  getOrSet(key: string, create: () => unknown): unknown {
    if (!this.map.has(key)) this.map.set(key, create())
    return this.map.get(key)
  }
  remove(key: string): void {
    this.map.delete(key)
  }
}
