/**
 * The S3 {@link UploadStore}: uploads go into a bucket as multipart uploads on their final keys, with all
 * of their state in the bucket (s3-state.ts), so that any node of a cluster continues any upload and no
 * node holds anything another one needs. Owns creating, opening (taking the claim over), the records of
 * committed uploads and the sweep of expired uploads and of what a crash left (multipart uploads without a
 * state, stale name reservations). The rules and failure modes: docs/server.md, "S3 store" and
 * "Several nodes".
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { RefusalError } from '../refusal.ts';
import type { CompletedUpload, PartialUpload, ResumableRequest, UploadStore } from './store.ts';
import { normalisePrefix, s3ClientFor, s3Failure, type S3Connection } from './s3-client.ts';
import { ObjectNames } from './s3-names.ts';
import { PartBuffers } from './s3-part-buffers.ts';
import { PartHasher } from './s3-part-hasher.ts';
import { PARTS_IN_FLIGHT } from './s3-part-pipeline.ts';
import { metadataOf, S3PartialUpload, type S3UploadHost } from './s3-partial-upload.ts';
import { ClaimLost, StateObjects, StoreKeys, type UploadState } from './s3-state.ts';
import { TailObjects } from './s3-tail.ts';

/** Options of {@link S3Store}. */
export interface S3StoreOptions extends S3Connection {
  /** Complete over an existing object of the same key instead of picking `name (1).ext`. Default false. */
  overwrite?: boolean;
  /** The smallest part, in bytes (S3's minimum, 5 MiB, by default); larger files get larger parts. */
  minPartSize?: number;
  /** This node's name in the claims it writes (for the logs). Default `<hostname>:<pid>`. */
  node?: string;
  /** Age after which a multipart upload without a state, or a name reservation without an upload, is swept. */
  staleAge?: number;
  /**
   * Bytes of memory for uploads' bytes not in a part yet, shared by every upload of this node (default
   * 64 MiB, at least one part): what bounds the node's memory for S3 uploads (s3-part-buffers.ts).
   */
  partMemory?: number;
}

const MiB = 1024 * 1024;
/** S3's limits: parts of 5 MiB to 5 GiB (the last one may be smaller), at most 10,000 of them, 5 TiB. */
export const MIN_PART = 5 * MiB;
export const MAX_PARTS = 10_000;
export const MAX_OBJECT = 5 * 1024 * 1024 * MiB;
const RESUMABLE_ID_RE = /^u_[A-Za-z0-9_-]{24}$/;
const STALE_AGE = 60 * 60 * 1000;
// A v1 upload cannot be resumed: its state only lets the sweep clean up after a node that died.
const V1_TTL = STALE_AGE;

/** S3's longest key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

/**
 * The last line of defence for a folder (the session sanitised it: folder-path.ts): sanitised segments
 * joined by `/`, none empty, `.`, `..` or holding a backslash or NUL, and not the store's own `.wsfu`
 * folder at the top; so the key always stays under the prefix, outside the store's objects.
 */
function checkFolder(folder: string | undefined): void {
  if (folder === undefined) return;
  const segments = folder.split('/');
  const plain = (segment: string): boolean =>
    segment !== '' && segment !== '.' && segment !== '..' && !/[\\\0]/.test(segment);
  if (!segments.every(plain) || segments[0] === '.wsfu') {
    throw new TypeError(`Invalid upload folder: ${JSON.stringify(folder)}`);
  }
}

/** The part size for a file: the minimum, or what keeps it within 10,000 parts, in whole MiB. */
export function partSizeFor(size: number, minPartSize = MIN_PART): number {
  if (size > MAX_OBJECT)
    throw new RangeError(`S3 stores objects of up to 5 TiB; this one has ${size} bytes.`);
  const needed = Math.ceil(size / MAX_PARTS);
  return Math.max(minPartSize, Math.ceil(needed / MiB) * MiB);
}

