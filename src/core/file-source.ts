import type { TransferType } from '../protocol/index.ts';

/** One chunk of the file, ready to send. */
export interface Chunk {
  /** Offset of the first byte in the file. */
  start: number;
  /** Offset just past the last byte; `end - start` is what an acknowledgement of this chunk counts. */
  end: number;
  /** The frame payload: an `ArrayBuffer` for binary frames, base64 text otherwise. */
  payload: ArrayBuffer | string;
  /** The raw bytes (the same buffer as `payload` for binary frames), for the running checksum. */
  bytes: Uint8Array;
}

/**
 * Bytes loaded from the file per read. Each `Blob.arrayBuffer()` of a picked file is a round trip to the
 * browser process; loading 1 MiB at a time and cutting chunks from it made 48 KiB stop-and-wait uploads
 * several times faster than one read per chunk (see README, Performance).
 */
export const READ_BLOCK_SIZE = 1024 * 1024;

interface Block {
  start: number;
  end: number;
  bytes: Promise<Uint8Array>;
}

/**
 * Reads a file chunk by chunk, lazily: it loads one block of {@link READ_BLOCK_SIZE} (or one chunk, when
 * chunks are larger) at a time and cuts chunks from it, so memory stays at a block and a few chunks whatever
 * the file size. It knows nothing of sockets or acknowledgements.
 */
export class FileSource {
  readonly #blob: Blob;
  readonly #chunkSize: number;
  readonly #type: TransferType;
  #block: Block | undefined;

  /**
   * @param blob - the file to read
   * @param chunkSize - bytes per chunk
   * @param type - `binary` yields ArrayBuffers, `base64` yields text
   */
  constructor(blob: Blob, chunkSize: number, type: TransferType) {
    this.#blob = blob;
    this.#chunkSize = chunkSize;
    this.#type = type;
  }

  /**
   * The same file cut into other chunks, keeping the block already loaded (or being loaded): when a v2
   * server's STOR answer changes the chunk size, the chunk read ahead while it answered is not read again.
   * For a file smaller than a block, that halves the reads of an upload.
   *
   * @param chunkSize - bytes per chunk
   * @param type - `binary` yields ArrayBuffers, `base64` yields text
   * @returns a new source over the same file
   */
  withChunks(chunkSize: number, type: TransferType): FileSource {
    const source = new FileSource(this.#blob, chunkSize, type);
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
    return this.#blob.size;
  }

  /**
   * Reads the chunk that starts at `start`.
   *
   * @param start - byte offset of the chunk
   * @returns the chunk's range and its frame payload
   * @throws whatever `Blob.arrayBuffer()` throws when the file cannot be read
   */
  async read(start: number): Promise<Chunk> {
    const end = Math.min(start + this.#chunkSize, this.#blob.size);
    let block = this.#block;
    if (!block || start < block.start || end > block.end) {
      const blockEnd = Math.min(start + Math.max(READ_BLOCK_SIZE, this.#chunkSize), this.#blob.size);
      const bytes = this.#blob
        .slice(start, blockEnd)
        .arrayBuffer()
        .then((buffer) => new Uint8Array(buffer));
      block = this.#block = { start, end: blockEnd, bytes };
      // A failed read must not stay cached: the next attempt reads again.
      bytes.catch(() => {
        if (this.#block === block) this.#block = undefined;
      });
    }
    const bytes = await block.bytes;
    const view = bytes.subarray(start - block.start, end - block.start);
    // An ArrayBuffer, never a view: mock-socket (and some socket shims) stringify typed-array views. A chunk
    // that is a whole block (chunks of READ_BLOCK_SIZE or more, or a small file) goes as the block's own
    // buffer, uncopied: nothing writes to a block, so one shared through withChunks() may be sent twice. A
    // smaller chunk is copied out of its block.
    const whole = view.byteLength === bytes.buffer.byteLength && bytes.byteOffset === 0;
    const payload =
      this.#type === 'binary'
        ? whole
          ? (bytes.buffer as ArrayBuffer)
          : view.slice().buffer
        : encodeBase64(view);
    return { start, end, payload, bytes: view };
  }
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
