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
 * Reads a file chunk by chunk, lazily: each read slices the Blob and loads only that slice, so memory stays
 * at a few chunks whatever the file size. It knows nothing of sockets or acknowledgements.
 */
export class FileSource {
  readonly #blob: Blob;
  readonly #chunkSize: number;
  readonly #type: TransferType;

  /**
   * @param blob - the file
   * @param chunkSize - raw bytes per chunk (the last chunk may be shorter)
   * @param type - the encoding of the payloads {@link FileSource.read} returns
   */
  constructor(blob: Blob, chunkSize: number, type: TransferType) {
    this.#blob = blob;
    this.#chunkSize = chunkSize;
    this.#type = type;
  }

  /** Raw bytes per chunk. */
  get chunkSize(): number {
    return this.#chunkSize;
  }

  /** The file's size in bytes. */
  get size(): number {
    return this.#blob.size;
  }

  /**
   * Reads and encodes the chunk that starts at `start`.
   *
   * @param start - a byte offset below {@link FileSource.size}
   * @returns the chunk, its payload encoded for the wire
   * @throws the browser's read error (a `NotReadableError` `DOMException` when the file changed or vanished)
   */
  async read(start: number): Promise<Chunk> {
    const end = Math.min(start + this.#chunkSize, this.#blob.size);
    const bytes = await this.#blob.slice(start, end).arrayBuffer();
    // A fresh ArrayBuffer, never a view: mock-socket (and some socket shims) stringify typed-array views.
    const view = new Uint8Array(bytes);
    const payload = this.#type === 'binary' ? bytes : encodeBase64(view);
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
