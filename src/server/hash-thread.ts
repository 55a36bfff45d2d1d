/**
 * SHA-256 computed on a worker thread, fed as bytes arrive: how the server keeps the whole-file SHA-256 of a
 * block-verified upload (which the FIN answer and the completion record carry) without hashing on its event
 * loop. Measured (issue 11): without it the whole file was read back and hashed on the main thread when FIN
 * came (~0.3 s per 256 MiB, the client waiting), after each block had already been hashed once.
 *
 * One worker thread serves every hash of the process (it is `unref`ed, so it never keeps the process
 * alive). `update` copies the bytes to it (a copy costs a fraction of hashing them); at most
 * {@link MAX_QUEUED_BYTES} may wait there, {@link ThreadedSha256.room} lets a writer wait below that. If the
 * thread fails, every hash in it fails: `digest` rejects and the caller reads the bytes back instead.
 */
import { Worker } from 'node:worker_threads';

/** Bytes copied to the thread and not yet hashed, across all hashes, before writers wait. */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

// CommonJS, run with `eval`: no file to find next to the compiled module, under tsx or from dist alike.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', ({ op, id, buffer, length }) => {
  if (op === 'update') {
    let hash = hashes.get(id);
    if (!hash) hashes.set(id, (hash = createHash('sha256')));
    hash.update(new Uint8Array(buffer, 0, length));
    parentPort.postMessage({ op, id, buffer, length }, [buffer]);
  } else if (op === 'digest') {
    const digest = (hashes.get(id) ?? createHash('sha256')).digest();
    hashes.delete(id);
    parentPort.postMessage({ op, id, digest }, [digest.buffer]);
  } else if (op === 'drop') hashes.delete(id);
});
`;

interface Reply {
  op: 'update' | 'digest';
  id: number;
  /** An update's buffer, handed back for the next copy. */
  buffer?: ArrayBuffer;
  length?: number;
  digest?: Uint8Array;
}

/** Smallest buffer of the pool: chunks are copied into buffers of a power of two at least this large. */
const MIN_BUFFER = 64 * 1024;

/** The process's hashing thread and what waits on it. */
class HashThread {
  readonly #worker: Worker;
  readonly #digests = new Map<number, { resolve: (d: Buffer) => void; reject: (e: Error) => void }>();
  #queued = 0;
  /**
   * Buffers back from the thread, by size: each update is copied into one and transferred there and back,
   * so hashing allocates nothing per chunk (fresh copies left ~64 MiB of garbage for the thread's GC).
   */
  readonly #pool = new Map<number, ArrayBuffer[]>();
  #waiting: (() => void)[] = [];
  #failure: Error | null = null;
  #next = 0;

  constructor() {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true });
    this.#worker.on('message', (reply: Reply) => this.#answer(reply));
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', () => this.#fail(new Error('The hashing thread exited.')));
    // Idle, the thread never keeps the process alive (after the listeners: adding one refs the port again).
    this.#worker.unref();
  }

  get failed(): boolean {
    return this.#failure !== null;
  }

  newId(): number {
    return this.#next++;
  }

  update(id: number, bytes: Uint8Array): void {
    if (this.#failure) return;
    this.#busy();
    this.#queued += bytes.byteLength;
    // A copy of exactly these bytes, transferred: cloning a view would copy its whole underlying buffer
    // (ws may hand out a slice of a larger one), and the caller may reuse its own.
    const buffer = this.#buffer(bytes.byteLength);
    new Uint8Array(buffer).set(bytes);
    this.#worker.postMessage({ op: 'update', id, buffer, length: bytes.byteLength }, [buffer]);
  }

  room(): Promise<void> {
    if (this.#queued < MAX_QUEUED_BYTES || this.#failure) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  digest(id: number): Promise<Buffer> {
    if (this.#failure) return Promise.reject(this.#failure);
    this.#busy();
    return new Promise((resolve, reject) => {
      this.#digests.set(id, { resolve, reject });
      this.#worker.postMessage({ op: 'digest', id });
    });
  }

  drop(id: number): void {
    if (!this.#failure) this.#worker.postMessage({ op: 'drop', id });
  }

  #answer(reply: Reply): void {
    if (reply.op === 'update') {
      this.#queued -= reply.length ?? 0;
      if (reply.buffer) this.#pool.get(reply.buffer.byteLength)?.push(reply.buffer);
      if (this.#queued < MAX_QUEUED_BYTES) for (const wake of this.#waiting.splice(0)) wake();
    } else {
      const pending = this.#digests.get(reply.id);
      this.#digests.delete(reply.id);
      pending?.resolve(Buffer.from(reply.digest!));
    }
    if (this.#queued === 0 && this.#digests.size === 0) this.#worker.unref();
  }

  /** A pooled buffer of at least `length` bytes (a power of two); the pool holds what the backlog did. */
  #buffer(length: number): ArrayBuffer {
    let size = MIN_BUFFER;
    while (size < length) size *= 2;
    let free = this.#pool.get(size);
    if (!free) this.#pool.set(size, (free = []));
    return free.pop() ?? new ArrayBuffer(size);
  }

  /** Work is due from the thread: the process waits for it, as for any pending I/O. */
  #busy(): void {
    if (this.#queued === 0 && this.#digests.size === 0) this.#worker.ref();
  }

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    if (thread === this) thread = null; // the next hash starts a new thread
    for (const pending of this.#digests.values()) pending.reject(error);
    this.#digests.clear();
    for (const wake of this.#waiting.splice(0)) wake();
  }
}

let thread: HashThread | null = null;

/** A hash dropped by the garbage collector without a digest (an abandoned upload) is dropped in the thread. */
const abandoned = new FinalizationRegistry<{ thread: HashThread; id: number }>(({ thread, id }) =>
  thread.drop(id),
);

/** A running SHA-256 whose hashing happens on the process's hashing thread. */
export class ThreadedSha256 {
  readonly #thread: HashThread;
  readonly #id: number;
  #done = false;

  constructor() {
    this.#thread = thread ??= new HashThread();
    this.#id = this.#thread.newId();
    abandoned.register(this, { thread: this.#thread, id: this.#id }, this);
  }

  /**
   * Adds bytes (copied now: the caller may reuse its buffer).
   *
   * @param bytes - the next bytes of the file
   */
  update(bytes: Uint8Array): void {
    if (this.#done) throw new Error('update() after digest().');
    this.#thread.update(this.#id, bytes);
  }

  /** @returns resolves once the thread's backlog is below {@link MAX_QUEUED_BYTES} */
  room(): Promise<void> {
    return this.#thread.room();
  }

  /**
   * The digest of everything added, once hashed; the hash is finished then.
   *
   * @returns the 32-byte SHA-256 (rejects when the thread failed)
   */
  digest(): Promise<Buffer> {
    this.#done = true;
    abandoned.unregister(this);
    return this.#thread.digest(this.#id);
  }

  /** Forgets the hash without a digest (the upload went another way). */
  drop(): void {
    if (this.#done) return;
    this.#done = true;
    abandoned.unregister(this);
    this.#thread.drop(this.#id);
  }
}
