import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  mkdir,
  open,
  link,
  readdir,
  readFile,
  rename,
  unlink,
  stat,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import path from 'node:path';
import { numberedName } from '../naming.ts';
import type { CompletedUpload, PartialUpload, ResumableRequest, UploadStore } from './store.ts';

/** Folder inside the upload directory where partial uploads live until they are complete. */
export const PARTIAL_DIR = '.partial';

/** Options of {@link FileStore}. */
export interface FileStoreOptions {
  /** The upload folder. Finished files land directly inside it. */
  dir: string;
  /** Replace an existing file of the same name instead of picking `name (1).ext`. Default false. */
  overwrite?: boolean;
  /**
   * `sha256` names each file after the SHA-256 of its content (hex, plus the client's extension), computed
   * while the bytes are written; a second copy of the same content is then not stored twice. Default
   * `original`.
   */
  naming?: 'original' | 'sha256';
}

/** What is persisted next to a resumable `.part` file as `<id>.json`, so that a restarted server can resume. */
interface PartialMeta {
  id: string;
  filename: string;
  size: number;
  /** The sub-folder (one sanitised segment) the file lands in, or undefined for the upload folder itself. */
  folder?: string;
  owner: string | null;
  ttl: number;
  expiresAt: number;
  /** False when nobody asked for a running SHA-256 (see `create`'s `sha256`): a restart then skips re-hashing. */
  sha256?: boolean;
  /** Set once committed: the upload is then only a record for {@link FileStore.recall}, no longer resumable. */
  completed?: { filename: string; checksum?: string };
}

// Resumable ids are capability tokens: 144 random bits, URL-safe, and safe as a file name.
const RESUMABLE_ID_RE = /^u_[A-Za-z0-9_-]{24}$/;
// A `<id>.json.tmp` older than this was left by a crash or a failed write: the sweep removes it.
const STALE_TMP_AGE = 60 * 60 * 1000;

/**
 * Stores uploads on the local filesystem: partial data in `<dir>/.partial/<id>.part`, moved into
 * `<dir>/<name>` only after an fsync, with `link()` so that an existing file is never replaced. Resumable
 * (protocol v2) partial uploads also get `<id>.json` with their name, size, owner and expiry; their offset is
 * the length of the `.part` file, since every byte before it was written in order.
 */
export class FileStore implements UploadStore {
  readonly dir: string;
  readonly #overwrite: boolean;
  readonly #naming: 'original' | 'sha256';
  readonly #partialDir: string;
  /** Partial uploads this process has open, by id: a reconnecting client gets the same object (and hash). */
  readonly #live = new Map<string, FilePartialUpload>();
  /**
   * When each `<id>.json` this process wrote or read expires, so that a sweep reads only the files it has not
   * seen: with a record kept for every committed upload, there can be many.
   */
  readonly #expiries = new Map<string, number>();
  #sweeping: Promise<number> | undefined;
  /** Loads in progress, so that two connections resuming at once share one re-hash and one object. */
  readonly #loading = new Map<string, Promise<FilePartialUpload | undefined>>();
  #ready: Promise<unknown> | undefined;

  /** @param options - the folder, overwrite policy and naming */
  constructor(options: FileStoreOptions) {
    this.dir = path.resolve(options.dir);
    this.#partialDir = path.join(this.dir, PARTIAL_DIR);
    this.#overwrite = options.overwrite ?? false;
    this.#naming = options.naming ?? 'original';
  }

