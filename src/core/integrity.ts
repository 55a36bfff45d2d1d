/**
 * Integrity: what the transfer sends so that the server can verify the upload, when the conversation agreed
 * on it. One interface, two implementations: {@link BlockIntegrity} (`sha256-blocks`: a `SUM` before each
 * block, a damaged block sent again after `BLK`, the content hash with FIN) and {@link NO_INTEGRITY}, the
 * null object used when nothing was agreed (v1, `checksum: false`, no WebCrypto, a server that does not
 * check blocks).
 */
import { formatBlk, formatSum } from '../protocol/index.ts';
import type { BlockDigest } from './block-digest.ts';
import { BlockHasher, type Digest } from './block-hasher.ts';
import type { ReadHook } from './chunk-pump.ts';
import { READ_AHEAD } from './read-ahead.ts';
import type { Chunk } from './file-source.ts';
import { encodeBase64 } from './file-source.ts';

/** What the transfer asks of the integrity it agreed. */
export interface Integrity {
  /**
   * The frames to send before a chunk: the `SUM` of each block that starts within it.
   *
   * @param chunk - the chunk about to be sent
   * @returns the SUM frames (once the blocks are hashed), or null when no block starts in the chunk
   */
  before(chunk: Chunk): Promise<string[]> | null;
  /** @param blocks - the server found these blocks damaged (the ack's `resend`) */
  damaged(blocks: readonly number[]): void;
  /**
   * The frames that send the damaged blocks again: `BLK`, then the block in chunks; taken once.
   *
   * @param chunkSize - bytes per frame
   * @returns the frames, in order, for every block not sent again yet
   */
  resendFrames(chunkSize: number): Promise<(string | ArrayBuffer)[]>;
  /**
   * The server's answer to a block sent again.
   *
   * @param block - the block
   * @param verified - false: it arrived damaged again and is to be sent once more
   */
  answered(block: number, verified: boolean): void;
  /** Whether a damaged block is not yet verified: FIN waits, and a BLK answer may come. */
  readonly unsettled: boolean;
  /** A new connection: the server's offset is at or before every damaged block, so they are sent anyway. */
  reconnected(): void;
  /** @returns the FIN checksum (`sha256-blocks:<base64>`) when every block digest is known, else undefined */
  checksum(): Promise<string | undefined>;
  /** What the read-ahead is to do for it (read deeper, and hand over every read), or null. */
  readonly reads: ReadHook | null;
}

/** Nothing agreed: nothing to send, nothing to wait for. */
export const NO_INTEGRITY: Integrity = Object.freeze({
  before: () => null,
  damaged: () => undefined,
  resendFrames: () => Promise.resolve([]),
  answered: () => undefined,
  unsettled: false,
  reconnected: () => undefined,
  checksum: () => Promise.resolve(undefined),
  reads: null,
});

/** `sha256-blocks`: block digests hashed ahead (block-hasher.ts), damaged blocks sent again. */
export class BlockIntegrity implements Integrity {
  readonly #hasher: BlockHasher;
  readonly #file: Blob;
  /** Damaged blocks, and whether each was sent again and awaits its answer. */
  readonly #damaged = new Map<number, 'due' | 'sent'>();
  /**
   * Two blocks read ahead: a block is hashed once its last chunk is read, while the one before it is sent,
   * so its SUM is ready when its first chunk is due.
   */
  readonly reads: ReadHook;

  /**
   * @param file - the file
   * @param block - the granted block size
   * @param digest - WebCrypto's SHA-256
   * @param blockDigest - SHA-256 of a whole block (default: `digest` on this thread)
   */
  constructor(file: Blob, block: number, digest: Digest, blockDigest?: BlockDigest) {
    this.#file = file;
    const hasher = (this.#hasher = new BlockHasher(file, block, digest, blockDigest));
    this.reads = {
      depth: Math.max(READ_AHEAD, 2 * block),
      watch: (chunk, start, end) => hasher.reading(chunk, start, end),
      unit: hasher.readUnit,
    };
  }

  /** The granted block size. */
  get block(): number {
    return this.#hasher.layout.block;
  }

  /** @inheritdoc */
  before(chunk: Chunk): Promise<string[]> | null {
    const { layout } = this.#hasher;
    // Blocks whose first byte is in [start, end): usually one at a block's start, none inside a block.
    const first = Math.ceil(chunk.start / layout.block);
    const last = Math.ceil(chunk.end / layout.block) - 1;
    if (first > last) return null;
    const sums: Promise<string>[] = [];
    for (let block = first; block <= last; block++) {
      sums.push(
        this.#hasher.digest(block).then((digest) => formatSum({ block, sha256: encodeBase64(digest) })),
      );
    }
    return Promise.all(sums);
  }

  /** @inheritdoc */
  damaged(blocks: readonly number[]): void {
    const count = this.#hasher.layout.count;
    for (const block of blocks) {
      if (Number.isSafeInteger(block) && block >= 0 && block < count) this.#damaged.set(block, 'due');
    }
  }

  /** @inheritdoc */
  async resendFrames(chunkSize: number): Promise<(string | ArrayBuffer)[]> {
    const frames: (string | ArrayBuffer)[] = [];
    const { layout } = this.#hasher;
    for (const [block, state] of this.#damaged) {
      if (state !== 'due') continue;
      this.#damaged.set(block, 'sent');
      const bytes = await this.#file.slice(layout.start(block), layout.end(block)).arrayBuffer();
      frames.push(formatBlk({ block }));
      for (let at = 0; at < bytes.byteLength; at += chunkSize) frames.push(bytes.slice(at, at + chunkSize));
    }
    return frames;
  }

  /** @inheritdoc */
  answered(block: number, verified: boolean): void {
    if (!this.#damaged.has(block)) return;
    if (verified) this.#damaged.delete(block);
    else this.#damaged.set(block, 'due');
  }

  /** @inheritdoc */
  get unsettled(): boolean {
    return this.#damaged.size > 0;
  }

  /** @inheritdoc */
  reconnected(): void {
    this.#damaged.clear();
  }

  /** @inheritdoc */
  checksum(): Promise<string | undefined> {
    return this.#hasher.contentHash();
  }
}
