/**
 * Block integrity on the server (`sha256-blocks`, docs/protocol.md "Block integrity"): one verifier per
 * upload and connection. The client's `SUM` for a block arrives before the block's first byte; the block's
 * bytes are hashed as they are written, and the block is checked the moment it is complete. A damaged block
 * is asked for again (`resend` in the ack); the client sends it after `BLK`, and it is written again in
 * place. A block that stays damaged {@link MAX_BLOCK_ATTEMPTS} times ends the upload (422, discarded).
 * FIN is taken only once every block is verified, so nothing unverified is ever committed.
 *
 * The verifier keeps no hash state beyond the block in progress: what a resume needs is the verified
 * offset (block-aligned), which the partial upload keeps.
 */
import { createHash, type Hash } from 'node:crypto';
import {
  BlockLayout,
  contentHashInput,
  formatContentHash,
  Status,
  type SumCommand,
} from '../protocol/index.ts';
import { ThreadedSha256 } from './hash-thread.ts';
import { Refusal } from './refusal.ts';

/**
 * What outlives one connection while the server runs, by partial upload: a resume on the same server then
 * continues in the middle of the block in progress (no block sent again) and can check the FIN's content
 * hash. After a restart only the verified offset is known, and a resume continues from there.
 */
interface KeptBlocks {
  /** Verified blocks' digests. */
  verified: Map<number, Buffer>;
  /** The client's digests (raw 32 bytes) of blocks not verified yet. */
  claims: Map<number, Buffer>;
  /** The appended block in progress: its index, running hash, and the byte after the last one hashed. */
  current: { block: number; hash: Hash; end: number } | null;
  /**
   * The whole file's SHA-256 of `[0, end)`, hashed on the hashing thread as chunks are appended, for the FIN
   * answer; null once it cannot be continued (a damaged block was written, a resume after a restart): FIN
   * then reads the file back.
   */
  whole: { hash: ThreadedSha256; end: number } | null;
}
const kept = new WeakMap<object, KeptBlocks>();

function keptFor(upload: object): KeptBlocks {
  let blocks = kept.get(upload);
  if (!blocks)
    kept.set(upload, (blocks = { verified: new Map(), claims: new Map(), current: null, whole: null }));
  return blocks;
}

/** How many times one block may arrive damaged before the upload fails (the first arrival included). */
export const MAX_BLOCK_ATTEMPTS = 3;

/** What became of a block that just completed: verified, to be sent again, or the upload's end. */
export type BlockVerdict =
  | { kind: 'verified'; block: number }
  | { kind: 'resend'; block: number }
  | { kind: 'refused'; refusal: Refusal };

/** A block being written again after `BLK`. */
interface Patch {
  block: number;
  /** The next byte of the block expected. */
  at: number;
  hash: Hash;
}

/** One upload's block checks on one connection. */
export class BlockVerifier {
  readonly layout: BlockLayout;
  /** Claims, verified digests and the block in progress, shared with later connections to the upload. */
  readonly #kept: KeptBlocks;
  readonly #claims: Map<number, Buffer>;
  readonly #verified: Map<number, Buffer>;
  /** Damaged blocks waiting to be sent again, with their attempts so far. */
  readonly #damaged = new Map<number, number>();
  /** Blocks below this were verified before this connection (their digests are not here). */
  readonly #verifiedBefore: number;
  #patch: Patch | null = null;