  /** @inheritdoc */
  async create(request: {
    filename: string;
    size: number;
    folder?: string;
    resumable?: ResumableRequest;
    sha256?: boolean;
  }): Promise<PartialUpload> {
    await this.#ensurePartialDir();
    this.targetDir(request.folder);
    const { resumable } = request;
    const id = resumable ? `u_${randomBytes(18).toString('base64url')}` : randomBytes(12).toString('hex');
    const partPath = path.join(this.#partialDir, `${id}.part`);
    const handle = await open(partPath, 'wx', 0o600);
    const meta: PartialMeta = {
      id,
      filename: request.filename,
      size: request.size,
      ...(request.folder !== undefined ? { folder: request.folder } : {}),
      owner: resumable?.owner ?? null,
      ttl: resumable?.ttl ?? Infinity,
      expiresAt: resumable ? Date.now() + resumable.ttl : Infinity,
      ...(request.sha256 === false ? { sha256: false } : {}),
    };
    // Content naming needs the digest whatever the session asked for.
    const running = request.sha256 !== false || this.#naming === 'sha256';
    const upload = new FilePartialUpload(
      this,
      meta,
      handle,
      0,
      running ? createHash('sha256') : undefined,
      !!resumable,
    );
    if (resumable) {
      await upload.saveMeta();
      this.#live.set(id, upload);
    }
    return upload;
  }

  #ensurePartialDir(): Promise<unknown> {
    // A failed mkdir (full disk, permissions) must not stick: the next upload tries again.
    this.#ready ??= mkdir(this.#partialDir, { recursive: true }).catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /** @inheritdoc */
  async open(id: string): Promise<PartialUpload | undefined> {
    if (!RESUMABLE_ID_RE.test(id)) return undefined;
    const live = this.#live.get(id);
    const upload = live ?? (await this.#load(id));
    if (!upload || upload.expiresAt < Date.now()) return undefined;
    return upload;
  }

  #load(id: string): Promise<FilePartialUpload | undefined> {
    let loading = this.#loading.get(id);
    if (!loading) {
      loading = this.#read(id).finally(() => this.#loading.delete(id));
      this.#loading.set(id, loading);
    }
    return loading;
  }

  async #read(id: string): Promise<FilePartialUpload | undefined> {
    let meta: PartialMeta;
    try {
      meta = JSON.parse(await readFile(path.join(this.#partialDir, `${id}.json`), 'utf8')) as PartialMeta;
    } catch {
      return undefined;
    }
    if (meta.id !== id || typeof meta.size !== 'number' || typeof meta.filename !== 'string')
      return undefined;
    if (meta.completed) return undefined;
    try {
      this.targetDir(meta.folder);
    } catch {
      return undefined;
    }
    const partPath = path.join(this.#partialDir, `${id}.part`);
    const handle = await open(partPath, 'r+').catch(() => undefined);
    if (!handle) return undefined;
    // Bytes past the declared size cannot be part of the file: a crash cannot have written them in order.
    const offset = Math.min((await handle.stat()).size, meta.size);
    const running = meta.sha256 !== false || this.#naming === 'sha256';
    const hash = running ? await hashPrefix(partPath, offset) : undefined;
    const upload = new FilePartialUpload(this, meta, handle, offset, hash, true);
    this.#live.set(id, upload);
    return upload;
  }

  /**
   * @inheritdoc
   * Kept as `<id>.json` in the partial folder (written aside, then renamed), swept by {@link FileStore.expire}.
   */
  async remember(id: string, record: CompletedUpload): Promise<void> {
    if (!RESUMABLE_ID_RE.test(id)) return;
    const meta: PartialMeta = {
      id,
      filename: record.filename,
      size: record.size,
      owner: record.owner,
      ttl: 0,
      expiresAt: record.expiresAt,
      completed: {
        filename: record.filename,
        ...(record.checksum !== undefined ? { checksum: record.checksum } : {}),
      },
    };
    await this.#ensurePartialDir();
    await this.writeMeta(meta);
  }

  /** @inheritdoc */
  async recall(id: string): Promise<CompletedUpload | undefined> {
    if (!RESUMABLE_ID_RE.test(id)) return undefined;
    let meta: PartialMeta;
    try {
      meta = JSON.parse(await readFile(this.metaPath(id), 'utf8')) as PartialMeta;
    } catch {
      return undefined;
    }
    const completed = meta.completed;
    if (meta.id !== id || !completed || typeof completed.filename !== 'string') return undefined;
    if (typeof meta.size !== 'number' || !(meta.expiresAt >= Date.now())) return undefined;
    return {
      size: meta.size,
      filename: completed.filename,
      checksum: typeof completed.checksum === 'string' ? completed.checksum : undefined,
      owner: typeof meta.owner === 'string' ? meta.owner : null,
      expiresAt: meta.expiresAt,
    };
  }

  /** @inheritdoc A sweep already running is joined, not started twice. */
  expire(now: number): Promise<number> {
    this.#sweeping ??= this.#expire(now).finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async #expire(now: number): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.#partialDir);
    } catch {
      return 0;
    }
    let expired = 0;
    for (const name of names) {
      if (name.endsWith('.json.tmp')) {
        // Left by a crash or a failed write between writing a record aside and renaming it.
        const file = path.join(this.#partialDir, name);
        const stale = await stat(file).then(
          (s) => s.mtimeMs < now - STALE_TMP_AGE,
          () => false,
        );
        if (stale) await unlink(file).catch(() => undefined);
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -'.json'.length);
      const live = this.#live.get(id);
      if (live?.held) continue;
      let expiresAt = live?.expiresAt ?? this.#expiries.get(id);
      if (expiresAt === undefined) {
        try {
          expiresAt = (JSON.parse(await readFile(path.join(this.#partialDir, name), 'utf8')) as PartialMeta)
            .expiresAt;
          if (typeof expiresAt === 'number') this.#expiries.set(id, expiresAt);
        } catch {
          expiresAt = 0;
        }
      }
      if (!(expiresAt < now)) continue;
      if (live) await live.discard();
      else await this.removeFiles(id);
      expired += 1;
    }
    return expired;
  }

  /**
   * @internal The folder a file lands in. It must be one segment inside dir: the caller sanitises it, this is
   * the last line of defence.
   */
  targetDir(folder: string | undefined): string {
    const target = folder ? path.join(this.dir, folder) : this.dir;
    if (folder !== undefined && path.dirname(target) !== this.dir) {
      throw new TypeError(`Invalid upload folder: ${JSON.stringify(folder)}`);
    }
    return target;
  }

  /** @internal */
  get naming(): 'original' | 'sha256' {
    return this.#naming;
  }

  /** @internal */
  partPath(id: string): string {
    return path.join(this.#partialDir, `${id}.part`);
  }

  /** @internal */
  metaPath(id: string): string {
    return path.join(this.#partialDir, `${id}.json`);
  }

  /** @internal */
  forget(id: string): void {
    this.#live.delete(id);
  }

  /** @internal Writes `<id>.json` aside then renames it, so that a crash never leaves half a JSON file. */
  async writeMeta(meta: PartialMeta): Promise<void> {
    const file = this.metaPath(meta.id);
    const tmp = `${file}.tmp`;
    await writeFile(tmp, JSON.stringify(meta), { mode: 0o600 });
    await rename(tmp, file);
    this.#expiries.set(meta.id, meta.expiresAt);
  }

  /** @internal */
  async removeFiles(id: string): Promise<void> {
    this.#expiries.delete(id);
    await unlink(this.partPath(id)).catch(() => undefined);
    await unlink(this.metaPath(id)).catch(() => undefined);
  }

  /** @internal */
  async place(partPath: string, filename: string, dir: string): Promise<string> {
    if (this.#overwrite) {
      await rename(partPath, path.join(dir, filename));
      return filename;
    }
    // link() fails with EEXIST instead of replacing: the check and the move are one atomic step.
    for (let n = 0; n < 1000; n++) {
      const name = numberedName(filename, n);
      try {
        await link(partPath, path.join(dir, name));
        await unlink(partPath);
        return name;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    const name = numberedName(filename, Date.now());
    await link(partPath, path.join(dir, name));
    await unlink(partPath);
    return name;
  }

  /** @internal Content naming: the same name means the same content, so an existing file is this one. */
  async placeByContent(partPath: string, filename: string, dir: string, digest: string): Promise<string> {
    const ext = path.extname(filename).toLowerCase();
    const name = digest + (ext.length <= 16 ? ext : '');
    try {
      await link(partPath, path.join(dir, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    await unlink(partPath);
    return name;
  }
}

class FilePartialUpload implements PartialUpload {
  #offset: number;
  #handle: FileHandle | undefined;
  /** The running SHA-256 of [0, offset), or undefined until somebody asks for it (then read from the file). */
  #hash: Hash | undefined;
  #held = false;
  #expiresAt: number;
  readonly #store: FileStore;
  readonly #meta: PartialMeta;
  readonly #resumable: boolean;

  constructor(
    store: FileStore,
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

  hold(): void {
    this.#held = true;
  }

  async release(): Promise<void> {
    this.#held = false;
    if (!this.#resumable || !this.#handle) return;
    this.#expiresAt = Date.now() + this.#meta.ttl;
    await this.saveMeta();
  }

  /** @internal */
  async saveMeta(): Promise<void> {
    await this.#store.writeMeta({ ...this.#meta, expiresAt: this.#expiresAt });
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (!this.#handle) throw new Error('The partial upload is closed.');
    let written = 0;
    while (written < chunk.byteLength) {
      const { bytesWritten } = await this.#handle.write(
        chunk,
        written,
        chunk.byteLength - written,
        this.#offset,
      );
      written += bytesWritten;
      this.#offset += bytesWritten;
    }
    this.#hash?.update(chunk);
  }

  async sha256(): Promise<Uint8Array> {
    return (await this.#runningHash()).copy().digest();
  }

  /** The running hash, started from the bytes already written when it was not kept while writing. */
  async #runningHash(): Promise<Hash> {
    this.#hash ??= await hashPrefix(this.#store.partPath(this.id), this.#offset);
    return this.#hash;
  }

  async commit(): Promise<string> {
    if (!this.#handle) throw new Error('The partial upload is closed.');
    const digest = this.#store.naming === 'sha256' ? (await this.#runningHash()).copy().digest('hex') : '';
    await this.#handle.sync();
    await this.#handle.close();
    this.#handle = undefined;
    const { folder, filename } = this.#meta;
    const dir = this.#store.targetDir(folder);
    if (folder) await mkdir(dir, { recursive: true });
    const partPath = this.#store.partPath(this.id);
    const name =
      this.#store.naming === 'sha256'
        ? await this.#store.placeByContent(partPath, filename, dir, digest)
        : await this.#store.place(partPath, filename, dir);
    this.#store.forget(this.id);
    // A resumable upload's `<id>.json` stays: the session overwrites it with the record of the committed
    // upload (FileStore.remember), so that no moment passes with neither on disk. Until then, or if that
    // fails, it names no `.part` and cannot be resumed; the sweep removes it when it expires.
    await syncDir(dir);
    return folder ? `${folder}/${name}` : name;
  }

  async discard(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    this.#held = false;
    this.#store.forget(this.id);
    await handle?.close().catch(() => undefined);
    await this.#store.removeFiles(this.id);
  }
}

/** SHA-256 of the first `length` bytes of a file: how a restarted server recovers its digest state. */
async function hashPrefix(file: string, length: number): Promise<Hash> {
  const hash = createHash('sha256');
  if (length === 0) return hash;
  for await (const piece of createReadStream(file, { start: 0, end: length - 1, highWaterMark: 1 << 20 })) {
    hash.update(piece as Buffer);
  }
  return hash;
}

async function syncDir(dir: string): Promise<void> {
  // The rename is durable only once the directory entry is; some filesystems refuse fsync on a folder.
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    if ((await stat(dir)).isDirectory()) await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}
