/**
 * The memory the S3 store keeps uploads' bytes in until they are in a part: one budget per node, shared by
 * every upload, in buffers of a part's size that are reused (so the heap does not churn a 5 MiB buffer per
 * part). An upload takes a buffer when it starts filling a part and gives it back once S3 stored the part
 * (s3-part-pipeline.ts). When the budget is spent, taking one waits: the session then stops reading its
 * socket (backpressure.ts) and the client's bytes wait in the kernel and the network, not in this process.
 * This budget is what bounds a node's memory for S3 uploads (docs/server.md, "S3 store"): at most 1.5 × it
 * under block integrity (see {@link TakeMode}), and a part larger than all of it only when alone.
 *
 * Waiters are served fewest-buffers-first: an upload that holds none goes before one that wants its
 * fifth, so that with more uploads than buffers each keeps moving (and its client gets acks before its
 * answer timeout) instead of a few taking every buffer that comes back.
 */

/**
 * Default budget: 12 parts of 5 MiB — two uploads at full speed (5 parts each), more of them at the
 * bucket's pace (the process itself is ~106 MiB; see docs/server.md for what the bench measures).
 */
export const DEFAULT_PART_MEMORY = 64 * 1024 * 1024;

/**
 * How a buffer is taken: within the budget; as the first of a `pair` (only when the budget has room for
 * two: under block integrity a full part waits for the block that straddles into the next, so its upload
 * will need a second buffer to progress); or as that second one, an `overdraft` over the budget. So the
 * budget is exceeded by at most half of it.
 */
export type TakeMode = 'within' | 'pair' | 'overdraft';

interface Waiter {
  size: number;
  /** Buffers the upload holds already: fewer go first. */
  holding: number;
  /** What must fit for it: its size, or twice that for a pair. */
  room: number;
  resolve: (buffer: Buffer) => void;
}

export class PartBuffers {
  readonly #budget: number;
  /** Bytes of the buffers handed out (over the budget only by overdrafts). */
  #used = 0;
  /** Buffers given back, by size, kept for reuse while they fit in the budget with those in use. */
  readonly #free = new Map<number, Buffer[]>();
  #freeBytes = 0;
  readonly #waiting: Waiter[] = [];
  #peak = 0;
  #waited = 0;

  /** @param budget - the most bytes of buffers handed out at once (overdrafts aside) */
  constructor(budget = DEFAULT_PART_MEMORY) {
    if (!(budget > 0)) throw new RangeError('The S3 part memory must be more than 0 bytes.');
    this.#budget = budget;
  }

  /** Bytes of buffers in use now. */
  get used(): number {
    return this.#used;
  }

  /** The most bytes of buffers in use at once so far (what the budget bounded). */
  get peak(): number {
    return this.#peak;
  }

  /** Takes so far that had to wait for a buffer to come back (the budget was spent). */
  get waited(): number {
    return this.#waited;
  }

  /**
   * A buffer of `size` bytes (its content is garbage), as soon as the budget has room for it.
   *
   * @param size - the part's size
   * @param mode - see {@link TakeMode}
   * @param holding - buffers the upload holds already (waiters holding fewer are served first)
   */
  take(size: number, mode: TakeMode = 'within', holding = 0): Promise<Buffer> {
    const room = mode === 'pair' ? 2 * size : size;
    // A waiting upload is not overtaken by later ones that hold as many buffers (or more).
    if (mode === 'overdraft' || (this.#waiting.length === 0 && this.#fits(room))) {
      return Promise.resolve(this.#handOut(size));
    }
    this.#waited += 1;
    return new Promise((resolve) => {
      const at = this.#waiting.findIndex((waiter) => waiter.holding > holding);
      this.#waiting.splice(at === -1 ? this.#waiting.length : at, 0, { size, holding, room, resolve });
    });
  }

  /** Uploads waiting for a buffer. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Gives a buffer back (once; never used by the giver again). */
  give(buffer: Buffer): void {
    this.#used -= buffer.byteLength;
    if (this.#used + this.#freeBytes + buffer.byteLength <= this.#budget) {
      const list = this.#free.get(buffer.byteLength) ?? [];
      list.push(buffer);
      this.#free.set(buffer.byteLength, list);
      this.#freeBytes += buffer.byteLength;
    }
    while (this.#waiting.length > 0 && this.#fits(this.#waiting[0]!.room)) {
      const waiter = this.#waiting.shift()!;
      waiter.resolve(this.#handOut(waiter.size));
    }
  }

  /** Within the budget; a part larger than all of it (a file of terabytes) when nothing else is held. */
  #fits(size: number): boolean {
    return this.#used + size <= this.#budget || this.#used === 0;
  }

  #handOut(size: number): Buffer {
    this.#used += size;
    this.#peak = Math.max(this.#peak, this.#used);
    const reused = this.#free.get(size)?.pop();
    if (reused) {
      this.#freeBytes -= size;
      return reused;
    }
    // Kept buffers of other sizes make room, so that the free list never holds the budget hostage.
    for (const [other, list] of this.#free) {
      while (list.length > 0 && this.#used + this.#freeBytes > this.#budget) {
        list.pop();
        this.#freeBytes -= other;
      }
    }
    // Shared memory: the hashing thread reads a sealed part in place (s3-part-hasher.ts), no copy.
    return Buffer.from(new SharedArrayBuffer(size));
  }
}
