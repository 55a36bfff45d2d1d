/**
 * Which connection holds which resumable upload, per store, so that a resume by the upload's owner takes
 * over at once instead of being refused with 409 until the old connection times out (the IETF resumable
 * upload draft: the newer request wins). The old connection is closed; its session lets go of the upload
 * after the messages it had already received are written, and only then does the new one hold it, so that
 * the two never write into the same upload.
 */
import type { PartialUpload, UploadStore } from './stores/store.ts';

/** A connection holding an upload, as the registry sees it. */
export interface UploadHolder {
  /** Closes the connection; its session then releases the upload. */
  evict(): void;
}

const registries = new WeakMap<UploadStore, Map<string, UploadHolder>>();
// How long a takeover waits for the old connection's session to let go (a write to a slow disk finishing).
const TAKEOVER_WAIT = 5000;
const POLL = 10;

function registry(store: UploadStore): Map<string, UploadHolder> {
  let map = registries.get(store);
  if (!map) registries.set(store, (map = new Map()));
  return map;
}

/** Records that `holder` holds upload `id` (after `PartialUpload.hold()`). */
export function claimUpload(store: UploadStore, id: string, holder: UploadHolder): void {
  registry(store).set(id, holder);
}

/** Forgets `holder` for `id`, unless a newer connection holds it already. */
export function releaseUpload(store: UploadStore, id: string, holder: UploadHolder): void {
  const map = registry(store);
  if (map.get(id) === holder) map.delete(id);
}

/**
 * Takes `partial` away from the connection that holds it: closes that connection and waits, bounded, until
 * its session released the upload.
 *
 * @param isClosed - tells whether the connection asking went away meanwhile (then it stops waiting)
 * @returns true when the upload is free to hold now
 */
export async function takeOver(
  store: UploadStore,
  partial: PartialUpload,
  isClosed: () => boolean,
): Promise<boolean> {
  const evicted = new Set<UploadHolder>();
  for (let waited = 0; partial.held && waited < TAKEOVER_WAIT && !isClosed(); waited += POLL) {
    // Whoever holds it now: another resume may have taken it meanwhile, and the newest one wins.
    const holder = registry(store).get(partial.id);
    if (holder && !evicted.has(holder)) {
      evicted.add(holder);
      holder.evict();
    }
    await new Promise((resolve) => setTimeout(resolve, POLL));
  }
  return !partial.held;
}
