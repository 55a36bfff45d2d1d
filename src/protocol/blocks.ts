/**
 * Block integrity (`sha256-blocks`, docs/protocol.md "Block integrity"): the file is cut into blocks of the
 * granted size, the client sends each block's SHA-256 (`SUM`) before the block's first byte, the server
 * checks each block as it completes and asks for a damaged one again (`resend` in the DATA ack; the client
 * sends it again after `BLK`). The file's content hash is the SHA-256 of the block digests concatenated,
 * so either side computes it from the digests it already has, without a hash state to save.
 *
 * This module holds the wire forms (parse/format of SUM and BLK, the content-hash string) and the block
 * arithmetic; hashing itself is each side's (WebCrypto in the browser, node:crypto on the server).
 */
import { fail, ok, type ParseResult } from './errors.ts';

/** The algorithm name in `checksum` offers and grants. */
export const BLOCKS_ALGORITHM = 'sha256-blocks';
/** The block size a client offers by default: 4 MiB, as Dropbox's content hash. */
export const DEFAULT_BLOCK = 4 * 1024 * 1024;
/** The smallest block size a server grants. */
export const MIN_BLOCK = 64 * 1024;
/** The largest block size a server grants (a block is re-read whole when it is sent again). */
export const MAX_BLOCK = 64 * 1024 * 1024;

/** `SUM: {"block": n, "sha256": "<base64>"}`: the SHA-256 of block n, sent before its first byte. */
export interface SumCommand {
  command: 'SUM';
  block: number;
  /** 44 characters of base64: 32 bytes. */
  sha256: string;
}

/** `BLK: {"block": n}`: the next binary frames (the block's length in all) are block n again. */
export interface BlkCommand {
  command: 'BLK';
  block: number;
}

const DIGEST_RE = /^[A-Za-z0-9+/]{43}=$/;

function blockIndex(value: unknown, command: string): ParseResult<number> {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
    ? ok(value)
    : fail('badField', `${command} "block" must be a non-negative integer.`);
}

/**
 * @param body - the parsed JSON body of a SUM command
 * @returns the command, or a 400 error
 */
export function parseSum(body: Record<string, unknown>): ParseResult<SumCommand> {
  const block = blockIndex(body.block, 'SUM');
  if (!block.ok) return block;
  if (typeof body.sha256 !== 'string' || !DIGEST_RE.test(body.sha256)) {
    return fail('badField', 'SUM "sha256" must be 44 characters of base64 (32 bytes).');
  }
  return ok({ command: 'SUM', block: block.value, sha256: body.sha256 });
}

/**
 * @param body - the parsed JSON body of a BLK command
 * @returns the command, or a 400 error
 */
export function parseBlk(body: Record<string, unknown>): ParseResult<BlkCommand> {
  const block = blockIndex(body.block, 'BLK');
  return block.ok ? ok({ command: 'BLK', block: block.value }) : block;
}

/**
 * @param sum - the block and its digest (base64)
 * @returns the text frame `SUM: {"block":n,"sha256":"..."}`
 */
export function formatSum(sum: Omit<SumCommand, 'command'>): string {
  return `SUM: ${JSON.stringify({ block: sum.block, sha256: sum.sha256 })}`;
}

/**
 * @param blk - the block sent again
 * @returns the text frame `BLK: {"block":n}`
 */
export function formatBlk(blk: Omit<BlkCommand, 'command'>): string {
  return `BLK: ${JSON.stringify({ block: blk.block })}`;
}

/** The blocks of a file of `size` bytes: [start, end) of block `index`, and how many there are. */
export class BlockLayout {
  readonly size: number;
  readonly block: number;

  /**
   * @param size - the file's size
   * @param block - the granted block size
   */
  constructor(size: number, block: number) {
    this.size = size;
    this.block = block;
  }

  /** How many blocks the file has (0 for an empty file). */
  get count(): number {
    return Math.ceil(this.size / this.block);
  }

  /** @param index - a block @returns its first byte */
  start(index: number): number {
    return index * this.block;
  }

  /** @param index - a block @returns the byte after its last */
  end(index: number): number {
    return Math.min((index + 1) * this.block, this.size);
  }

  /** @param offset - a byte offset @returns the block it falls in */
  indexOf(offset: number): number {
    return Math.floor(offset / this.block);
  }
}

/**
 * The bytes the content hash is the SHA-256 of: the block digests, 32 bytes each, in block order.
 *
 * @param digests - every block's SHA-256
 * @returns their concatenation
 */
export function contentHashInput(digests: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(digests.length * 32);
  digests.forEach((digest, index) => joined.set(digest, index * 32));
  return joined;
}

/**
 * @param digest - the SHA-256 of {@link contentHashInput}
 * @returns `sha256-blocks:<base64>` as FIN carries it
 */
export function formatContentHash(digest: Uint8Array): string {
  let binary = '';
  for (const byte of digest) binary += String.fromCharCode(byte);
  return `${BLOCKS_ALGORITHM}:${btoa(binary)}`;
}
