/**
 * Integrity: the running digest of what was sent, when the conversation agreed on a checksum. One interface,
 * two implementations: {@link Sha256Integrity} (hashes each chunk right after it is sent, keeps the digest's
 * state per unacknowledged chunk so a reconnection can continue from the server's offset) and
 * {@link NO_INTEGRITY}, the null object used when no checksum was agreed (v1, or `checksum: false`).
 */
import type { Chunk } from './file-source.ts';
import { encodeBase64, SequentialReader } from './file-source.ts';
import { Sha256 } from './sha256.ts';

/** The most bytes hashed in one read when the digest must catch up with the server's offset. */
export const REHASH_BLOCK = 4 * 1024 * 1024;

/** A digest state saved earlier (a resume record after a reload): base64 state after `offset` bytes. */
export interface SavedDigest {
  offset: number;
  state: string;
}

/** What the transfer asks of the running checksum. */
export interface Integrity {
  /**
   * Brings the digest to `offset` (the server's), from the nearest state saved at or before it, hashing the
   * bytes in between from the file.
   *
   * @param offset - bytes the server holds
   * @param file - the file, to hash what no saved state covers
   * @param saved - a state from a resume record, if one belongs to this upload
   */
  seek(offset: number, file: Blob, saved: SavedDigest | null): Promise<void>;
  /**
   * Checked before a chunk is sent.
   *
   * @param start - the chunk's first byte
   * @throws Error when the digest is not at `start` (a bug: the checksum would be wrong)
   */
  beforeSend(start: number): void;
  /** @param chunk - a chunk just sent, hashed in order */
  afterSend(chunk: Chunk): void;
  /** @param offset - the server acknowledged up to here: older states are no longer needed */
  acknowledged(offset: number): void;
  /**
   * @param offset - an acknowledged offset
   * @returns the digest's state after `offset` bytes (base64) for a resume record, or null
   */
  stateAt(offset: number): string | null;
  /** @returns `sha256:<base64>` for FIN, or undefined when no checksum was agreed */
  checksum(): string | undefined;
  /** Forgets every state: a different upload starts. */
  forget(): void;
}

/** No checksum agreed: nothing to hash, nothing to send with FIN. */
export const NO_INTEGRITY: Integrity = Object.freeze({
  seek: () => Promise.resolve(),
  beforeSend: () => undefined,
  afterSend: () => undefined,
  acknowledged: () => undefined,
  stateAt: () => null,
  checksum: () => undefined,
  forget: () => undefined,
});

/** SHA-256 of the whole file, computed while sending. */
export class Sha256Integrity implements Integrity {
  #hasher: Sha256 | null = null;
  /** Saved states by the offset they cover: one per chunk sent and not yet acknowledged. */
  readonly #states = new Map<number, Uint8Array>();

  /** @inheritdoc */
  async seek(offset: number, file: Blob, saved: SavedDigest | null): Promise<void> {
    this.#hasher ??= await Sha256.create();
    const hasher = this.#hasher;
    let from = 0;
    let state: Uint8Array | undefined;
    for (const [at, kept] of this.#states) {
      if (at <= offset && at >= from) {
        from = at;
        state = kept;
      }
    }
    if (saved && saved.offset <= offset && saved.offset > from) {
      from = saved.offset;
      state = decodeBase64(saved.state);
    }
    if (state) hasher.load(state, from);
    else hasher.reset();
    for (const at of [...this.#states.keys()]) if (at > offset) this.#states.delete(at);
    // Read the way chunks are read: one stream over the range, not an arrayBuffer() per block.
    const reader = new SequentialReader(file);
    try {
      for (let at = from; at < offset; at += REHASH_BLOCK) {
        hasher.update(await reader.read(at, Math.min(at + REHASH_BLOCK, offset)));
      }
    } finally {
      reader.close();
    }
    this.#states.set(offset, hasher.save());
  }

  /** @inheritdoc */
  beforeSend(start: number): void {
    if (this.#hasher && this.#hasher.offset !== start) throw new Error('checksum out of step with the data');
  }

  /** @inheritdoc */
  afterSend(chunk: Chunk): void {
    const hasher = this.#hasher;
    if (!hasher) return;
    // Hashed right after the send, so the browser transmits while this thread hashes; the state after each
    // chunk is kept until the chunk is acknowledged.
    hasher.update(chunk.bytes);
    this.#states.set(chunk.end, hasher.save());
  }

  /** @inheritdoc */
  acknowledged(offset: number): void {
    for (const at of [...this.#states.keys()]) if (at < offset) this.#states.delete(at);
  }

  /** @inheritdoc */
  stateAt(offset: number): string | null {
    const state = this.#states.get(offset);
    return state ? encodeBase64(state) : null;
  }

  /** @inheritdoc */
  checksum(): string | undefined {
    return this.#hasher?.checksum();
  }

  /** @inheritdoc */
  forget(): void {
    this.#states.clear();
    this.#hasher?.reset();
  }
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