export class S3Store implements UploadStore, S3UploadHost {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  readonly overwrite: boolean;
  readonly states: StateObjects;
  readonly tails: TailObjects;
  readonly names: ObjectNames;
  readonly buffers: PartBuffers;
  readonly #keys: StoreKeys;
  readonly #node: string;
  readonly #minPartSize: number;
  readonly #staleAge: number;
  /** Uploads this node has open, by id. */
  readonly #live = new Map<string, S3PartialUpload>();
  readonly #loading = new Map<string, Promise<S3PartialUpload | undefined>>();
  #sweeping: Promise<number> | undefined;
  /** What the sweep read of each state: when it expires at the earliest, and its multipart upload. */
  readonly #seen = new Map<string, { expiresAt: number; multipartId: string | undefined }>();

  /** @param options - the bucket, prefix, endpoint, overwrite policy and part size */
  constructor(options: S3StoreOptions) {
    if (typeof options.bucket !== 'string' || options.bucket === '') {
      throw new TypeError('The S3 store needs a bucket name.');
    }
    this.s3 = s3ClientFor(options);
    this.bucket = options.bucket;
    this.prefix = normalisePrefix(options.prefix);
    this.overwrite = options.overwrite ?? false;
    this.#minPartSize = options.minPartSize ?? MIN_PART;
    if (!(this.#minPartSize >= MIN_PART)) throw new RangeError('The S3 part size must be at least 5 MiB.');
    this.#node = options.node ?? `${hostname()}:${process.pid}`;
    this.#staleAge = options.staleAge ?? STALE_AGE;
    this.#keys = new StoreKeys(this.prefix);
    this.states = new StateObjects(this.s3, this.bucket, this.#keys);
    this.tails = new TailObjects(this.s3, this.bucket, this.#keys);
    this.names = new ObjectNames(this.s3, this.bucket, this.#keys, this.prefix);
    if (options.partMemory !== undefined && !(options.partMemory >= this.#minPartSize)) {
      throw new RangeError(`The S3 part memory must hold at least one part (${this.#minPartSize} bytes).`);
    }
    this.buffers = new PartBuffers(options.partMemory);
  }

  /**
   * The least byte credit a client needs for acks to keep coming without idle flushes: a part uploading,
   * a part filling, and a chunk (the server grants at least this: upload-server.ts).
   */
  get minCredit(): number {
    return (PARTS_IN_FLIGHT + 1) * this.#minPartSize;
  }

  /** @inheritdoc The name is chosen (and reserved) now: a multipart upload's key cannot change later. */
  async create(request: {
    filename: string;
    size: number;
    folder?: string;
    type?: string;
    resumable?: ResumableRequest;
    sha256?: boolean;
  }): Promise<PartialUpload> {
    const { folder, resumable, size } = request;
    checkFolder(folder);
    const partSize = partSizeFor(size, this.#minPartSize);
    const id = resumable
      ? `u_${randomBytes(18).toString('base64url')}`
      : `v_${randomBytes(12).toString('hex')}`;
    // Room for a numbered name (` (100)`) within S3's key limit, else a clear refusal rather than S3's 400.
    const longest = `${this.prefix}${folder ?? ''}/${request.filename} (100)`;
    if (Buffer.byteLength(longest, 'utf8') > MAX_KEY_BYTES) {
      throw new RefusalError({
        code: 400,
        message: 'Folder and file name too long for an S3 key (1024 bytes).',
      });
    }
    const name = await this.names.choose(id, request.filename, folder, this.overwrite);
    const key = this.names.key(name);
    const ttl = resumable?.ttl ?? V1_TTL;
    const state: UploadState = {
      v: 1,
      id,
      key,
      name,
      multipartId: '',
      filename: request.filename,
      ...(request.type ? { type: request.type } : {}),
      size,
      partSize,
      owner: resumable?.owner ?? null,
      ttl,
      expiresAt: Date.now() + ttl,
      resumable: resumable !== undefined,
      parts: [],
      partsEnd: 0,
      hashState: '',
      nextPart: 1,
      checked: true,
      tails: [{ gen: 1, from: 0 }],
      claim: { gen: 1, node: this.#node },
      version: 0,
    };
    try {
      const created = await this.s3.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          ContentType: request.type || 'application/octet-stream',
          Metadata: metadataOf(state),
        }),
      );
      state.multipartId = created.UploadId ?? '';
    } catch (error) {
      await this.names.release(key);
      throw s3Failure('Starting the multipart upload failed', error);
    }
    const hasher = await PartHasher.from();
    state.hashState = hasher.saved;
    const etag = await this.states.write(state, 'new');
    const upload = new S3PartialUpload(this, state, etag, hasher, { chunks: [], keys: [], end: 0 });
    this.#live.set(id, upload);
    return upload;
  }

  /**
   * @inheritdoc
   * Opening takes the claim: the generation goes up with a conditional write, which fences the node that
   * held it (its next write fails). Two nodes opening at once: one wins, the other is refused with 409.
   */
  async open(id: string): Promise<PartialUpload | undefined> {
    if (!RESUMABLE_ID_RE.test(id)) return undefined;
    const live = this.#live.get(id);
    // Still ours when nobody wrote the state since: the local holders decide (upload-holders.ts).
    if (live && !live.closed && (await this.states.etag(id)) === live.etag) return live;
    if (live) this.#live.delete(id);
    let loading = this.#loading.get(id);
    if (!loading) {
      loading = this.#claim(id).finally(() => this.#loading.delete(id));
      this.#loading.set(id, loading);
    }
    return loading;
  }

  async #claim(id: string): Promise<S3PartialUpload | undefined> {
    const read = await this.states.read(id);
    if (!read) return undefined;
    const { state } = read;
    if (state.completed || !state.resumable || !(state.expiresAt >= Date.now())) return undefined;
    const gen = Math.max(state.claim.gen, ...state.tails.map((run) => run.gen)) + 1;
    state.claim = { gen, node: this.#node };
    // Right after the recorded parts. A part the node that held it was still uploading gets the same number:
    // whichever lands last stays. The same client sends the same bytes, so either is right; other bytes
    // have another ETag than the one recorded, and the completion refuses them (docs/server.md).
    state.nextPart = state.parts.length + 1;
    let etag = await this.#writeClaim(state, read.etag);
    // After the claim is ours, so that a chunk the old holder stored and acknowledged is in the listing.
    const tail = await this.tails.read(id, state.tails, state.partsEnd);
    if (!tail || tail.end > state.size) {
      throw s3Failure(`The stored chunks of upload ${id} do not follow each other`);
    }
    // The tail is hashed when its part is sealed.
    const hasher = await PartHasher.from(state.hashState);
    state.tails = [...state.tails, { gen, from: tail.end }];
    etag = await this.#writeClaim(state, etag);
    const upload = new S3PartialUpload(this, state, etag, hasher, tail);
    this.#live.set(id, upload);
    return upload;
  }

  async #writeClaim(state: UploadState, etag: string): Promise<string> {
    try {
      return await this.states.write(state, etag);
    } catch (error) {
      if (!(error instanceof ClaimLost)) throw error;
      throw new RefusalError({
        code: 409,
        message: 'This upload is being resumed by another connection.',
        retryAfter: 1000,
      });
    }
  }

  /** @inheritdoc The state object becomes the record. */
  async remember(id: string, record: CompletedUpload): Promise<void> {
    if (!RESUMABLE_ID_RE.test(id)) return;
    const read = await this.states.read(id);
    if (!read) return;
    const { state } = read;
    state.completed = {
      filename: record.filename,
      ...(record.checksum !== undefined ? { checksum: record.checksum } : {}),
    };
    state.expiresAt = record.expiresAt;
    await this.states.write(state, 'any');
  }

  /** @inheritdoc */
  async recall(id: string): Promise<CompletedUpload | undefined> {
    if (!RESUMABLE_ID_RE.test(id)) return undefined;
    const state = (await this.states.read(id))?.state;
    const completed = state?.completed;
    if (!state || !completed || !(state.expiresAt >= Date.now())) return undefined;
    return {
      size: state.size,
      filename: completed.filename,
      checksum: completed.checksum,
      owner: state.owner,
      expiresAt: state.expiresAt,
    };
  }

  /**
   * @inheritdoc
   * Also aborts multipart uploads under the prefix that no state names (a crash between creating one and
   * writing its state) and drops name reservations of uploads that are gone, both once older than
   * `staleAge`. Run once when a server starts, and then as connections come (upload-records.ts).
   */
  expire(now: number): Promise<number> {
    this.#sweeping ??= this.#expire(now).finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async #expire(now: number): Promise<number> {
    const known = new Set<string>();
    const listed = new Set<string>();
    // A state that could not be read may name a live multipart upload: no orphans are swept this time.
    let complete = true;
    let expired = 0;
    for (const key of await this.#list(this.#keys.statePrefix)) {
      const id = key.key.slice(this.#keys.statePrefix.length, -'.json'.length);
      listed.add(id);
      const live = this.#live.get(id);
      const seen = this.#seen.get(id);
      // Not read again until it may have expired: with a record kept per upload there can be many. The
      // cached expiry is a lower bound (another node only ever moves it later).
      if (live?.held || (seen && seen.expiresAt >= now)) {
        if (live) known.add(live.multipartId);
        else if (seen?.multipartId) known.add(seen.multipartId);
        continue;
      }
      let read;
      try {
        read = await this.states.read(id);
      } catch {
        complete = false;
        continue;
      }
      if (!read) continue;
      const { state } = read;
      const multipartId = state.completed ? undefined : state.multipartId;
      if (state.expiresAt >= now) {
        this.#seen.set(id, { expiresAt: state.expiresAt, multipartId });
        if (multipartId) known.add(multipartId);
        continue;
      }
      expired += 1;
      if (multipartId) {
        await this.#abort(state.key, multipartId);
        await this.tails.deleteAll(id);
        await this.names.release(state.key);
      }
      this.#live.delete(id);
      this.#seen.delete(id);
      await this.states.delete(id);
    }
    for (const id of this.#seen.keys()) if (!listed.has(id)) this.#seen.delete(id);
    for (const live of this.#live.values()) known.add(live.multipartId);
    if (complete) await this.#sweepOrphans(known, now);
    return expired;
  }

  async #sweepOrphans(known: Set<string>, now: number): Promise<void> {
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const answer = await this.s3.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: this.prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: idMarker,
        }),
      );
      for (const upload of answer.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId || known.has(upload.UploadId)) continue;
        if ((upload.Initiated?.getTime() ?? now) > now - this.#staleAge) continue;
        await this.#abort(upload.Key, upload.UploadId);
      }
      if (!answer.IsTruncated) break;
      keyMarker = answer.NextKeyMarker;
      idMarker = answer.NextUploadIdMarker;
    }
    for (const { key, modified } of await this.#list(this.#keys.namePrefix)) {
      if (modified > now - this.#staleAge) continue;
      // A reservation stays while its upload's state does; one whose upload is gone is left over.
      const owner = await this.#reservationOwner(key);
      if (owner === undefined || !(await this.states.etag(owner))) await this.tails.delete([key]);
    }
  }

  async #reservationOwner(key: string): Promise<string | undefined> {
    try {
      const answer = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const parsed = JSON.parse((await answer.Body?.transformToString()) ?? '') as { id?: unknown };
      return typeof parsed.id === 'string' ? parsed.id : undefined;
    } catch {
      return undefined;
    }
  }

  async #abort(key: string, uploadId: string): Promise<void> {
    await this.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined);
  }

  async #list(prefix: string): Promise<{ key: string; modified: number }[]> {
    const found: { key: string; modified: number }[] = [];
    let token: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const answer = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of answer.Contents ?? []) {
        if (object.Key) found.push({ key: object.Key, modified: object.LastModified?.getTime() ?? 0 });
      }
      if (!answer.IsTruncated || !answer.NextContinuationToken) break;
      token = answer.NextContinuationToken;
    }
    return found;
  }

  /** @internal */
  forget(id: string): void {
    this.#live.delete(id);
  }
}
