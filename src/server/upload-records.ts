/**
 * What one upload server remembers across its connections: the records of committed resumable uploads (for a
 * client whose FIN answer was lost) and when it last swept expired partial uploads. The server instance owns
 * one; every session of that server shares it. Nothing here is module-global, so two servers in one
 * process — or one server and its restart in a test — never see each other's memory.
 */
import type { CompletedUpload, UploadStore } from './stores/store.ts';

// Bounds the memory that remembering costs; the oldest entries go first.
const MAX_COMPLETED = 10_000;
// How often expired partial uploads are swept at most (a session start triggers one; so does a timer).
const SWEEP_INTERVAL = 60_000;

/** The server's memory of committed uploads and of its sweeps, in front of the store's own. */
export class UploadRecords {
  readonly #store: UploadStore;
  readonly #maxCompleted: number;
  readonly #completed = new Map<string, CompletedUpload>();
  #lastSweep = 0;
  readonly #sweepInterval: number;

  /**
   * @param store - where records also persist (`remember`/`recall`, when the store has them) and whose
   *   expired partial uploads are swept (`expire`)
   * @param maxCompleted - how many records are kept in memory (the oldest go first)
   * @param sweepInterval - the least time between two sweeps, in ms
   */
  constructor(store: UploadStore, maxCompleted = MAX_COMPLETED, sweepInterval = SWEEP_INTERVAL) {
    this.#store = store;
    this.#maxCompleted = maxCompleted;
    this.#sweepInterval = sweepInterval;
  }

  /**
   * Sweeps on a timer too: an upload that stopped mid-way must be removed at its expiry even when no
   * connection comes to trigger a sweep (a server left alone would keep its bytes on disk forever).
   *
   * @returns stops the timer
   */
  sweepPeriodically(): () => void {
    const timer = setInterval(() => this.sweep(Date.now()), this.#sweepInterval);
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * The record of a committed upload: from memory, else from the store (after a restart).
   *
   * @param id - the upload id a client resumes with
   * @returns the record, or undefined when there is none (a store that fails to answer counts as none)
   */
  async recall(id: string): Promise<CompletedUpload | undefined> {
    return this.#completed.get(id) ?? (await this.#store.recall?.(id).catch(() => undefined));
  }

  /**
   * Remembers a committed upload, in memory and through the store, before its FIN is answered: an answer
   * lost in a crash is still recoverable after the restart. A record the store cannot keep (full disk) costs
   * only that — the file itself is committed.
   *
   * @param id - the upload id
   * @param record - what the FIN answer says, and who may ask
   */
  async remember(id: string, record: CompletedUpload): Promise<void> {
    this.#completed.set(id, record);
    for (const key of this.#completed.keys()) {
      if (this.#completed.size <= this.#maxCompleted) break;
      this.#completed.delete(key);
    }
    await this.#store.remember?.(id, record).catch(() => undefined);
  }

  /**
   * Deletes expired partial uploads, at most once per sweep interval (session starts and the timer both ask).
   *
   * @param now - the current time in ms since the epoch
   * @returns whether a sweep started
   */
  sweep(now: number): boolean {
    if (!this.#store.expire || now - this.#lastSweep < this.#sweepInterval) return false;
    this.#lastSweep = now;
    this.#store.expire(now).catch(() => undefined);
    return true;
  }
}
