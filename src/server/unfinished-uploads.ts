/**
 * Resumable uploads a client address left unfinished. Each one the connection dropped (or a refusal ended)
 * stays on disk for `partialExpiry` (24 h) so that its client can resume it: two files and their blocks,
 * though not a byte of data need have come. Without a bound one address opening connections at the allowed
 * rate leaves millions behind in a day — the disk's inodes and blocks, and the sweep's work. So a fresh
 * resumable upload from an address that already left `maxUnfinishedPerClient` behind is refused
 * (429) until some of them expire or are resumed and finished. Per address, in memory: an approximation
 * (a restart forgets, an ABOR after the drop is not seen) that bounds the attack without a disk scan.
 */
import { Status } from '../protocol/index.ts';
import type { RefusalDetail } from './refusal.ts';

// Addresses kept at most: past it the ones with nothing left are pruned, then the oldest.
const MAX_ADDRESSES = 100_000;

export class UnfinishedUploads {
  readonly #max: number;
  /** Per address, when each upload it left unfinished expires (ascending). */
  readonly #expiries = new Map<string, number[]>();

  /** @param max - unfinished uploads one address may leave behind at once */
  constructor(max: number) {
    this.#max = max;
  }

  /**
   * May `ip` start a fresh resumable upload?
   *
   * @param ip - the client address
   * @param now - the time in ms
   * @returns undefined when it may, else a 429 with `retryAfter` (when the oldest one expires)
   */
  check(ip: string, now: number): RefusalDetail | undefined {
    const left = this.#live(ip, now);
    if (left.length < this.#max) return undefined;
    return {
      code: Status.tooMany,
      message: `Too many unfinished uploads from this address (${this.#max}): resume or abort them first.`,
      retryAfter: Math.max(1000, left[0]! - now),
    };
  }

  /** `ip` left an upload unfinished, kept until `expiresAt`. */
  left(ip: string, expiresAt: number, now: number): void {
    const list = this.#live(ip, now);
    list.push(expiresAt);
    this.#expiries.set(ip, list);
    if (this.#expiries.size > MAX_ADDRESSES) this.#prune(now);
  }

  /** `ip` finished an upload it had left unfinished (a resume that got to the commit). */
  finished(ip: string): void {
    const list = this.#expiries.get(ip);
    if (!list) return;
    list.shift();
    if (list.length === 0) this.#expiries.delete(ip);
  }

  #live(ip: string, now: number): number[] {
    const list = this.#expiries.get(ip) ?? [];
    while (list.length > 0 && list[0]! <= now) list.shift();
    if (list.length === 0) this.#expiries.delete(ip);
    return list;
  }

  #prune(now: number): void {
    for (const ip of [...this.#expiries.keys()]) this.#live(ip, now);
    for (const ip of this.#expiries.keys()) {
      if (this.#expiries.size <= MAX_ADDRESSES) break;
      this.#expiries.delete(ip);
    }
  }
}
