/**
 * One upload of the {@link S3Store}: a multipart upload on its final key, written by its part pipeline
 * (s3-part-pipeline.ts: bytes into part-sized buffers, parts uploaded while the next fills, a tail object
 * only when the client stops sending), and the state object (s3-state.ts) rewritten, conditionally, once
 * per part. An ack waits for {@link S3PartialUpload.durable}: what it acknowledges is in the bucket.
 * The SHA-256 runs as parts are sealed, on a thread (s3-part-hasher.ts, a state that can be saved): its state
 * at the end of the recorded parts is in the state object, so a node that takes over hashes only the tail.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { RefusalError } from '../refusal.ts';
import type { PartialUpload } from './store.ts';
import { isNotFound, s3Failure } from './s3-client.ts';
import type { ObjectNames } from './s3-names.ts';
import type { PartBuffers } from './s3-part-buffers.ts';
import type { PartHasher } from './s3-part-hasher.ts';
import { PartPipeline } from './s3-part-pipeline.ts';
import { ClaimLost, type StateObjects, type UploadState } from './s3-state.ts';
import type { TailObjects } from './s3-tail.ts';

/** What an upload needs from its store. */
export interface S3UploadHost {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly states: StateObjects;
  readonly tails: TailObjects;
  readonly names: ObjectNames;
  readonly buffers: PartBuffers;
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
  readonly host: S3UploadHost;
  readonly state: UploadState;
  /** The state object's ETag as this node last wrote or read it: the claim. */
  #etag: string;
  readonly hasher: PartHasher;
  readonly #pipeline: PartPipeline;
  #held = false;
  /** Set once the claim is lost, the upload committed or discarded: it writes nothing more. */
  #closed = false;

  constructor(
    host: S3UploadHost,
    state: UploadState,
    etag: string,
    hasher: PartHasher,
    tail: { chunks: Uint8Array[]; keys: string[]; end: number },
  ) {
    this.host = host;
    this.state = state;
    this.#etag = etag;
    this.hasher = hasher;
    this.#pipeline = new PartPipeline(this, tail);
  }

  get buffers(): PartBuffers {
    return this.host.buffers;
  }
  get id(): string {
    return this.state.id;
  }
  get size(): number {
    return this.state.size;
  }
  get filename(): string {
    return this.state.filename;
  }
  get owner(): string | null {
    return this.state.owner;
  }
  get offset(): number {
    return this.#pipeline.received;
  }
  get expiresAt(): number {
    return this.state.resumable ? this.state.expiresAt : Number.POSITIVE_INFINITY;
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
    return this.state.multipartId;
  }
  /** @internal */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Block integrity: everything stored was verified when every byte so far went through the block checks,
   * else nothing counts (a resume with `sha256-blocks` then starts again at 0). Set by the session from its
   * verifier; S3 keeps no unverified bytes under blocks, so there is nothing more to record here.
   */
  get verifiedOffset(): number {
    return this.state.checked === true ? this.#pipeline.durableEnd : 0;
  }
  set verifiedOffset(_offset: number) {
    // What is stored is verified by construction (see the getter).
  }

  hold(): void {
    this.#held = true;
  }

  /** Which bytes may be stored: under `sha256-blocks`, only those below what `verified` says. */
  gateOnVerified(verified: (() => number) | null): void {
    this.#pipeline.gate(verified);
  }

