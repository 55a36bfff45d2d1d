import type { ResumeRecord, ResumeStore } from '../../src/core/index.ts';

/** A resume store in memory, whose records a test can look at (and Node, which has no localStorage, can use). */
export class MemoryStore implements ResumeStore {
  readonly records = new Map<string, ResumeRecord>();
  get(key: string): ResumeRecord | null {
    return this.records.get(key) ?? null;
  }
  set(key: string, record: ResumeRecord): void {
    this.records.set(key, record);
  }
  remove(key: string): void {
    this.records.delete(key);
  }
}
