/**
 * One upload of the {@link S3Store}: a multipart upload on its final key, parts of `partSize` bytes, the
 * bytes after the last part as tail objects (s3-tail.ts), and the state object (s3-state.ts) rewritten,
 * conditionally, once per part. What a write acknowledges is in the bucket before `write` resolves:
 * - a chunk that completes no part is put as a tail object, then the state's ETag is checked to be still
 *   ours (HeadObject): the claim was held after the bytes were stored, so a takeover will read them;
 * - a chunk that completes a part: the bytes past the part go in a tail object first, then the part is
 *   uploaded, then the state records it with If-Match (which is the claim check).
 * The SHA-256 runs here (hash-wasm, whose state can be saved): its state at the end of the parts is in the
 * state object, so a node that takes over hashes only the tail (which it reads back anyway).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { IHasher } from 'hash-wasm';
import { RefusalError } from '../refusal.ts';
import type { PartialUpload } from './store.ts';
import { isNotFound, s3Failure } from './s3-client.ts';
import type { ObjectNames } from './s3-names.ts';
import { ClaimLost, type RecordedPart, type StateObjects, type UploadState } from './s3-state.ts';
import type { TailObjects } from './s3-tail.ts';

/** What an upload needs from its store. */
export interface S3UploadHost {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly states: StateObjects;
  readonly tails: TailObjects;
  readonly names: ObjectNames;
  readonly overwrite: boolean;
  /** Drops it from the uploads this node has open. */
  forget(id: string): void;
}

/** The refusal a node that lost its claim answers with. */
export function takenOver(): RefusalError {
  return new RefusalError({
    code: 409,
    message: 'This upload was taken over by another connection.',
    retryAfter: 1000,
  });
}

export class S3PartialUpload implements PartialUpload {
  readonly #host: S3UploadHost;
  readonly #state: UploadState;
  /** The state object's ETag as this node last wrote or read it: the claim. */
  #etag: string;
  readonly #hash: IHasher;
  /**
   * The bytes after the last part (`offset - partsEnd` of them), copied into one buffer of a part's size
   * that the next part is uploaded from; dropped when the connection lets go (a released upload may wait
   * for hours) and read back from the tail objects, whose keys are kept, when writing resumes.
   */
  #buffer: Buffer | undefined;
  #tailKeys: string[];
  #offset: number;
  #held = false;
  /** Set once the claim is lost, the upload committed or discarded: it writes nothing more. */
  #closed = false;

  constructor(
    host: S3UploadHost,
    state: UploadState,
    etag: string,
    hash: IHasher,
    tail: { chunks: Uint8Array[]; keys: string[]; end: number },
  ) {
    this.#host = host;
    this.#state = state;
    this.#etag = etag;
    this.#hash = hash;
    this.#tailKeys = tail.keys;
    this.#offset = tail.end;
    if (tail.chunks.length > 0) this.#fillBuffer(tail.chunks);
  }

