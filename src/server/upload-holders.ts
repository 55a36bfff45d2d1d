/**
 * Which connection holds which resumable upload, per server, so that a resume by the upload's owner takes
 * over at once instead of being refused with 409 until the old connection times out (the IETF resumable
 * upload draft: the newer request wins). The old connection is closed; its session lets go of the upload
 * after the messages it had already received are written, and only then does the new one hold it, so that
 * the two never write into the same upload. The server owns one registry, shared by its sessions like the
 * upload records (nothing module-global).
 */
import type { PartialUpload } from './stores/store.ts';

/** A connection holding an upload, as the registry sees it. */
export interface UploadHolder {
  /** Closes the connection; its session then releases the upload. */
  evict(): void;
}

// How long a takeover waits for the old connection's session to let go (a write to a slow disk finishing).
export const TAKEOVER_WAIT = 5000;
const POLL = 10;

/** The holders of one server's resumable uploads. */
export class UploadHolders {
  readonly #holders = new Map<string, UploadHolder>();
  /** What each connection holds: one upload at a time. */
  readonly #held = new Map<UploadHolder, string>();
  readonly #wait: number;

  /** @param wait - how long a takeover waits, in ms, before the upload is called taken (409) */
  constructor(wait = TAKEOVER_WAIT) {
    this.#wait = wait;
  }

  /** Records that `holder` holds upload `id` (after `PartialUpload.hold()`), instead of what it held. */
  claim(id: string, holder: UploadHolder): void {
    this.release(holder);
    this.#holders.set(id, holder);
    this.#held.set(holder, id);
  }

  /** Holds `partial` for `holder` and records it. */
  hold(partial: PartialUpload, holder: UploadHolder): void {
    partial.hold();
    this.claim(partial.id, holder);
  }

  /** Forgets what `holder` holds, unless a newer connection holds it already. */
  release(holder: UploadHolder): void {
    const id = this.#held.get(holder);
    if (id === undefined) return;
    this.#held.delete(holder);
    if (this.#holders.get(id) === holder) this.#holders.delete(id);
  }

  /**
   * Takes `partial` away from the connection that holds it: closes that connection and waits, bounded, until
   * its session released the upload. A holder not registered (yet) is waited for all the same: its close may
   * still be queued on the server.
   *
   * @param isClosed - tells whether the connection asking went away meanwhile (then it stops waiting)
   * @returns true when the upload is free to hold now
   */
  async takeOver(partial: PartialUpload, isClosed: () => boolean): Promise<boolean> {
    const evicted = new Set<UploadHolder>();
    for (let waited = 0; partial.held && waited < this.#wait && !isClosed(); waited += POLL) {
      // Whoever holds it now: another resume may have taken it meanwhile, and the newest one wins.
      const holder = this.#holders.get(partial.id);
      if (holder && !evicted.has(holder)) {
        evicted.add(holder);
        holder.evict();
      }
      await new Promise((resolve) => setTimeout(resolve, POLL));
    }
    return !partial.held;
  }
}
