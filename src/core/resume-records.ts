/**
 * The resume record of one transfer: read at start, written after every acknowledged chunk under v2, removed
 * when the upload ends or the server forgets it. Wraps the {@link ResumeStore} port (resume-store.ts) with
 * this file's key, so the transfer never handles keys or expiry itself.
 */
import type { ResumeRecord, ResumeStore } from './resume-store.ts';

/** When a grant names no expiry, a record is kept this long (ms). */
const DEFAULT_RECORD_LIFETIME = 60 * 60 * 1000;

/** One file's resume record in a store. */
export class ResumeRecords {
  readonly #store: ResumeStore;
  readonly #key: string;
  #current: ResumeRecord | null = null;

  /**
   * @param store - where records live
   * @param key - this file's fingerprint
   */
  constructor(store: ResumeStore, key: string) {
    this.#store = store;
    this.#key = key;
  }

  /** The record read at {@link ResumeRecords.load} or written since; null when there is none. */
  get current(): ResumeRecord | null {
    return this.#current;
  }

  /**
   * Reads the stored record; an expired one is removed.
   *
   * @param now - ms since the epoch
   * @returns the record, or null
   */
  load(now: number): ResumeRecord | null {
    const record = this.#store.get(this.#key);
    if (record && record.expires > now) this.#current = record;
    else if (record) this.#store.remove(this.#key);
    return this.#current;
  }

  /**
   * Writes the record for an upload acknowledged up to `offset`.
   *
   * @param id - the server's upload id
   * @param offset - bytes acknowledged
   * @param expires - when the server forgets the upload (ms since the epoch), or null if it did not say
   * @param now - ms since the epoch
   */
  save(id: string, offset: number, expires: number | null, now: number): void {
    this.#current = { id, offset, expires: expires ?? now + DEFAULT_RECORD_LIFETIME };
    this.#store.set(this.#key, this.#current);
  }

  /** Removes the stored record (the upload ended, or the server does not know it) and forgets it here. */
  forget(): void {
    this.#store.remove(this.#key);
    this.#current = null;
  }
}
