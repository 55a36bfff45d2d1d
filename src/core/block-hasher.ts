/**
 * The block digests of one file (`sha256-blocks`, docs/protocol.md "Block integrity"), computed ahead of the
 * send loop: each block is read on its own (`Blob.slice().arrayBuffer()`) and hashed by WebCrypto
 * (`crypto.subtle.digest`, which Chromium runs off the main thread), {@link HASH_AHEAD} blocks at a time, so
 * hashing overlaps with reading and sending instead of queueing behind them. Digests are kept (32 bytes a
 * block) for the content hash and for reconnections; nothing else is kept, so a resume needs no hash state.
 */
import { BlockLayout, contentHashInput, formatContentHash } from '../protocol/index.ts';

/** Blocks hashed ahead of the one the send loop needs: with 4 MiB blocks, 16 MiB read and hashed ahead. */
export const HASH_AHEAD = 4;

/** WebCrypto's digest, as `crypto.subtle` has it. */
export type Digest = (algorithm: 'SHA-256', data: ArrayBuffer) => Promise<ArrayBuffer>;

/**
 * WebCrypto's SHA-256 where this context has it: `crypto.subtle` is missing in an insecure context
 * (plain http:// other than localhost).
 *
 * @param scope - where to look (default `globalThis`)
 * @returns the digest function, or null
 */
export function webCryptoDigest(scope: { crypto?: { subtle?: SubtleCrypto } } = globalThis): Digest | null {
  const subtle = scope.crypto?.subtle;
  return subtle && typeof subtle.digest === 'function'
    ? (algorithm, data) => subtle.digest(algorithm, data)
    : null;
}

/** The digests of one file's blocks, hashed ahead on demand. */
export class BlockHasher {
  readonly layout: BlockLayout;
  readonly #file: Blob;
  readonly #digest: Digest;
  readonly #digests = new Map<number, Promise<Uint8Array>>();

  /**
   * @param file - the file
   * @param block - the granted block size
   * @param digest - SHA-256 (WebCrypto's)
   */
  constructor(file: Blob, block: number, digest: Digest) {
    this.layout = new BlockLayout(file.size, block);
    this.#file = file;
    this.#digest = digest;
  }

  /**
   * A block's digest, with the next {@link HASH_AHEAD} blocks started as well.
   *
   * @param index - the block
   * @returns its SHA-256 (rejects when the file cannot be read)
   */
  digest(index: number): Promise<Uint8Array> {
    const last = Math.min(this.layout.count - 1, index + HASH_AHEAD);
    for (let ahead = index + 1; ahead <= last; ahead++) this.#start(ahead);
    return this.#start(index);
  }

  /**
   * The content hash, when every block's digest was computed (a fresh upload, a reconnect on this page).
   *
   * @returns `sha256-blocks:<base64>`, or undefined when some blocks were verified before a reload and not
   *   hashed here
   */
  async contentHash(): Promise<string | undefined> {
    const digests: Uint8Array[] = [];
    for (let index = 0; index < this.layout.count; index++) {
      const digest = this.#digests.get(index);
      if (!digest) return undefined;
      digests.push(await digest);
    }
    return formatContentHash(
      new Uint8Array(await this.#digest('SHA-256', contentHashInput(digests).buffer as ArrayBuffer)),
    );
  }

  /** Drops every digest: a different upload of the file starts. */
  forget(): void {
    this.#digests.clear();
  }

  #start(index: number): Promise<Uint8Array> {
    let digest = this.#digests.get(index);
    if (!digest) {
      const { layout } = this;
      const read = this.#file.slice(layout.start(index), layout.end(index)).arrayBuffer();
      digest = read.then((bytes) => this.#digest('SHA-256', bytes)).then((hash) => new Uint8Array(hash));
      // A failed read is not kept: the next ask reads the block again.
      digest.catch(() => this.#digests.get(index) === digest && this.#digests.delete(index));
      this.#digests.set(index, digest);
    }
    return digest;
  }
}
