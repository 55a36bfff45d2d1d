/**
 * The whole-file SHA-256 of an S3 upload, hashed part by part on a worker thread. Its state must survive a
 * move to another node, so it is hash-wasm's, which can be saved (Node's own hash cannot): the state after
 * the recorded parts is in the upload's state object, and the node that takes over loads it and hashes on.
 * hash-wasm runs at ~245 MiB/s (Node's native SHA-256 ~1.3 GiB/s): on the event loop it blocked ~20 ms per
 * 5 MiB part, and receiving, the acks and every other upload of the node waited (measured, issue 13).
 *
 * The thread is stateless: each request carries the state to continue from and the part (its buffer is a
 * SharedArrayBuffer from s3-part-buffers.ts: read in place, not copied), and the answer is the state after
 * it, plus the part's own SHA-256 with Node's native hash — S3's signature needs it (`x-amz-content-sha256`),
 * and the SDK would otherwise compute it on the event loop. One thread serves the process (`unref`ed when
 * idle); if it fails, the waiting requests reject (the upload fails with a storage error, the client
 * resumes) and the next request starts a new one.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { createSHA256, type IHasher } from 'hash-wasm';

// CommonJS, run with `eval`: no file to find next to the compiled module, under tsx or from dist alike.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hasher = require(workerData.hashWasm).createSHA256();
parentPort.on('message', async ({ seq, state, buffer, offset, length }) => {
  try {
    const sha = await hasher;
    const bytes = new Uint8Array(buffer, offset, length);
    sha.load(state);
    sha.update(bytes);
    const next = sha.save();
    const part = createHash('sha256').update(bytes).digest('hex');
    parentPort.postMessage({ seq, state: next, part });
  } catch (error) {
    parentPort.postMessage({ seq, error: String(error && error.message || error) });
  }
});
`;

interface Reply {
  seq: number;
  state?: Uint8Array;
  part?: string;
  error?: string;
}

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

/** What hashing one part gave: the whole-file state after it, and the part's own SHA-256 (hex). */
export interface HashedPart {
  state: Uint8Array;
  partSha256: string;
}

class PartHashThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #failure: Error | null = null;

  constructor() {
    const hashWasm = createRequire(import.meta.url).resolve('hash-wasm');
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { hashWasm } });
    this.#worker.on('message', (reply: Reply) => this.#answer(reply));
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', () => this.#fail(new Error('The S3 hashing thread exited.')));
    this.#worker.unref();
  }

  hash(state: Uint8Array, bytes: Uint8Array): Promise<Reply> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#pending.size === 0) this.#worker.ref();
    const seq = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject });
      // A SharedArrayBuffer is shared, not copied; any other buffer is copied (a structured clone).
      this.#worker.postMessage({
        seq,
        state,
        buffer: bytes.buffer,
        offset: bytes.byteOffset,
        length: bytes.byteLength,
      });
    });
  }

  #answer(reply: Reply): void {
    const pending = this.#pending.get(reply.seq);
    this.#pending.delete(reply.seq);
    if (this.#pending.size === 0) this.#worker.unref();
    if (reply.error !== undefined) pending?.reject(new Error(`Hashing a part failed: ${reply.error}`));
    else pending?.resolve(reply);
  }

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    if (thread === this) thread = null;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

let thread: PartHashThread | null = null;
/** One hasher on this thread, for what is cheap: a fresh state, a digest (a block or two). */
let local: Promise<IHasher> | null = null;

/** The running SHA-256 of one S3 upload: its saved state, moved on by the parts in their order. */
export class PartHasher {
  #state: Uint8Array;
  /** The last part's hashing: the next one continues from its state. */
  #chain: Promise<unknown> = Promise.resolve();

  private constructor(state: Uint8Array) {
    this.#state = state;
  }

  /**
   * @param saved - a state saved earlier (base64, as the state object keeps it); none: a fresh hash
   * @returns the hasher
   */
  static async from(saved?: string): Promise<PartHasher> {
    if (saved !== undefined) return new PartHasher(new Uint8Array(Buffer.from(saved, 'base64')));
    const sha = await (local ??= createSHA256());
    return new PartHasher(sha.init().save());
  }

  /** The state after every part hashed so far (call once their hashing resolved), base64. */
  get saved(): string {
    return Buffer.from(this.#state).toString('base64');
  }

  /**
   * Hashes the next part on the thread, after the ones before it. The caller must not change its bytes
   * until this resolves.
   *
   * @param bytes - the part
   * @returns the state after it (base64) and the part's own SHA-256 (hex)
   */
  update(bytes: Uint8Array): Promise<{ state: string; partSha256: string }> {
    const hashed = this.#chain.then(async () => {
      const reply = await (thread ??= new PartHashThread()).hash(this.#state, bytes);
      this.#state = reply.state!;
      return { state: Buffer.from(reply.state!).toString('base64'), partSha256: reply.part! };
    });
    // A failed part fails the upload; the next caller starts again from the last good state.
    this.#chain = hashed.catch(() => undefined);
    return hashed;
  }

  /** Starts again from nothing (the stored parts are forgotten). */
  async reset(): Promise<void> {
    await this.#chain;
    const sha = await (local ??= createSHA256());
    this.#state = sha.init().save();
  }

  /** @returns the SHA-256 of every part hashed (after those in progress), the state kept */
  async digest(): Promise<Uint8Array> {
    await this.#chain;
    const sha = await (local ??= createSHA256());
    sha.load(this.#state);
    return sha.digest('binary');
  }
}