  /**
   * @param size - the file's size
   * @param block - the granted block size
   * @param offset - where appending continues: the end of the verified blocks, or inside the block in
   *   progress (from {@link BlockVerifier.resumeOffset})
   * @param upload - the partial upload, whose claims and digests are kept for the next connection
   */
  constructor(size: number, block: number, offset: number, upload: object) {
    this.layout = new BlockLayout(size, block);
    // At the size every block is behind the offset: indexOf(size) would name the last block of a file whose
    // size is not a multiple of the block, and forget that block's verdict below.
    this.#verifiedBefore = offset >= size ? this.layout.count : this.layout.indexOf(offset);
    this.#kept = keptFor(upload);
    this.#claims = this.#kept.claims;
    this.#verified = this.#kept.verified;
    // Digests of blocks at or past the offset belong to bytes that will be sent again.
    for (const index of this.#verified.keys())
      if (index >= this.#verifiedBefore) this.#verified.delete(index);
    if (this.#kept.current?.end !== offset) this.#kept.current = null;
    if (offset === 0 && this.#kept.whole?.end !== 0) this.#restartWhole(new ThreadedSha256());
    else if (this.#kept.whole?.end !== offset) this.#restartWhole(null);
  }

  /**
   * The offset a resume continues from: the end of the verified blocks, all of them contiguous from 0; or,
   * on the same server, what it holds when that is inside the block in progress, hashed so far.
   *
   * @param size - the file's size
   * @param block - the block size
   * @param held - bytes the store holds
   * @param verified - bytes an earlier connection verified
   * @param upload - the partial upload
   * @returns the offset the client sends from
   */
  static resumeOffset(size: number, block: number, held: number, verified: number, upload: object): number {
    const offset = Math.min(held, verified);
    if (offset >= size) return size;
    const aligned = Math.floor(offset / block) * block;
    const current = kept.get(upload)?.current;
    const inProgress = current && current.block === aligned / block && current.end === held;
    return inProgress && held < size ? held : aligned;
  }

  /** Bytes from 0 verified without a gap: where a later resume may continue. */
  get verifiedOffset(): number {
    const { layout } = this;
    let block = this.#verifiedBefore;
    while (block < layout.count && this.#verified.has(block)) block++;
    return block >= layout.count ? layout.size : layout.start(block);
  }

  /** A block is being written again: frames go to {@link BlockVerifier.patchFrame}. */
  get patching(): boolean {
    return this.#patch !== null;
  }

  /**
   * Takes a block's digest, sent right before the chunk the block starts in: frames are handled in order,
   * so the block then starts within the next chunk (`maxChunk` bytes). That also bounds what a client can
   * make the server keep (the claims of one chunk ahead, plus the damaged blocks).
   *
   * @param sum - the SUM command
   * @param received - the bytes held
   * @param maxChunk - the largest chunk agreed
   * @returns a refusal for a digest that cannot be taken, else null
   */
  claim(sum: SumCommand, received: number, maxChunk: number): Refusal | null {
    const { block } = sum;
    const ahead = this.layout.start(block) - received;
    if (block >= this.layout.count || ahead < 0 || ahead >= maxChunk || this.#verified.has(block)) {
      return new Refusal('DATA', Status.badRequest, `SUM for block ${block}, which is not awaited.`);
    }
    this.#claims.set(block, Buffer.from(sum.sha256, 'base64'));
    return null;
  }

  /**
   * Hashes an appended chunk; checks the block it completes.
   *
   * @param chunk - the bytes just written
   * @param start - their first byte's offset in the file
   * @returns the verdicts of the blocks the chunk completed (none, usually), or a refusal
   */
  appended(chunk: Buffer, start: number): BlockVerdict[] {
    const whole = this.#kept.whole;
    if (whole?.end === start) {
      whole.hash.update(chunk);
      whole.end += chunk.byteLength;
    } else if (whole) this.#restartWhole(null);
    const verdicts: BlockVerdict[] = [];
    let at = 0;
    while (at < chunk.byteLength) {
      const block = this.layout.indexOf(start + at);
      if (!this.#claims.has(block)) {
        const message = `Block ${block} arrived before its SUM.`;
        return [{ kind: 'refused', refusal: new Refusal('DATA', Status.badRequest, message) }];
      }
      let current = this.#kept.current;
      if (current?.block !== block || current.end !== start + at) {
        current = this.#kept.current = { block, hash: createHash('sha256'), end: start + at };
      }
      const end = this.layout.end(block);
      const take = Math.min(chunk.byteLength - at, end - (start + at));
      current.hash.update(chunk.subarray(at, at + take));
      at += take;
      current.end = start + at;
      if (current.end === end) {
        this.#kept.current = null;
        verdicts.push(this.#judge(block, current.hash.digest(), 'DATA'));
      }
    }
    return verdicts;
  }

  /**
   * `BLK`: the block is sent again.
   *
   * @param block - the block
   * @returns a refusal when that block is not waiting to be sent again, else null
   */
  beginPatch(block: number): Refusal | null {
    if (this.#patch || !this.#damaged.has(block)) {
      return new Refusal('BLK', Status.badRequest, `BLK for block ${block}, which was not asked for.`);
    }
    this.#patch = { block, at: this.layout.start(block), hash: createHash('sha256') };
    return null;
  }

  /**
   * Where the next frame of the block sent again goes, checked against what is left of the block.
   *
   * @param length - the frame's size
   * @returns the file position to write it at, or a refusal
   */
  patchPosition(length: number): number | Refusal {
    const patch = this.#patch!;
    if (length > this.layout.end(patch.block) - patch.at) {
      return new Refusal('BLK', Status.badRequest, `Frame beyond the end of block ${patch.block}.`);
    }
    return patch.at;
  }

  /**
   * Hashes a frame of the block sent again, once written; checks the block when it is complete.
   *
   * @param frame - the bytes written at {@link BlockVerifier.patchPosition}
   * @returns the verdict once the block is complete, else null
   */
  patched(frame: Buffer): BlockVerdict | null {
    const patch = this.#patch!;
    patch.hash.update(frame);
    patch.at += frame.byteLength;
    if (patch.at < this.layout.end(patch.block)) return null;
    this.#patch = null;
    return this.#judge(patch.block, patch.hash.digest(), 'BLK');
  }

  /**
   * The whole file's SHA-256, when it was hashed on the hashing thread as the file came in order.
   *
   * @returns the digest (rejects when that thread failed), or null: the caller reads the file back
   */
  fileSha256(): Promise<Buffer> | null {
    const whole = this.#kept.whole;
    if (whole?.end !== this.layout.size) return null;
    this.#kept.whole = null;
    return whole.hash.digest();
  }

  /** @returns resolves once the hashing thread has room for more bytes */
  room(): Promise<void> {
    return this.#kept.whole?.hash.room() ?? Promise.resolve();
  }

  /**
   * For FIN: whether every block was verified in this connection or before it.
   *
   * @returns a refusal (the upload stays resumable) when one is not, else null
   */
  unverified(): Refusal | null {
    if (this.verifiedOffset >= this.layout.size && !this.#patch && this.#damaged.size === 0) return null;
    return new Refusal('FIN', Status.badRequest, 'FIN before every block was verified.');
  }

  /**
   * The content hash, when every block's digest is known here (a fresh upload, or a resume from 0).
   *
   * @returns `sha256-blocks:<base64>`, or undefined when a block was verified before a restart
   */
  contentHash(): string | undefined {
    const digests: Buffer[] = [];
    for (let block = 0; block < this.layout.count; block++) {
      const digest = this.#verified.get(block);
      if (!digest) return undefined;
      digests.push(digest);
    }
    return formatContentHash(createHash('sha256').update(contentHashInput(digests)).digest());
  }

  /** `answerType`: the answer a refusal goes in (the chunk's DATA, or the BLK of a block sent again). */
  #judge(block: number, digest: Buffer, answerType: 'DATA' | 'BLK'): BlockVerdict {
    if (digest.equals(this.#claims.get(block)!)) {
      this.#verified.set(block, digest);
      this.#damaged.delete(block);
      this.#claims.delete(block);
      return { kind: 'verified', block };
    }
    const attempts = (this.#damaged.get(block) ?? 0) + 1;
    if (attempts >= MAX_BLOCK_ATTEMPTS) {
      const message = `Block ${block} arrived damaged ${attempts} times: the upload is given up.`;
      return {
        kind: 'refused',
        refusal: new Refusal(answerType, Status.checksumMismatch, message, { discard: true }),
      };
    }
    this.#damaged.set(block, attempts);
    // The whole-file hash took the damaged bytes: FIN will read the file back.
    this.#restartWhole(null);
    return { kind: 'resend', block };
  }

  #restartWhole(hash: ThreadedSha256 | null): void {
    this.#kept.whole?.hash.drop();
    this.#kept.whole = hash && { hash, end: 0 };
  }
}
