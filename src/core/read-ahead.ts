/**
 * Read-ahead: the next chunks of the file, read while earlier ones are on the wire, oldest first, so that a
 * file read (a round trip to the browser process) is in flight while the socket sends. Bounded: v1 reads one
 * chunk ahead; v2 {@link READ_AHEAD} bytes.
 */
import type { Chunk, FileSource } from './file-source.ts';

/**
 * Bytes of the file read ahead of the send loop under v2 (at least one chunk). Measured in Chromium
 * (docs/protocol.md, Measurements): with one read in flight the send loop spent ~40 % of an upload waiting
 * for `Blob.arrayBuffer()`; 4 MiB ahead keeps a read in flight whatever the chunk size.
 */
export const READ_AHEAD = 4 * 1024 * 1024;

/** Told of a chunk read queued: the read, its first byte and the byte after its last. */
export type ReadWatcher = (chunk: Promise<Chunk>, start: number, end: number) => void;

/** The queue of chunk reads ahead of the sender. */
export class ReadAhead {
  #source: FileSource;
  #chunks: Promise<Chunk>[] = [];
  #offset = 0;
  #ahead = 1;
  /** Told of every read queued, in file order (block integrity hashes from the reads). */
  #watcher: ReadWatcher | null = null;

  /** @param source - the file, cut into chunks */
  constructor(source: FileSource) {
    this.#source = source;
  }

  /** The file, cut into chunks as agreed. */
  get source(): FileSource {
    return this.#source;
  }

  /**
   * Starts reading from `offset`, with a new chunking and depth; drops the reads queued before.
   *
   * @param source - the file, cut as agreed
   * @param offset - the first byte to read
   * @param deep - read `depth` bytes ahead (v2) rather than one chunk
   * @param depth - bytes to read ahead under v2 (default {@link READ_AHEAD})
   */
  restart(source: FileSource, offset: number, deep: boolean, depth = READ_AHEAD): void {
    this.#source = source;
    this.#chunks = [];
    this.#offset = offset;
    this.#ahead = deep ? Math.max(1, Math.ceil(depth / source.chunkSize)) : 1;
  }

  /** @param watcher - told of every read queued from now on, or null */
  watch(watcher: ReadWatcher | null): void {
    this.#watcher = watcher;
  }

  /** Drops the reads queued (the connection dropped or the upload ended). */
  clear(): void {
    this.#chunks = [];
  }

  /** Queues reads up to the depth. */
  fill(): void {
    const source = this.#source;
    while (this.#chunks.length < this.#ahead && this.#offset < source.size) {
      const chunk = source.read(this.#offset);
      // A read that fails after an abort is never awaited; this keeps it from surfacing as unhandled.
      chunk.catch(() => undefined);
      this.#chunks.push(chunk);
      const start = this.#offset;
      this.#offset = Math.min(this.#offset + source.chunkSize, source.size);
      this.#watcher?.(chunk, start, this.#offset);
    }
  }

  /** @returns the next chunk's read (the queue is filled first) */
  next(): Promise<Chunk> {
    this.fill();
    return this.#chunks.shift()!;
  }
}
