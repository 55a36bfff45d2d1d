/**
 * The queue's running totals: items per status, bytes loaded and to send, the speed of the items being
 * sent. Kept up to date on every change of an entry (its share taken out, then put back), so that
 * `progress`, `busy` and the pump cost O(1) per event: the element reads them once per frame, and a queue
 * of hundreds of files fires thousands of events.
 */
import type { Entry, QueueProgress, UploadStatus } from './queue-items.ts';

/** Totals over the entries of a queue. */
export class QueueTotals {
  readonly #counts: Record<UploadStatus, number> = {
    queued: 0,
    connecting: 0,
    sending: 0,
    retrying: 0,
    paused: 0,
    complete: 0,
    failed: 0,
    cancelled: 0,
  };
  #loaded = 0;
  #total = 0;
  #speed = 0;

  /** Items per status (live: read, never write). */
  get counts(): Readonly<Record<UploadStatus, number>> {
    return this.#counts;
  }

  /** Items holding a slot: connecting, sending or reconnecting. */
  get running(): number {
    const counts = this.#counts;
    return counts.connecting + counts.sending + counts.retrying;
  }

  /**
   * Adds (`sign` 1) or takes out (-1) one entry's share.
   *
   * @param entry - the entry
   * @param sign - 1 or -1
   */
  account(entry: Entry, sign: 1 | -1): void {
    this.#counts[entry.status] += sign;
    if (entry.status === 'cancelled') return;
    this.#loaded += sign * entry.loaded;
    this.#total += sign * entry.total;
    if (entry.status === 'sending') this.#speed += sign * entry.speed;
  }

  /**
   * Changes an entry's fields with the totals kept right: its share comes out, then back in.
   *
   * @param entry - the entry
   * @param mutate - changes the entry
   */
  change(entry: Entry, mutate: () => void): void {
    this.account(entry, -1);
    mutate();
    this.account(entry, 1);
  }

  /** Figures over every item that is not cancelled. */
  get progress(): QueueProgress {
    const loaded = this.#loaded;
    const total = this.#total;
    // A sum of floats updated by subtraction drifts; with nothing sending the speed is exactly 0.
    const speed = this.#counts.sending === 0 ? 0 : Math.max(0, this.#speed);
    const left = total - loaded;
    return {
      loaded,
      total,
      percentage: total === 0 ? 100 : (loaded / total) * 100,
      speed,
      remainingTime: left === 0 ? 0 : speed > 0 ? left / speed : Infinity,
      counts: { ...this.#counts },
    };
  }
}
