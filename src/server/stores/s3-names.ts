/**
 * Choosing an S3 upload's object key, never over an existing object unless `overwrite` is on. A multipart
 * upload's key is fixed when it is created, so the name is chosen then (the file store chooses at commit):
 * `name`, else `name (1)` … as naming.ts numbers them. Between the store's own nodes the choice is atomic: a
 * name is reserved by a conditional PUT of `<prefix>.wsfu/names/<sha256 of key>` (If-None-Match: *), then
 * the key is checked free with HeadObject, in that order, so that two uploads never get one key. Objects
 * written by others (not through this store) are seen by that HeadObject and again before completion; one
 * written in between is the documented race (docs/server.md: RGW 16 ignores If-None-Match on
 * CompleteMultipartUpload).
 */
import { createHash } from 'node:crypto';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { numberedName } from '../naming.ts';
import { isNotFound, isPreconditionFailed, s3Failure } from './s3-client.ts';
import type { StoreKeys } from './s3-state.ts';

// Numbered names tried before a time-based one.
const MAX_NUMBERED = 100;

export class ObjectNames {
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #keys: StoreKeys;
  readonly #prefix: string;

  constructor(s3: S3Client, bucket: string, keys: StoreKeys, prefix: string) {
    this.#s3 = s3;
    this.#bucket = bucket;
    this.#keys = keys;
    this.#prefix = prefix;
  }

  /** The object key of a name relative to the prefix. */
  key(name: string): string {
    return `${this.#prefix}${name}`;
  }

  /** The reservation object of a key. */
  reservation(key: string): string {
    return `${this.#keys.namePrefix}${createHash('sha256').update(key).digest('hex')}`;
  }

  /**
   * Picks and reserves the name for upload `id`.
   *
   * @param folder - sanitised segments joined by `/` (checked by the store), or undefined
   * @returns the name relative to the prefix
   */
  async choose(
    id: string,
    filename: string,
    folder: string | undefined,
    overwrite: boolean,
  ): Promise<string> {
    const within = (name: string) => (folder ? `${folder}/${name}` : name);
    if (overwrite) return within(filename);
    for (let n = 0; n <= MAX_NUMBERED; n++) {
      const name = within(numberedName(filename, n === MAX_NUMBERED ? Date.now() : n));
      const key = this.key(name);
      if (!(await this.#reserve(key, id))) continue;
      if (!(await this.exists(key))) return name;
      await this.release(key);
    }
    throw Object.assign(new Error('No free name for the file.'), { code: 'EEXIST' });
  }

  /** Whether an object has the key. */
  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== undefined;
  }

  /** @returns the object's user metadata, or undefined when there is no object */
  async head(key: string): Promise<Record<string, string> | undefined> {
    try {
      return (await this.#s3.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }))).Metadata ?? {};
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw s3Failure('Checking the object name failed', error);
    }
  }

  /** Drops the reservation of a key (after the commit, a discard or an expiry). */
  async release(key: string): Promise<void> {
    await this.#s3
      .send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.reservation(key) }))
      .catch(() => undefined);
  }

  async #reserve(key: string, id: string): Promise<boolean> {
    try {
      await this.#s3.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.reservation(key),
          Body: JSON.stringify({ id, key }),
          IfNoneMatch: '*',
        }),
      );
      return true;
    } catch (error) {
      if (isPreconditionFailed(error)) return false;
      throw s3Failure('Reserving the object name failed', error);
    }
  }
}
