/**
 * The tail of an S3 upload: the bytes after the last full part, which S3 cannot take as a part yet (5 MiB
 * minimum) but which an acknowledgement says are stored. Each chunk is put as its own small object,
 * `<prefix>.wsfu/tails/<id>/<gen>/<offset>`, under the generation of the claim that wrote it; once a part
 * is uploaded and recorded its tail objects are deleted. Written once each, never rewritten (a growing
 * single tail object would be rewritten per chunk: quadratic). A node that takes the upload over reads the
 * runs the state lists back, each up to where the next claim started, so that the bytes of a node that lost
 * its claim and kept writing are never taken in (docs/server.md, "Several nodes").
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Failure } from './s3-client.ts';
import type { StoreKeys, TailRun } from './s3-state.ts';

/** A tail read back: its objects' bytes in order, and their keys (to delete once they are in a part). */
export interface ReadTail {
  chunks: Uint8Array[];
  keys: string[];
  end: number;
}

export class TailObjects {
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #keys: StoreKeys;

  constructor(s3: S3Client, bucket: string, keys: StoreKeys) {
    this.#s3 = s3;
    this.#bucket = bucket;
    this.#keys = keys;
  }

  /** Puts one chunk durably. @returns its key */
  async put(id: string, gen: number, offset: number, bytes: Uint8Array): Promise<string> {
    const key = this.#keys.tail(id, gen, offset);
    try {
      await this.#s3.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Body: bytes,
          ContentLength: bytes.byteLength,
        }),
      );
    } catch (error) {
      throw s3Failure('Storing the chunk failed', error);
    }
    return key;
  }

  /**
   * Reads the runs back: for each, the objects that follow each other without a gap from its `from`, up to
   * the next run's `from`. A run that does not reach the next one's start means lost bytes: undefined.
   */
  async read(id: string, runs: TailRun[], partsEnd: number): Promise<ReadTail | undefined> {
    const tail: ReadTail = { chunks: [], keys: [], end: partsEnd };
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i]!;
      const bound = runs[i + 1]?.from ?? Number.POSITIVE_INFINITY;
      if (run.from !== tail.end) return undefined;
      const objects = await this.#list(this.#keys.tailPrefix(id, run.gen));
      for (const { offset, size, key } of objects) {
        if (offset < tail.end) continue;
        if (offset !== tail.end || offset + size > bound) break;
        tail.chunks.push(await this.#get(key, size));
        tail.keys.push(key);
        tail.end += size;
      }
      if (Number.isFinite(bound) && tail.end !== bound) return undefined;
    }
    return tail;
  }

  /** Reads tail objects back by key, in order (a node that let go of its tail bytes in memory). */
  async readKeys(keys: readonly string[]): Promise<Uint8Array[]> {
    const chunks: Uint8Array[] = [];
    for (const key of keys) chunks.push(await this.#get(key));
    return chunks;
  }

  /** Deletes objects; a failure only leaves garbage that the upload's final cleanup or the sweep removes. */
  async delete(keys: readonly string[]): Promise<void> {
    await Promise.all(
      keys.map((Key) =>
        this.#s3.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key })).catch(() => undefined),
      ),
    );
  }

  /** Deletes every tail object of the upload, of every claim. */
  async deleteAll(id: string): Promise<void> {
    const objects = await this.#list(this.#keys.tailPrefix(id)).catch(() => []);
    await this.delete(objects.map((object) => object.key));
  }

  async #list(prefix: string): Promise<{ key: string; offset: number; size: number }[]> {
    const found: { key: string; offset: number; size: number }[] = [];
    let token: string | undefined;
    // Bounded: a claim's run holds at most a part's worth of chunks, each page up to 1000 of them.
    for (let page = 0; page < 10_000; page++) {
      let answer;
      try {
        answer = await this.#s3.send(
          new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, ContinuationToken: token }),
        );
      } catch (error) {
        throw s3Failure('Listing the stored chunks failed', error);
      }
      for (const object of answer.Contents ?? []) {
        const offset = Number(object.Key?.slice(object.Key.lastIndexOf('/') + 1));
        if (object.Key && Number.isSafeInteger(offset))
          found.push({ key: object.Key, offset, size: object.Size ?? 0 });
      }
      if (!answer.IsTruncated || !answer.NextContinuationToken) break;
      token = answer.NextContinuationToken;
    }
    // Keys are zero-padded, so the listing's order is the offsets' order; sorted all the same.
    return found.sort((a, b) => a.offset - b.offset);
  }

  async #get(key: string, size?: number): Promise<Uint8Array> {
    try {
      const answer = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      const bytes = await answer.Body!.transformToByteArray();
      if (size !== undefined && bytes.byteLength !== size)
        throw new Error(`Chunk ${key} changed while being read.`);
      return bytes;
    } catch (error) {
      throw s3Failure('Reading a stored chunk failed', error);
    }
  }
}
