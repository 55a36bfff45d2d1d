/**
 * The upload's state object in the bucket — the only state S3 store nodes share: `<prefix>.wsfu/uploads/
 * <id>.json` holds the name, size, owner, expiry, the S3 multipart upload, the parts written with their
 * ETags, the SHA-256 state at the end of the parts, where the tail objects of each claim start, and the
 * claim. Every write of it but the first is conditional on the ETag the writer last saw (If-Match): that is
 * the fence. A node whose write fails with 412 lost its claim to another node and stops (docs/server.md,
 * "Several nodes").
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bareEtag, isNotFound, isPreconditionFailed, s3Failure } from './s3-client.ts';

/** One part of the multipart upload, as recorded once S3 stored it. */
export interface RecordedPart {
  n: number;
  etag: string;
  size: number;
}

/** Where the tail objects written under one claim begin (see s3-tail.ts). */
export interface TailRun {
  gen: number;
  from: number;
}

/** The state object's content. */
export interface UploadState {
  v: 1;
  id: string;
  /** The object key the upload completes into (reserved at creation, see s3-names.ts). */
  key: string;
  /** The name relative to the prefix, as the FIN answer reports it. */
  name: string;
  /** S3's UploadId of the multipart upload. */
  multipartId: string;
  filename: string;
  type?: string;
  size: number;
  partSize: number;
  owner: string | null;
  ttl: number;
  expiresAt: number;
  resumable: boolean;
  parts: RecordedPart[];
  /** Bytes held by the parts. */
  partsEnd: number;
  /** hash-wasm's saved SHA-256 state after byte `partsEnd`, base64. */
  hashState: string;
  /** Runs of tail objects, oldest first: bytes [partsEnd, offset) are in them. */
  tails: TailRun[];
  /**
   * The next part number to use. Numbers are never reused: a claim skips the ones its predecessor may still
   * be uploading (s3-part-pipeline.ts). Absent in states of earlier versions: after the recorded parts.
   */
  nextPart?: number;
  /** Every stored byte was checked against the client's block digests (`sha256-blocks`). */
  checked?: boolean;
  /** The claim: the generation a node took, and which node (for the logs). */
  claim: { gen: number; node: string };
  /** Incremented on every write, so that two writes never have the same content, hence the same ETag. */
  version: number;
  /** Set once completed: the state is then only the record a lost FIN answer is recalled from. */
  completed?: { filename: string; checksum?: string };
}

/** The keys of the store's own objects under the prefix. */
export class StoreKeys {
  readonly root: string;

  /** @param prefix - the normalised prefix ('' or ending in `/`) */
  constructor(prefix: string) {
    this.root = `${prefix}.wsfu/`;
  }

  get statePrefix(): string {
    return `${this.root}uploads/`;
  }

  state(id: string): string {
    return `${this.statePrefix}${id}.json`;
  }

  tailPrefix(id: string, gen?: number): string {
    return `${this.root}tails/${id}/${gen === undefined ? '' : `${gen}/`}`;
  }

  tail(id: string, gen: number, offset: number): string {
    return `${this.tailPrefix(id, gen)}${String(offset).padStart(16, '0')}`;
  }

  get namePrefix(): string {
    return `${this.root}names/`;
  }
}

/** A state as read, with the ETag a conditional write must name. */
export interface ReadState {
  state: UploadState;
  etag: string;
}

/** Thrown when a conditional write of the state lost: another node holds the upload now. */
export class ClaimLost extends Error {
  constructor(id: string) {
    super(`Upload ${id} was taken over by another connection.`);
    this.name = 'ClaimLost';
  }
}

/** Reads and writes state objects. */
export class StateObjects {
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #keys: StoreKeys;

  constructor(s3: S3Client, bucket: string, keys: StoreKeys) {
    this.#s3 = s3;
    this.#bucket = bucket;
    this.#keys = keys;
  }

  /** @returns the state and its ETag, or undefined when there is none (or it is not a state) */
  async read(id: string): Promise<ReadState | undefined> {
    let answer;
    try {
      answer = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#keys.state(id) }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw s3Failure('Reading the upload state failed', error);
    }
    const text = (await answer.Body?.transformToString('utf8')) ?? '';
    const state = parseState(text, id);
    return state ? { state, etag: bareEtag(answer.ETag) } : undefined;
  }

  /** @returns the state object's current ETag, or undefined when it is gone */
  async etag(id: string): Promise<string | undefined> {
    try {
      const head = await this.#s3.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#keys.state(id) }),
      );
      return bareEtag(head.ETag);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw s3Failure('Reading the upload state failed', error);
    }
  }

  /**
   * Writes the state. `ifMatch`: only over that ETag (else {@link ClaimLost}); `'new'`: only when there is
   * none yet; `'any'`: unconditionally (a completion record, after the commit).
   *
   * @returns the new ETag
   */
  async write(state: UploadState, ifMatch: string | 'new' | 'any'): Promise<string> {
    state.version += 1;
    try {
      const answer = await this.#s3.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#keys.state(state.id),
          Body: JSON.stringify(state),
          ContentType: 'application/json',
          ...(ifMatch === 'new' ? { IfNoneMatch: '*' } : ifMatch === 'any' ? {} : { IfMatch: ifMatch }),
        }),
      );
      return bareEtag(answer.ETag);
    } catch (error) {
      if (isPreconditionFailed(error)) throw new ClaimLost(state.id);
      throw s3Failure('Writing the upload state failed', error);
    }
  }

  /** Deletes the state object (the upload is gone); a failure leaves it to the sweep. */
  async delete(id: string): Promise<void> {
    await this.#s3
      .send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#keys.state(id) }))
      .catch(() => undefined);
  }
}

/** Validates what a state
 object says; undefined for anything that is not a state of `id`. */
export function parseState(text: string, id: string): UploadState | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const state = value as Partial<UploadState> | null;
  if (!state || state.v !== 1 || state.id !== id) return undefined;
  const numbers = [state.size, state.partSize, state.partsEnd, state.version, state.expiresAt, state.ttl];
  if (numbers.some((n) => typeof n !== 'number' || Number.isNaN(n))) return undefined;
  if (typeof state.key !== 'string' || typeof state.multipartId !== 'string') return undefined;
  if (typeof state.filename !== 'string' || typeof state.name !== 'string') return undefined;
  if (!Array.isArray(state.parts) || !Array.isArray(state.tails) || typeof state.hashState !== 'string')
    return undefined;
  if (typeof state.claim?.gen !== 'number') return undefined;
  return state as UploadState;
}