  async release(): Promise<void> {
    try {
      if (this.#closed) return;
      // The verified bytes not in a part yet become a tail object, so that a resume anywhere starts there.
      await this.#pipeline.flush();
      if (!this.state.resumable) return;
      this.state.expiresAt = Date.now() + this.state.ttl;
      await this.saveState();
    } catch (error) {
      // Taken over meanwhile: the new holder's state stands.
      if (!(error instanceof RefusalError)) throw error;
    } finally {
      this.#held = false;
      // Its tail bytes are in the bucket: memory is not held for an upload nobody writes.
      this.#pipeline.drop();
    }
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#closed) throw takenOver();
    try {
      await this.#pipeline.write(chunk);
    } catch (error) {
      this.#failed(error);
    }
  }

  /** Resolves once the bytes below `offset` (the verified ones, under blocks) are in the bucket. */
  async durable(offset: number): Promise<void> {
    try {
      await this.#pipeline.durable(offset);
    } catch (error) {
      this.#failed(error);
    }
  }

  async rewrite(position: number, bytes: Uint8Array): Promise<void> {
    if (this.#closed) throw takenOver();
    this.#pipeline.rewrite(position, bytes);
    return Promise.resolve();
  }

  /**
   * Drops the bytes from `offset` on: those in memory only, or — to 0 — the whole upload so far (bytes
   * stored without block checks, resumed with them): its parts are then forgotten, never completed.
   */
  async truncate(offset: number): Promise<void> {
    if (this.#closed) throw takenOver();
    if (offset > 0 || this.#pipeline.durableEnd === 0) return this.#pipeline.dropFrom(offset);
    const obsolete = [...this.#pipeline.tailKeys];
    this.#pipeline.restart();
    Object.assign(this.state, { parts: [], partsEnd: 0, checked: true });
    this.state.tails = [{ gen: this.state.claim.gen, from: 0 }];
    await this.hasher.reset();
    this.state.hashState = this.hasher.saved;
    await this.saveState();
    await this.host.tails.delete(obsolete);
  }

  /** A failure of the pipeline closes the upload; a lost claim is answered as a takeover. */
  #failed(error: unknown): never {
    this.#close();
    if (error instanceof ClaimLost) throw takenOver();
    throw error;
  }

  /** @internal For the pipeline: the claim still ours (with a state write when it must record more). */
  async checkClaim(): Promise<void> {
    if (!this.#pipeline.gated && this.state.checked !== false) {
      this.state.checked = false;
      return this.saveState();
    }
    if ((await this.host.states.etag(this.state.id)) !== this.#etag) throw new ClaimLost(this.state.id);
  }

  /** Seals every byte into parts first (FIN asks before the commit): the digest is the whole file's. */
  async sha256(): Promise<Uint8Array> {
    try {
      await this.#pipeline.sealAll();
    } catch (error) {
      this.#failed(error);
    }
    return this.hasher.digest();
  }

  /**
   * Completes the multipart upload on its reserved key, after a last claim check that also marks the state
   * as completing, and puts the SHA-256 on it as the tag `sha256` (hex): user metadata is fixed when the
   * multipart upload is created, before the digest is known.
   */
  async commit(): Promise<string> {
    if (this.#closed) throw takenOver();
    const state = this.state;
    if (this.offset !== state.size)
      throw new Error(`The upload holds ${this.offset} of ${state.size} bytes.`);
    const digest = Buffer.from(await this.sha256()).toString('hex');
    try {
      await this.saveState();
    } catch (error) {
      this.#close();
      throw error;
    }
    const { names } = this.host;
    const existing = await names.head(state.key);
    if (existing && existing['upload-id'] !== state.id && !this.host.overwrite) {
      throw Object.assign(
        new Error(`An object named ${state.name} appeared in the bucket during the upload.`),
        {
          code: 'EEXIST',
        },
      );
    }
    if (existing?.['upload-id'] !== state.id) await this.#complete();
    await this.host.s3
      .send(
        new PutObjectTaggingCommand({
          Bucket: this.host.bucket,
          Key: state.key,
          Tagging: { TagSet: [{ Key: 'sha256', Value: digest }] },
        }),
      )
      .catch((error: unknown) => {
        throw s3Failure('Tagging the object with its SHA-256 failed', error);
      });
    this.#close();
    await names.release(state.key);
    await this.host.tails.deleteAll(state.id);
    // Not resumable: no record is kept, so the state goes now (a resumable one becomes the record).
    if (!state.resumable) await this.host.states.delete(state.id);
    return state.name;
  }

  async #complete(): Promise<void> {
    const state = this.state;
    const { s3, bucket } = this.host;
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
      // A part stored under a recorded number with other bytes: by a node that had lost its claim.
      if ((error as { name?: string }).name === 'InvalidPart') {
        throw s3Failure(
          'A part is not what was recorded (replaced by a node that had lost its claim)',
          error,
        );
      }
      throw s3Failure('Completing the upload failed', error);
    }
  }

  async discard(): Promise<void> {
    this.#close();
    this.#held = false;
    const state = this.state;
    const { s3, bucket } = this.host;
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: state.key, UploadId: state.multipartId }))
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw s3Failure('Aborting the upload failed', error);
      });
    await this.host.tails.deleteAll(state.id);
    await this.host.names.release(state.key);
    await this.host.states.delete(state.id);
  }

  /** @internal Writes the state with If-Match: the claim check. */
  async saveState(): Promise<void> {
    try {
      this.#etag = await this.host.states.write(this.state, this.#etag);
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
    this.#pipeline.fail(takenOver());
    this.host.forget(this.id);
  }
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