  /** Allocates the buffer and copies `chunks` (the tail, in order) into it. */
  #fillBuffer(chunks: Uint8Array[]): Buffer {
    const buffer = Buffer.allocUnsafe(Math.min(this.#state.partSize, this.#state.size));
    let at = 0;
    for (const chunk of chunks) {
      buffer.set(chunk, at);
      at += chunk.byteLength;
    }
    if (at !== this.#offset - this.#state.partsEnd) throw new Error('The stored chunks changed.');
    this.#buffer = buffer;
    return buffer;
  }

  async #tailBuffer(): Promise<Buffer> {
    if (this.#buffer) return this.#buffer;
    if (this.#offset === this.#state.partsEnd) return this.#fillBuffer([]);
    return this.#fillBuffer(await this.#host.tails.readKeys(this.#tailKeys));
  }

  get id(): string {
    return this.#state.id;
  }
  get size(): number {
    return this.#state.size;
  }
  get filename(): string {
    return this.#state.filename;
  }
  get owner(): string | null {
    return this.#state.owner;
  }
  get offset(): number {
    return this.#offset;
  }
  get expiresAt(): number {
    return this.#state.resumable ? this.#state.expiresAt : Number.POSITIVE_INFINITY;
  }
  get held(): boolean {
    return this.#held;
  }
  /** @internal The ETag this node holds the claim with. */
  get etag(): string {
    return this.#etag;
  }
  /** @internal S3's UploadId (the sweep keeps it). */
  get multipartId(): string {
    return this.#state.multipartId;
  }
  /** @internal */
  get closed(): boolean {
    return this.#closed;
  }

  hold(): void {
    this.#held = true;
  }

  async release(): Promise<void> {
    try {
      if (this.#closed || !this.#state.resumable) return;
      this.#state.expiresAt = Date.now() + this.#state.ttl;
      await this.#saveState();
    } catch (error) {
      // Taken over meanwhile: the new holder's state stands.
      if (!(error instanceof RefusalError)) throw error;
    } finally {
      this.#held = false;
      // Its tail bytes are in the bucket: memory is not held for an upload nobody writes.
      this.#buffer = undefined;
    }
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#closed) throw takenOver();
    const state = this.#state;
    const start = this.#offset;
    const end = start + chunk.byteLength;
    if (end > state.size) throw new Error('More bytes than declared.');
    const tailBytes = start - state.partsEnd;
    const lastBoundary = partBoundaryAtOrBelow(state, end);
    try {
      const buffer = await this.#tailBuffer();
      if (lastBoundary <= state.partsEnd) {
        // No part completes: the chunk is a tail object, and the claim must still be ours after it.
        const key = await this.#host.tails.put(state.id, state.claim.gen, start, chunk);
        if ((await this.#host.states.etag(state.id)) !== this.#etag) throw new ClaimLost(state.id);
        this.#hash.update(chunk);
        buffer.set(chunk, tailBytes);
        this.#tailKeys.push(key);
        this.#offset = end;
        return;
      }
      // Checked before a part goes up too: a part uploaded by a node that lost its claim would replace the
      // new holder's part of that number (harmless when the bytes are the same, as when one client's old
      // connection lingers; with other bytes the recorded ETag no longer matches, and the completion fails
      // with InvalidPart rather than store them). What is left is a takeover during this one UploadPart.
      if ((await this.#host.states.etag(state.id)) !== this.#etag) throw new ClaimLost(state.id);
      const inParts = lastBoundary - start;
      const rest = chunk.subarray(inParts);
      const head = chunk.subarray(0, inParts);
      // Past the filled bytes only, so nothing is lost if this fails (the upload is then closed anyway).
      const fits = tailBytes + inParts <= buffer.byteLength;
      if (fits) buffer.set(head, tailBytes);
      const bytes = fits
        ? buffer.subarray(0, tailBytes + inParts)
        : Buffer.concat([buffer.subarray(0, tailBytes), head]);
      // The part and the bytes past it are stored side by side; both before the state records the part.
      const [restKey, parts] = await Promise.all([
        rest.byteLength > 0
          ? this.#host.tails.put(state.id, state.claim.gen, lastBoundary, rest)
          : Promise.resolve(undefined),
        this.#uploadParts(bytes),
      ]);
      this.#hash.update(bytes.subarray(tailBytes));
      const hashState = Buffer.from(this.#hash.save()).toString('base64');
      this.#hash.update(rest);
      const previous = {
        parts: state.parts,
        partsEnd: state.partsEnd,
        hashState: state.hashState,
        tails: state.tails,
      };
      state.parts = [...state.parts, ...parts];
      state.partsEnd = lastBoundary;
      state.hashState = hashState;
      state.tails = [{ gen: state.claim.gen, from: lastBoundary }];
      if (state.resumable) state.expiresAt = Date.now() + state.ttl;
      try {
        await this.#saveState();
      } catch (error) {
        Object.assign(state, previous);
        throw error;
      }
      const obsolete = this.#tailKeys;
      // The part is stored and hashed: its buffer takes the next part's first bytes.
      buffer.set(rest, 0);
      this.#tailKeys = restKey ? [restKey] : [];
      this.#offset = end;
      // Their bytes are in the part now: deleted in the background (a failed delete leaves garbage for the
      // final cleanup, which lists the upload's tail objects).
      void this.#host.tails.delete(obsolete);
    } catch (error) {
      // In memory it may now differ from the bucket: never written again; a resume reads the bucket.
      this.#close();
      if (error instanceof ClaimLost) throw takenOver();
      throw error;
    }
  }

  /** Uploads `bytes` (starting at `partsEnd`) as parts of `partSize`, the last one possibly shorter. */
  async #uploadParts(bytes: Uint8Array): Promise<RecordedPart[]> {
    const { partSize, parts, id } = this.#state;
    const recorded: RecordedPart[] = [];
    for (let at = 0; at < bytes.byteLength; at += partSize) {
      const body = bytes.subarray(at, at + partSize);
      const n = parts.length + recorded.length + 1;
      try {
        const answer = await this.#host.s3.send(
          new UploadPartCommand({
            Bucket: this.#host.bucket,
            Key: this.#state.key,
            UploadId: this.#state.multipartId,
            PartNumber: n,
            Body: body,
            ContentLength: body.byteLength,
          }),
        );
        recorded.push({ n, etag: answer.ETag ?? '', size: body.byteLength });
      } catch (error) {
        throw s3Failure(`Storing part ${n} of ${id} failed`, error);
      }
    }
    return recorded;
  }

  async sha256(): Promise<Uint8Array> {
    const saved = this.#hash.save();
    const digest = this.#hash.digest('binary');
    this.#hash.load(saved);
    return digest;
  }

  /**
   * Completes the multipart upload on its reserved key, after a last claim check that also marks the state
   * as completing, and puts the SHA-256 on it as the tag `sha256` (hex): user metadata is fixed when the
   * multipart upload is created, before the digest is known.
   */
  async commit(): Promise<string> {
    if (this.#closed) throw takenOver();
    const state = this.#state;
    if (this.#offset !== state.size || state.partsEnd !== state.size) {
      throw new Error(`The upload holds ${this.#offset} of ${state.size} bytes.`);
    }
    const digest = Buffer.from(await this.sha256()).toString('hex');
    try {
      await this.#saveState();
    } catch (error) {
      this.#close();
      throw error;
    }
    const { names } = this.#host;
    const existing = await names.head(state.key);
    if (existing && existing['upload-id'] !== state.id && !this.#host.overwrite) {
      throw Object.assign(
        new Error(`An object named ${state.name} appeared in the bucket during the upload.`),
        {
          code: 'EEXIST',
        },
      );
    }
    if (existing?.['upload-id'] !== state.id) await this.#complete();
    await this.#host.s3
      .send(
        new PutObjectTaggingCommand({
          Bucket: this.#host.bucket,
          Key: state.key,
          Tagging: { TagSet: [{ Key: 'sha256', Value: digest }] },
        }),
      )
      .catch((error: unknown) => {
        throw s3Failure('Tagging the object with its SHA-256 failed', error);
      });
    this.#close();
    await names.release(state.key);
    await this.#host.tails.deleteAll(state.id);
    // Not resumable: no record is kept, so the state goes now (a resumable one becomes the record).
    if (!state.resumable) await this.#host.states.delete(state.id);
    return state.name;
  }

  async #complete(): Promise<void> {
    const state = this.#state;
    const { s3, bucket } = this.#host;
    try {
      if (state.size === 0) {
        // S3 completes no upload of zero parts: the empty object is put instead.
        await s3
          .send(
            new AbortMultipartUploadCommand({ Bucket: bucket, Key: state.key, UploadId: state.multipartId }),
          )
          .catch(() => undefined);
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: state.key,
            Body: new Uint8Array(0),
            ContentType: state.type,
            Metadata: metadataOf(state),
          }),
        );
        return;
      }
      // Complete's ETag is not used: RGW 16 answers it empty.
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: state.key,
          UploadId: state.multipartId,
          MultipartUpload: { Parts: state.parts.map((part) => ({ PartNumber: part.n, ETag: part.etag })) },
        }),
      );
    } catch (error) {
      throw s3Failure('Completing the upload failed', error);
    }
  }

  async discard(): Promise<void> {
    this.#close();
    this.#held = false;
    const state = this.#state;
    const { s3, bucket } = this.#host;
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: state.key, UploadId: state.multipartId }))
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw s3Failure('Aborting the upload failed', error);
      });
    await this.#host.tails.deleteAll(state.id);
    await this.#host.names.release(state.key);
    await this.#host.states.delete(state.id);
  }

  async #saveState(): Promise<void> {
    try {
      this.#etag = await this.#host.states.write(this.#state, this.#etag);
    } catch (error) {
      if (error instanceof ClaimLost) {
        this.#close();
        throw takenOver();
      }
      throw error;
    }
  }

  #close(): void {
    this.#closed = true;
    this.#buffer = undefined;
    this.#host.forget(this.id);
  }
}

/** The highest part boundary at or below `offset` (the end of the file counts as one). */
function partBoundaryAtOrBelow(state: UploadState, offset: number): number {
  if (offset === state.size) return offset;
  return state.partsEnd + Math.floor((offset - state.partsEnd) / state.partSize) * state.partSize;
}

/** The user metadata of the object: what the client said about the file (names URI-encoded: ASCII only). */
export function metadataOf(state: UploadState): Record<string, string> {
  return {
    'upload-id': state.id,
    'original-name': encodeURIComponent(state.filename),
    size: String(state.size),
    ...(state.type ? { 'content-type': state.type } : {}),
  };
}
