import { createSHA256, type IHasher } from 'hash-wasm';
import { encodeBase64 } from './file-source.ts';

/**
 * The one WebAssembly SHA-256 every {@link Sha256} runs on. hash-wasm instantiates a module (with its own
 * memory) per hasher; a queue of hundreds of small files would pay that, and the garbage it leaves, once per
 * file on the main thread. Each Sha256 keeps its own state and loads it before using the shared instance;
 * each use is synchronous, so transfers running side by side never see each other's state.
 */
let shared: Promise<IHasher> | null = null;

function sharedHasher(): Promise<IHasher> {
  if (!shared) {
    const created = createSHA256();
    shared = created;
    // A failed load (WebAssembly refused, say) is not kept: the next upload tries again.
    created.catch(() => {
      if (shared === created) shared = null;
    });
  }
  return shared;
}

/**
 * An incremental SHA-256 whose state can be saved and loaded, so that the digest of a file survives a
 * reconnect and a page reload. hash-wasm's WebAssembly SHA-256 took about 4.5 ms per 256 KiB chunk even on a
 * heavily loaded machine, inside one frame, so it runs on the main thread as chunks are sent, without a Worker
 * (see docs/protocol.md, "Measurements").
 */
export class Sha256 {
  readonly #hasher: IHasher;
  /** The state after {@link Sha256.offset} bytes, as hash-wasm saves it; replaced, never written to. */
  #state: Uint8Array;
  #offset = 0;

  private constructor(hasher: IHasher, state: Uint8Array) {
    this.#hasher = hasher;
    this.#state = state;
  }

  /**
   * @returns a hasher at offset 0
   */
  static async create(): Promise<Sha256> {
    const hasher = await sharedHasher();
    hasher.init();
    return new Sha256(hasher, hasher.save());
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
    const hasher = this.#hasher;
    hasher.load(this.#state);
    hasher.update(bytes);
    this.#state = hasher.save();
    this.#offset += bytes.byteLength;
  }

  /** @returns the state after {@link Sha256.offset} bytes, to {@link Sha256.load} later */
  save(): Uint8Array {
    return this.#state;
  }

  /**
   * Continues from a saved state.
   *
   * @param state - from {@link Sha256.save}
   * @param offset - the bytes that state covers
   * @throws Error when the state was not saved by this SHA-256 (checked now, not at the next update)
   */
  load(state: Uint8Array, offset: number): void {
    this.#hasher.load(state);
    this.#state = state;
    this.#offset = offset;
  }

  /** Starts over at offset 0. */
  reset(): void {
    this.#hasher.init();
    this.#state = this.#hasher.save();
    this.#offset = 0;
  }

  /** @returns `sha256:<base64>` of the bytes hashed so far, as FIN carries it; the hasher is left as it was */
  checksum(): string {
    const hasher = this.#hasher;
    hasher.load(this.#state);
    return `sha256:${encodeBase64(hasher.digest('binary'))}`;
  }
}
