/**
 * The block digests of one file (`sha256-blocks`, docs/protocol.md "Block integrity"), computed ahead of the
 * send loop from what the read-ahead already read: the file is read once. The usual way
 * ({@link BlockHasher.readUnit}): the file source reads whole blocks into one buffer each and hands each to
 * the hasher before any chunk is cut from it, so a block is hashed without joining its chunks, in the digest
 * Worker (block-digest.ts) while earlier blocks are on the wire. Chunks that do not divide the block fall
 * back to {@link BlockHasher.reading} (the block's chunks joined, then hashed); a block no read covered (it
 * is asked for before its chunks were read) is read on its own. Digests are kept (32 bytes a block) for the
 * content hash and for reconnections; nothing else is kept, so a resume needs no hash state.
 *
 * Measured (bench, issue 11): reading each block a second time with `Blob.arrayBuffer()` cost about as much
 * browser CPU per byte as the upload's own read; joining a block's chunks cost ~4 ms per 4 MiB and WebCrypto's
 * digest ~11 ms of the calling thread, which on the main thread halved the upload.
 */
import { BlockLayout, contentHashInput, formatContentHash } from '../protocol/index.ts';
import { mainThreadBlockDigest, type BlockDigest } from './block-digest.ts';
import type { Chunk, ReadUnit } from './file-source.ts';

/** WebCrypto's digest, as `crypto.subtle` has it. */
export type Digest = (algorithm: 'SHA-256', data: BufferSource) => Promise<ArrayBuffer>;

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
  readonly #blockDigest: BlockDigest;
  readonly #digests = new Map<number, Promise<Uint8Array>>();
  /** The block whose chunks are being read: the parts so far and the byte after them. */
  #collecting: { block: number; parts: Promise<Uint8Array>[]; next: number } | null = null;
  /**
   * What the file source is to read at once (a block), and the hook each read passes through before chunks
   * are cut from it: a read that is exactly one block is hashed there, and the chunks wait for its bytes to
   * come back from the digest (SUM goes before the block's first chunk anyway).
   */
  readonly readUnit: ReadUnit;

  /**
   * @param file - the file
   * @param block - the granted block size
   * @param digest - SHA-256 (WebCrypto's)
   * @param blockDigest - SHA-256 of a whole block read at once (default: `digest` on this thread)
   */
  constructor(
    file: Blob,
    block: number,
    digest: Digest,
    blockDigest: BlockDigest = mainThreadBlockDigest(digest),
  ) {
    this.layout = new BlockLayout(file.size, block);
    this.#file = file;
    this.#digest = digest;
    this.#blockDigest = blockDigest;
    this.readUnit = { size: block, inspect: (start, end, bytes) => this.#inspect(start, end, bytes) };
  }

  /**
   * A chunk the read-ahead started reading, in file order: its bytes go to the digest of each block it
   * covers, and a block is hashed once its last chunk is read.
   *
   * @param chunk - the read
   * @param start - its first byte
   * @param end - the byte after its last
   */
  reading(chunk: Promise<Chunk>, start: number, end: number): void {
    const { layout } = this;
    for (let at = start; at < end;) {
      const block = layout.indexOf(at);
      const blockEnd = layout.end(block);
      const upTo = Math.min(end, blockEnd);
      let collecting = this.#collecting;
      if (collecting?.block !== block || collecting.next !== at) {
        // Only a block read from its first byte is hashed from the reads (a resume may start inside one).
        collecting = this.#collecting =
          at === layout.start(block) && !this.#digests.has(block) ? { block, parts: [], next: at } : null;
      }
      if (collecting) {
        const [from, to] = [at - start, upTo - start];
        const part = chunk.then((read) => read.bytes.subarray(from, to));
        // A read dropped by a pause or a cut rejects; a block it leaves unfinished is never awaited.
        part.catch(() => undefined);
        collecting.parts.push(part);
        collecting.next = upTo;
        if (upTo === blockEnd) {
          this.#keep(block, this.#hashParts(collecting.parts, blockEnd - layout.start(block)));
          this.#collecting = null;
        }
      }
      at = upTo;
    }
  }

  /**
   * A block's digest: hashed from the reads when they covered it, else read from the file now.
   *
   * @param index - the block
   * @returns its SHA-256 (rejects when the file cannot be read)
   */
  digest(index: number): Promise<Uint8Array> {
    return this.#digests.get(index) ?? this.#readAndHash(index);
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
    this.#collecting = null;
  }

  /** A read of one whole block is hashed as it is, ahead of its chunks (see {@link BlockHasher.readUnit}). */
  #inspect(
    start: number,
    end: number,
    read: Promise<Uint8Array<ArrayBuffer>>,
  ): Promise<Uint8Array<ArrayBuffer>> {
    const { layout } = this;
    const block = layout.indexOf(start);
    if (start !== layout.start(block) || end !== layout.end(block) || this.#digests.has(block)) {
      return read;
    }
    const hashed = read.then((bytes) =>
      this.#blockDigest(bytes).catch(async () => {
        // The worker died holding the buffer: read the block again and hash it here.
        const again = new Uint8Array(await this.#file.slice(start, end).arrayBuffer());
        return mainThreadBlockDigest(this.#digest)(again);
      }),
    );
    this.#keep(
      block,
      hashed.then((done) => done.digest),
    );
    return hashed.then((done) => done.bytes);
  }

  async #hashParts(parts: Promise<Uint8Array>[], length: number): Promise<Uint8Array> {
    const bytes = await Promise.all(parts);
    let whole = bytes[0]!;
    if (bytes.length > 1) {
      // WebCrypto has no incremental digest: the block's chunks are joined (one copy, a few ms per 4 MiB).
      whole = new Uint8Array(length);
      let at = 0;
      for (const part of bytes) {
        whole.set(part, at);
        at += part.byteLength;
      }
    }
    return new Uint8Array(await this.#digest('SHA-256', whole as Uint8Array<ArrayBuffer>));
  }

  #readAndHash(index: number): Promise<Uint8Array> {
    const { layout } = this;
    const read = this.#file.slice(layout.start(index), layout.end(index)).arrayBuffer();
    return this.#keep(
      index,
      read.then((bytes) => this.#digest('SHA-256', bytes)).then((hash) => new Uint8Array(hash)),
    );
  }

  /** Keeps a digest being computed; a failed one is not kept, so the next ask computes it again. */
  #keep(index: number, digest: Promise<Uint8Array>): Promise<Uint8Array> {
    digest.catch(() => this.#digests.get(index) === digest && this.#digests.delete(index));
    this.#digests.set(index, digest);
    return digest;
  }
}
