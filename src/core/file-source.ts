import type { TransferType } from '../protocol/index.ts';

/** One chunk of the file, ready to send. */
export interface Chunk {
  /** Offset of the first byte in the file. */
  start: number;
  /** Offset just past the last byte; `end - start` is what an acknowledgement of this chunk counts. */
  end: number;
  /**
   * The frame payload: binary bytes (an `ArrayBuffer`, or a view of a block read at once, see
   * {@link ReadUnit}), or base64 text.
   */
  payload: BinaryPayload | string;
  /** The raw bytes (the same buffer as `payload` for binary frames), for the running checksum. */
  bytes: Uint8Array;
}

/**
 * Bytes loaded from the file per read when chunks are small. Chunks of {@link DIRECT_READ_MIN} or more are
 * read straight into their own buffers; smaller ones are cut from a block of this size, so a 1 KiB
 * stop-and-wait upload does not pay a read per kilobyte.
 */
export const READ_BLOCK_SIZE = 1024 * 1024;

/** Chunks at least this large are read into their own buffer, with no copy. */
export const DIRECT_READ_MIN = 64 * 1024;

/** Bytes of a binary frame: `WebSocket.send` takes a buffer or a view alike. */
export type BinaryPayload = ArrayBuffer | Uint8Array<ArrayBuffer>;

/**
 * Reads of several chunks at once, as block integrity wants them: the file is read `size` bytes at a time
 * (aligned to multiples of `size`), each read passes through `inspect` (which hashes it, and may hand back
 * the bytes in another buffer) before chunks are cut from it, and chunks go as views of the read, uncopied.
 */
export interface ReadUnit {
  /** Bytes per read; used only when it is a multiple of the chunk size. */
  size: number;
  /**
   * @param start - the read's first byte
   * @param end - the byte after its last
   * @param bytes - the read, as soon as it starts (so that the hasher knows at once which blocks it has)
   * @returns the same bytes, once the chunks may be cut from them
   */
  inspect(
    start: number,
    end: number,
    bytes: Promise<Uint8Array<ArrayBuffer>>,
  ): Promise<Uint8Array<ArrayBuffer>>;
}

interface Block {
  start: number;
  end: number;
  bytes: Promise<Uint8Array>;
}

/**
 * Reads a file chunk by chunk, lazily: it loads one block (one chunk, or {@link READ_BLOCK_SIZE} of small
 * chunks) at a time from a {@link SequentialReader}, so memory stays at a block and a few chunks whatever the
 * file size. It knows nothing of sockets or acknowledgements.
 */
export class FileSource {
  readonly #reader: SequentialReader;
  readonly #chunkSize: number;
  readonly #blockSize: number;
  readonly #type: TransferType;
  /** Reads of several chunks, as block integrity wants them; null: the block size rules below. */
  readonly #unit: ReadUnit | null;
  #block: Block | undefined;

  /**
   * @param file - the file to read, or the reader of another source over it (see {@link withChunks})
   * @param chunkSize - bytes per chunk
   * @param type - `binary` yields ArrayBuffers, `base64` yields text
   * @param unit - read this many chunks at once (block integrity), when it is a multiple of the chunk size
   */
  constructor(
    file: Blob | SequentialReader,
    chunkSize: number,
    type: TransferType,
    unit: ReadUnit | null = null,
  ) {
    this.#reader = file instanceof SequentialReader ? file : new SequentialReader(file);
    this.#chunkSize = chunkSize;
    this.#unit =
      unit && type === 'binary' && unit.size > chunkSize && unit.size % chunkSize === 0 ? unit : null;
    // A whole number of chunks per block, so that a chunk never straddles two blocks: a straddling chunk
    // starts a block before the stream's position and reopens the file (48 KiB chunks: once per block).
    this.#blockSize =
      this.#unit?.size ??
      (chunkSize >= DIRECT_READ_MIN ? chunkSize : Math.floor(READ_BLOCK_SIZE / chunkSize) * chunkSize);
    this.#type = type;
  }

