/**
 * The sending side of a transfer: the file cut into chunks, the read-ahead, the send window, and the send
 * loop that fills the window with chunks, one at a time, until it is full or the file is sent (each
 * acknowledgement runs it again). It knows nothing of sockets or states: the transfer gives it a sink that
 * says whether sending may go on and sends one chunk.
 */
import type { TransferType } from '../protocol/index.ts';
import { FileSource, type Chunk, type ReadUnit } from './file-source.ts';
import { ByteCredit } from './credit.ts';
import { ReadAhead, type ReadWatcher } from './read-ahead.ts';
import { SendWindow } from './send-window.ts';

/** What block integrity asks of the read-ahead: how deep to read, and to hear of every read. */
export interface ReadHook {
  /** Bytes to read ahead. */
  depth: number;
  watch: ReadWatcher;
  /** Read whole blocks at once, each hashed before chunks are cut from it. */
  unit: ReadUnit;
}

/** The transfer's side of the send loop. */
export interface ChunkSink {
  /** @returns whether chunks may still be sent (checked before each read and after it) */
  sending(): boolean;
  /**
   * Frames that must go before a chunk (block integrity's SUMs), once ready; null when there are none.
   *
   * @param chunk - the chunk about to be sent
   */
  before(chunk: Chunk): Promise<string[]> | null;
  /**
   * Puts a chunk on the wire, after the frames {@link ChunkSink.before} gave for it.
   *
   * @param chunk - the chunk
   * @param before - those frames, or null
   * @returns false when sending failed (the transfer has already reported it)
   */
  send(chunk: Chunk, before: string[] | null): boolean;
}

/** The file, its read-ahead and send window, and one send loop at a time over them. */
export class ChunkPump {
  #source: FileSource;
  readonly #window = new SendWindow();
  readonly #reads: ReadAhead;
  readonly #now: () => number;
  #running = false;

  /**
   * @param file - the file to send
   * @param chunkSize - bytes per chunk until a grant says otherwise
   * @param encoding - how chunks travel until a grant says otherwise
   * @param now - a monotonic clock in ms, for the byte credit's round-trip measurements
   */
  constructor(
    file: Blob,
    chunkSize: number,
    encoding: TransferType,
    now: () => number = () => performance.now(),
  ) {
    this.#now = now;
    this.#source = new FileSource(file, chunkSize, encoding);
    this.#reads = new ReadAhead(this.#source);
  }

  /** The file, cut into chunks as agreed. */
  get source(): FileSource {
    return this.#source;
  }

  /** The chunks in flight and the byte counts. */
  get window(): SendWindow {
    return this.#window;
  }

  /** Whether every byte of the file was sent (not necessarily acknowledged). */
  get allSent(): boolean {
    return this.#window.sent === this.#source.size;
  }

  /** Reads the first chunk while the server prepares (a v1 answer sends it). */
  readFirst(): void {
    this.#reads.fill();
  }

  /**
   * Starts over from what the server holds, under a v2 grant: new chunking, deep read-ahead, checked acks.
   *
   * @param offset - bytes the server holds
   * @param window - chunks allowed in flight
   * @param chunkSize - bytes per chunk
   * @param encoding - how chunks travel
   * @param credit - the server's byte credit, or null to count `window` chunks
   * @param reads - a read-ahead depth and a watcher of the reads (block integrity hashes from them), or null
   * @param creditStart - under a credit, the bytes kept in flight before anything is measured
   * @param creditFloor - under a credit, the server's `hold`: the least the sender's own bound keeps in flight
   */
  restart(
    offset: number,
    window: number,
    chunkSize: number,
    encoding: TransferType,
    credit: number | null = null,
    reads: ReadHook | null = null,
    creditStart = window * chunkSize,
    creditFloor = 0,
  ): void {
    this.#source = this.#source.withChunks(chunkSize, encoding, reads?.unit ?? null);
    this.#reads.restart(this.#source, offset, true, reads?.depth);
    this.#reads.watch(reads?.watch ?? null);
    const allowance = credit === null ? null : new ByteCredit(credit, creditStart, this.#now, creditFloor);
    this.#window.restart(offset, window, true, allowance);
  }

  /**
   * Back to the 2012 way from the first byte, as constructed: v1 chunks, one in flight, acks without offsets
   * (early data went under v2 terms a v1 answer did not take).
   *
   * @param chunkSize - bytes per v1 chunk
   * @param encoding - how v1 chunks travel
   */
  restartV1(chunkSize: number, encoding: TransferType): void {
    this.#source = this.#source.withChunks(chunkSize, encoding);
    this.#reads.restart(this.#source, 0, false);
    this.#reads.watch(null);
    this.#window.restart(0, 1, false);
  }

  /** The connection dropped: the reads ahead and the chunks in flight will be redone. */
  drop(): void {
    this.#reads.clear();
    this.#window.drop();
  }

  /** The transfer ended: reads dropped, the file's reader released. */
  close(): void {
    this.#reads.clear();
    this.#source.close();
  }

  /**
   * Sends chunks while the window is open and bytes are left; does nothing when a loop already runs (it will
   * see the room an acknowledgement made).
   *
   * @param sink - where chunks go
   * @throws whatever reading the file throws
   */
  async run(sink: ChunkSink): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const window = this.#window;
    try {
      while (sink.sending() && window.sent < this.#source.size && window.fits(this.#nextLength())) {
        const chunk = await this.#reads.next();
        const pending = sink.before(chunk);
        const before = pending && (await pending);
        if (!sink.sending() || !sink.send(chunk, before)) return;
        window.push(chunk.end - chunk.start);
        this.#reads.fill();
      }
    } finally {
      this.#running = false;
    }
  }

  /** The length of the next chunk to send. */
  #nextLength(): number {
    return Math.min(this.#source.chunkSize, this.#source.size - this.#window.sent);
  }
}
