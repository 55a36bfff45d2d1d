import { createSHA256, type IHasher } from 'hash-wasm';
import { encodeBase64 } from './file-source.ts';

/**
 * An incremental SHA-256 whose state can be saved and loaded, so that the digest of a file survives a
 * reconnect and a page reload. hash-wasm's WebAssembly SHA-256 took about 4.5 ms per 256 KiB chunk even on a
 * heavily loaded machine, inside one frame, so it runs on the main thread as chunks are sent, without a Worker
 * (see docs/protocol.md, "Measurements").
 */
export class Sha256 {
  readonly #hasher: IHasher;
  #offset = 0;

  private constructor(hasher: IHasher) {
    this.#hasher = hasher;
  }

  /**
   * @returns a hasher at offset 0
   */
  static async create(): Promise<Sha256> {
    const hasher = await createSHA256();
    hasher.init();
    return new Sha256(hasher);
  }

  /** Bytes hashed so far. */
  get offset(): number {
    return this.#offset;
  }

  /**
   * Adds the next bytes of the file.
   *
   * @param bytes - bytes that follow those already hashed
   */
  update(bytes: Uint8Array): void {
    this.#hasher.update(bytes);
    this.#offset += bytes.byteLength;
  }

  /** @returns the state after {@link Sha256.offset} bytes, to {@link Sha256.load} later */
  save(): Uint8Array {
    return this.#hasher.save();
  }

  /**
   * Continues from a saved state.
   *
   * @param state - from {@link Sha256.save}
   * @param offset - the bytes that state covers
   */
  load(state: Uint8Array, offset: number): void {
    this.#hasher.load(state);
    this.#offset = offset;
  }

  /** Starts over at offset 0. */
  reset(): void {
    this.#hasher.init();
    this.#offset = 0;
  }

  /** @returns `sha256:<base64>` of the bytes hashed so far, as FIN carries it; the hasher is left as it was */
  checksum(): string {
    const state = this.#hasher.save();
    const digest = this.#hasher.digest('binary');
    this.#hasher.load(state);
    return `sha256:${encodeBase64(digest)}`;
  }
}
