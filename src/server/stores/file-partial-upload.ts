/**
 * One partial upload of the {@link FileStore}: bytes appended in order to `<id>.part` (with a running
 * SHA-256 when asked for), then committed crash-safe by {@link placeFile}, or discarded.
 */
import { createHash, type Hash } from 'node:crypto';
import { unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { PartialUpload } from './store.ts';
import { crashPoint } from './crash-points.ts';
import { placeFile, type Placing } from './file-commit.ts';
import { openNoFollow, syncDir, type PartialMeta } from './file-meta.ts';

/** What a partial upload needs from its store (the `@internal` side of `FileStore`). */
export interface PartialUploadHost {
  readonly naming: 'original' | 'sha256';
  readonly overwrite: boolean;
  /** Mode of stored files. */
  readonly fileMode: number;
  partPath(id: string): string;
  /** The folder a file lands in, created when missing; refused when it is a symlink. */
  ensureTargetDir(folder: string | undefined): Promise<string>;
  writeMeta(meta: PartialMeta, durable?: boolean): Promise<void>;
  removeFiles(id: string): Promise<void>;
  /** Drops it from the open uploads; `committed`: and refuses to open it again until its record is kept. */
  forget(id: string, committed?: boolean): void;
}

// Bytes hashed per turn of the event loop.
const HASH_SLICE = 1024 * 1024;

export class FilePartialUpload implements PartialUpload {
  #offset: number;
  #handle: FileHandle | undefined;
  /** The running SHA-256 of [0, offset), or undefined until somebody asks for it (then read from the file). */
  #hash: Hash | undefined;
  #held = false;
  /** The checkpoints asked for, one after another (see checkpoint()). */
  #checkpointing: Promise<void> = Promise.resolve();
  #expiresAt: number;
  readonly #store: PartialUploadHost;
  readonly #meta: PartialMeta;
  readonly #resumable: boolean;

  constructor(
    store: PartialUploadHost,
    meta: PartialMeta,
    handle: FileHandle,
    offset: number,
    hash: Hash | undefined,
    resumable: boolean,
  ) {
    this.#store = store;
    this.#meta = meta;
    this.#handle = handle;
    this.#offset = offset;
    this.#hash = hash;
    this.#resumable = resumable;
    this.#expiresAt = meta.expiresAt;
  }

  get id(): string {
    return this.#meta.id;
  }

  get size(): number {
    return this.#meta.size;
  }

  get filename(): string {
    return this.#meta.filename;
  }

  get owner(): string | null {
    return this.#meta.owner;
  }

  get offset(): number {
    return this.#offset;
  }

  get expiresAt(): number {
    return this.#expiresAt;
  }

  get held(): boolean {
    return this.#held;
  }

  get verifiedOffset(): number {
    const verified = this.#meta.verified;
    return typeof verified === 'number' && Number.isSafeInteger(verified) && verified >= 0
      ? Math.min(verified, this.#offset)
      : 0;
  }

  set verifiedOffset(offset: number) {
    this.#meta.verified = offset;
  }

  hold(): void {
    this.#held = true;
  }

  async release(): Promise<void> {
    if (!this.#resumable || !this.#handle) {
      this.#held = false;
      return;
    }
    this.#expiresAt = Date.now() + this.#meta.ttl;
    await this.#settled();
    // Held until its record is written: a connection taking it over (upload-holders.ts) must not write
    // the same record at the same time.
    try {
      await this.saveMeta();
    } finally {
      this.#held = false;
    }
  }

  /** @internal */
  async saveMeta(durable = false): Promise<void> {
    await this.#store.writeMeta({ ...this.#meta, expiresAt: this.#expiresAt }, durable);
  }

  async write(chunk: Uint8Array): Promise<void> {
    const handle = this.#handle;
    if (!handle) throw new Error('The partial upload is closed.');
    const start = this.#offset;
    try {
      for (let written = 0; written < chunk.byteLength;) {
        const { bytesWritten } = await handle.write(chunk, written, chunk.byteLength - written, this.#offset);
        written += bytesWritten;
        this.#offset += bytesWritten;
      }
    } catch (error) {
      // A chunk is stored whole or not at all: a write that failed part-way (the disk filled) must not leave
      // a tail that no ack covers and no running hash saw, or the resume would continue past bytes the
      // checksum misses (FIN 422). Truncated back; if even that fails, the hash is recomputed from the file.
      await handle.truncate(start).then(
        () => (this.#offset = start),
        () => (this.#hash = undefined),
      );
      throw error;
    }
    // A chunk may be megabytes: hashed a slice per turn of the event loop, so that other connections
    // are answered in between.
    for (let at = 0; this.#hash && at < chunk.byteLength; at += HASH_SLICE) {
      if (at > 0) await nextTurn();
      this.#hash.update(chunk.subarray(at, at + HASH_SLICE));
    }
  }

  async rewrite(position: number, bytes: Uint8Array): Promise<void> {
    if (!this.#handle) throw new Error('The partial upload is closed.');
    if (position < 0 || position + bytes.byteLength > this.#offset) {
      throw new RangeError('A rewrite must stay within the bytes already written.');
    }
    // The running hash has the damaged bytes in it: recomputed from the file when next asked for.
    this.#hash = undefined;
    let written = 0;
    while (written < bytes.byteLength) {
      const at = position + written;
      const { bytesWritten } = await this.#handle.write(bytes, written, bytes.byteLength - written, at);
      written += bytesWritten;
    }
  }

  async checkpoint(): Promise<void> {
    const handle = this.#handle;
    if (!handle || !this.#resumable) return;
    // The session does not wait for a checkpoint (writes go on meanwhile: a datasync every 16 MiB stalled
    // the upload ~0.3 s per 256 MiB); checkpoints run one after another, and whatever else writes the record
    // or closes the file waits for the one running (see #settled).
    // The offset verified now, whose bytes are written now: a checkpoint queued behind this one may raise
    // the verified offset before this one's datasync ends, over bytes that sync did not cover.
    const verified = this.#meta.verified;
    const run = this.#checkpointing.then(async () => {
      if (this.#handle !== handle) return; // committed or discarded meanwhile: nothing to record
      // The data first: a record saying "verified" must never outlive bytes a power cut lost.
      await handle.datasync();
      if (this.#handle !== handle) return;
      await this.#store.writeMeta({ ...this.#meta, verified, expiresAt: this.#expiresAt }, false);
    });
    this.#checkpointing = run.catch(() => undefined);
    return run;
  }

  /** Resolves once no checkpoint is running (it writes the record, and syncs the open file). */
  #settled(): Promise<void> {
    return this.#checkpointing;
  }

  async truncate(offset: number): Promise<void> {
    if (!this.#handle) throw new Error('The partial upload is closed.');
    if (offset >= this.#offset) return;
    await this.#handle.truncate(offset);
    this.#offset = offset;
    this.#hash = undefined;
    if (this.verifiedOffset > offset) this.#meta.verified = offset;
  }

  async sha256(): Promise<Uint8Array> {
    return (await this.#runningHash()).copy().digest();
  }

  /** The running hash, started from the bytes already written when it was not kept while writing. */
  async #runningHash(): Promise<Hash> {
    this.#hash ??= await hashPrefix(this.#store.partPath(this.id), this.#offset);
    return this.#hash;
  }

  /**
   * The steps, each a crash point (see crash-points.ts): the data and mode reach the disk; the final name
   * is recorded, then linked; the folder is synced. A resumable upload's `.part` stays until the session's
   * completion record replaces `<id>.json` (`FileStore.remember`), so that a restart in between finds the
   * file placed and its record about to be written, never a file to store a second time.
   */
  async commit(): Promise<string> {
    await this.#settled();
    if (!this.#handle) throw new Error('The partial upload is closed.');
    const store = this.#store;
    const digest = store.naming === 'sha256' ? (await this.#runningHash()).copy().digest('hex') : '';
    await this.#handle.chmod(store.fileMode);
    await this.#handle.sync();
    await this.#handle.close();
    this.#handle = undefined;
    crashPoint('data-synced');
    const { folder, filename } = this.#meta;
    const partPath = store.partPath(this.id);
    let dir: string;
    let name: string;
    try {
      dir = await store.ensureTargetDir(folder);
      const ext = path.extname(filename).toLowerCase();
      name = await placeFile({
        partPath,
        dir,
        filename,
        overwrite: store.overwrite,
        ...(store.naming === 'sha256' ? { contentName: digest + (ext.length <= 16 ? ext : '') } : {}),
        ...(this.#meta.placing ? { recorded: this.#meta.placing } : {}),
        record: (placing: Placing) => this.#recordPlacing(placing),
      });
      await syncDir(dir);
    } catch (error) {
      // A commit that failed past the close (a full disk at the record, EACCES at the link) is a crash at
      // that step: the next resume reloads the upload from its files, as a restart would, and commits again.
      store.forget(this.id);
      throw error;
    }
    crashPoint('dir-synced');
    store.forget(this.id, this.#resumable);
    // Not resumable: nobody can come back for it, so no record is kept and the partial name goes now.
    if (!this.#resumable) await unlink(partPath).catch(() => undefined);
    // Committed, nobody writes into it any more: a takeover waiting for it (upload-holders.ts) ends now and
    // finds the completion record instead of waiting out its bound.
    this.#held = false;
    return folder ? `${folder}/${name}` : name;
  }

  async #recordPlacing(placing: Placing): Promise<void> {
    if (!this.#resumable) return;
    this.#meta.placing = placing;
    await this.saveMeta(true);
  }

  async discard(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    this.#held = false;
    this.#store.forget(this.id);
    await this.#settled();
    await handle?.close().catch(() => undefined);
    await this.#store.removeFiles(this.id);
  }
}

/** SHA-256 of the first `length` bytes of a file: how a restarted server recovers its digest state. */
export async function hashPrefix(file: string, length: number): Promise<Hash> {
  const hash = createHash('sha256');
  if (length === 0) return hash;
  const handle = await openNoFollow(file);
  // The stream closes the handle when it ends or fails.
  for await (const piece of handle.createReadStream({ start: 0, end: length - 1, highWaterMark: 1 << 20 })) {
    hash.update(piece as Buffer);
  }
  return hash;
}
