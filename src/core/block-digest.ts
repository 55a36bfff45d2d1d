/**
 * SHA-256 of one whole block, off the page's main thread where a Worker can run. Measured in Chromium
 * (issue 11): `crypto.subtle.digest` hashes on the calling thread before its promise is even returned
 * (10–15 ms of main thread per 4 MiB block, ~370 MiB/s), so on the main thread it competed with reading and
 * sending and halved the upload. A dedicated Worker runs the same WebCrypto digest on another thread; the
 * block's buffer is transferred there and back (no copy), so the page's main thread only posts two messages.
 *
 * Where no Worker can start (no `Worker`, a Content-Security-Policy without `worker-src blob:`), or before the
 * worker answered its first message, the digest runs on the main thread as before: a buffer is never
 * transferred to a worker that is not known to be running, so a blocked worker cannot swallow file bytes.
 */
import type { Digest } from './block-hasher.ts';

/** A block's digest, with its bytes handed back (the same bytes; the buffer may have moved threads). */
export interface DigestedBlock {
  digest: Uint8Array;
  bytes: Uint8Array<ArrayBuffer>;
}

/** SHA-256 of a whole block that may borrow the block's buffer until it resolves. */
export type BlockDigest = (bytes: Uint8Array<ArrayBuffer>) => Promise<DigestedBlock>;

/**
 * On the calling thread.
 *
 * @param digest - WebCrypto's SHA-256 (or a test's)
 * @returns a block digest that leaves the buffer where it is
 */
export function mainThreadBlockDigest(digest: Digest): BlockDigest {
  return async (bytes) => ({ digest: new Uint8Array(await digest('SHA-256', bytes)), bytes });
}

/** The worker's whole program: digest what comes, send digest and buffer back. */
const WORKER_SOURCE = `onmessage = async ({ data: { id, bytes } }) => {
  try {
    const digest = await crypto.subtle.digest('SHA-256', bytes);
    postMessage({ id, bytes, digest }, [bytes.buffer, digest]);
  } catch (error) {
    postMessage({ id, bytes, error: String(error) }, [bytes.buffer]);
  }
};`;

interface Reply {
  id: number;
  bytes: Uint8Array<ArrayBuffer>;
  digest?: ArrayBuffer;
  error?: string;
}

/** One Worker shared by every transfer of the page: it is idle between blocks and costs one thread. */
class DigestWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<
    number,
    { resolve: (block: DigestedBlock) => void; reject: (e: Error) => void }
  >();
  #next = 0;
  /** `starting` until the first answer (a ping), `ready` after, `broken` once it failed. */
  #state: 'starting' | 'ready' | 'broken' = 'starting';

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = ({ data }: MessageEvent<Reply>) => this.#answer(data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#break('The digest worker failed.');
    };
    // A ping of an empty buffer: only a worker that answered it gets file bytes.
    this.#post(new Uint8Array(0)).then(
      () => this.#state === 'starting' && (this.#state = 'ready'),
      () => undefined,
    );
  }

  get ready(): boolean {
    return this.#state === 'ready';
  }

  digest(bytes: Uint8Array<ArrayBuffer>): Promise<DigestedBlock> {
    return this.#post(bytes);
  }

  #post(bytes: Uint8Array<ArrayBuffer>): Promise<DigestedBlock> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, bytes }, [bytes.buffer]);
    });
  }

  #answer({ id, bytes, digest, error }: Reply): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    if (digest) pending.resolve({ digest: new Uint8Array(digest), bytes });
    else pending.reject(new Error(`SHA-256 failed in the digest worker: ${error ?? 'no digest'}`));
  }

  #break(message: string): void {
    this.#state = 'broken';
    for (const pending of this.#pending.values()) pending.reject(new Error(message));
    this.#pending.clear();
    this.#worker.terminate();
  }
}

let shared: DigestWorker | null | undefined;

function sharedWorker(): DigestWorker | null {
  if (shared === undefined) {
    shared = null;
    try {
      if (typeof Worker === 'function' && typeof URL.createObjectURL === 'function') {
        const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
        shared = new DigestWorker(new Worker(url));
        // The worker has fetched its script once it answers; the URL can go then (revoking earlier races).
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
      }
    } catch {
      // A CSP that forbids blob: workers throws here in some engines: the main thread hashes.
    }
  }
  return shared;
}

/**
 * In the shared digest Worker once it runs; on the main thread before that and where it cannot run.
 *
 * @param digest - WebCrypto's SHA-256, for the main-thread fallback
 * @returns the block digest
 */
export function workerBlockDigest(digest: Digest): BlockDigest {
  const fallback = mainThreadBlockDigest(digest);
  return (bytes) => {
    // A worker that failed (a CSP refusing blob: workers reports it so) is not started again: main thread.
    const worker = sharedWorker();
    return worker?.ready ? worker.digest(bytes) : fallback(bytes);
  };
}