  /**
   * The same file cut into other chunks, keeping the block already loaded (or being loaded): when a v2
   * server's STOR answer changes the chunk size, the chunk read ahead while it answered is not read again,
   * and the file's stream stays open where it was. For a file smaller than a block, that halves the reads
   * of an upload.
   *
   * @param chunkSize - bytes per chunk
   * @param type - `binary` yields ArrayBuffers, `base64` yields text
   * @param unit - reads of several chunks at once (block integrity), or null
   * @returns a new source over the same file
   */
  withChunks(chunkSize: number, type: TransferType, unit: ReadUnit | null = null): FileSource {
    const source = new FileSource(this.#reader, chunkSize, type, unit);
    const block = this.#block;
    source.#block = block;
    // As in read(): a failed load must not stay cached in the new source either.
    block?.bytes.catch(() => {
      if (source.#block === block) source.#block = undefined;
    });
    return source;
  }

  /** Raw bytes per chunk. */
  get chunkSize(): number {
    return this.#chunkSize;
  }

  /** The file size in bytes. */
  get size(): number {
    return this.#reader.size;
  }

  /**
   * Reads the chunk that starts at `start`. Reads in file order are the fast path; any other order works.
   *
   * @param start - byte offset of the chunk
   * @returns the chunk's range and its frame payload
   * @throws whatever reading the file throws (a file that was moved or changed since it was picked)
   */
  async read(start: number): Promise<Chunk> {
    const size = this.#reader.size;
    const end = Math.min(start + this.#chunkSize, size);
    let block = this.#block;
    if (!block || start < block.start || end > block.end) {
      const unit = this.#unit;
      // Under a read unit, reads end on multiples of its size (a resume may start inside one), so each later
      // read is one whole block for the hasher; a chunk is never cut short.
      const blockEnd = unit
        ? Math.min(Math.max(end, (Math.floor(start / unit.size) + 1) * unit.size), size)
        : Math.min(start + this.#blockSize, size);
      const read = this.#reader.read(start, blockEnd);
      const bytes = unit ? unit.inspect(start, blockEnd, read) : read;
      block = this.#block = { start, end: blockEnd, bytes };
      // A failed read must not stay cached: the next attempt reads again.
      bytes.catch(() => {
        if (this.#block === block) this.#block = undefined;
      });
    }
    const bytes = await block.bytes;
    const view = bytes.subarray(start - block.start, end - block.start);
    // An ArrayBuffer, never a view: mock-socket (and some socket shims) stringify typed-array views. A chunk
    // that is its whole block (chunks of DIRECT_READ_MIN or more, or a small file) goes as the block's own
    // buffer, uncopied: nothing writes to a block once read, so one shared through withChunks() may even be
    // sent twice. A smaller chunk is copied out of its block, except under a read unit (block integrity, a
    // real WebSocket): there it goes as a view of the read, as a copy cost ~0.5 s of main thread per 64 MiB.
    const whole = view.byteLength === bytes.buffer.byteLength && bytes.byteOffset === 0;
    const payload =
      this.#type === 'binary'
        ? whole
          ? (bytes.buffer as ArrayBuffer)
          : this.#unit
            ? (view as Uint8Array<ArrayBuffer>)
            : view.slice().buffer
        : encodeBase64(view);
    return { start, end, payload, bytes: view };
  }

  /** Stops reading the file; a later read opens it again. */
  close(): void {
    this.#block = undefined;
    this.#reader.close();
  }
}

/**
 * Reads byte ranges of a blob through one `Blob.stream()` kept open from range to range, into buffers of the
 * caller's size. A picked file read this way costs about half the browser CPU of one `arrayBuffer()` per
 * block and reads twice as fast (bench/results, "read only" rows), because the bytes flow through one pipe
 * instead of a fresh read of the browser's file per call. A range that does not start where the last one
 * ended reopens the stream there. Reads run one at a time, in the order they were asked for.
 */
export class SequentialReader {
  readonly #blob: Blob;
  /** The offset the open stream yields next. */
  #position = 0;
  #stream: StreamReader | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** Bumped by close(): reads asked for before it are dropped instead of reopening the file. */
  #epoch = 0;

  constructor(blob: Blob) {
    this.#blob = blob;
  }

  get size(): number {
    return this.#blob.size;
  }

  /**
   * Reads bytes `[start, end)` into a fresh buffer of exactly that length.
   *
   * @throws whatever reading the blob throws, or an Error when the blob ends before `end`
   */
  read(start: number, end: number): Promise<Uint8Array<ArrayBuffer>> {
    const epoch = this.#epoch;
    const result = this.#queue.then(() => {
      if (epoch !== this.#epoch) throw new DOMException('The reader was closed.', 'AbortError');
      return this.#read(start, end);
    });
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Releases the open stream, if any. */
  close(): void {
    this.#epoch += 1;
    this.#release();
  }

  #release(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    stream?.cancel();
  }

  async #read(start: number, end: number): Promise<Uint8Array<ArrayBuffer>> {
    if (typeof this.#blob.stream !== 'function') {
      return new Uint8Array(await this.#blob.slice(start, end).arrayBuffer());
    }
    if (!this.#stream || this.#position !== start) {
      this.#release();
      this.#stream = openStream(this.#blob.slice(start));
      this.#position = start;
    }
    const stream = this.#stream;
    try {
      const bytes = await stream.fill(end - start);
      this.#position = end;
      return bytes;
    } catch (cause) {
      if (this.#stream === stream) this.#release();
      throw cause;
    }
  }
}

interface StreamReader {
  /** Reads exactly `length` bytes into a fresh buffer. */
  fill(length: number): Promise<Uint8Array<ArrayBuffer>>;
  cancel(): void;
}

/**
 * A reader over `blob.stream()`: a BYOB reader where the stream is a byte stream (the browser then writes
 * straight into our buffer), the default reader with a copy otherwise.
 */
function openStream(blob: Blob): StreamReader {
  const stream = blob.stream();
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = stream.getReader({ mode: 'byob' });
  } catch {
    // Not a byte stream in this browser: the default reader below.
  }
  const cancel = (reader: ReadableStreamGenericReader): void => {
    reader.cancel().catch(() => undefined);
  };
  if (byob) {
    const reader = byob;
    return {
      async fill(length) {
        let buffer = new ArrayBuffer(length);
        let filled = 0;
        while (filled < length) {
          const { done, value } = await reader.read(new Uint8Array(buffer, filled, length - filled));
          if (done || !value) throw new Error(`The file ended ${length - filled} bytes early.`);
          buffer = value.buffer as ArrayBuffer;
          filled += value.byteLength;
        }
        return new Uint8Array(buffer);
      },
      cancel: () => cancel(reader),
    };
  }
  const reader = stream.getReader();
  let pending: Uint8Array | undefined;
  return {
    async fill(length) {
      const bytes = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        if (!pending || pending.byteLength === 0) {
          const { done, value } = await reader.read();
          if (done || !value) throw new Error(`The file ended ${length - filled} bytes early.`);
          pending = value;
        }
        const take = Math.min(pending.byteLength, length - filled);
        bytes.set(pending.subarray(0, take), filled);
        pending = pending.subarray(take);
        filled += take;
      }
      return bytes;
    },
    cancel: () => cancel(reader),
  };
}

// 32 KiB of arguments per String.fromCharCode call stays well under every engine's argument limit.
const FROM_CHAR_CODE_PIECE = 32 * 1024;

/**
 * Encodes bytes as canonical padded base64, with `Uint8Array.prototype.toBase64` where the browser has it
 * (fast, no intermediate string) and {@link encodeBase64Portable} elsewhere.
 *
 * @param bytes - the bytes
 * @returns the base64 text
 */
export function encodeBase64(bytes: Uint8Array): string {
  const native = (bytes as Uint8Array & { toBase64?: () => string }).toBase64;
  return typeof native === 'function' ? native.call(bytes) : encodeBase64Portable(bytes);
}

/**
 * Encodes bytes as base64 with `btoa` over a binary string built in 32 KiB pieces, for browsers without
 * `Uint8Array.prototype.toBase64`.
 *
 * @param bytes - the bytes
 * @returns the base64 text
 */
export function encodeBase64Portable(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += FROM_CHAR_CODE_PIECE) {
    binary += String.fromCharCode(...bytes.subarray(i, i + FROM_CHAR_CODE_PIECE));
  }
  return btoa(binary);
}
