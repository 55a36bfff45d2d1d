/**
 * The local-filesystem {@link UploadStore}: partial data in `<dir>/.partial/<id>.part`, placed into
 * `<dir>/<name>` by a crash-safe commit (file-commit.ts); resumable (protocol v2) partial uploads also get
 * `<id>.json` with their name, size, owner and expiry (file-meta.ts), and keep it as the record of the
 * committed upload afterwards. Owns opening, recovering after a restart, the records and the sweep.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Status } from '../../protocol/index.ts';
import { RefusalError } from '../refusal.ts';
import type { CompletedUpload, PartialUpload, ResumableRequest, UploadStore } from './store.ts';
import { crashPoint } from './crash-points.ts';
import { openNoFollow, readMeta, syncDir, writeMeta, type PartialMeta } from './file-meta.ts';
import { FilePartialUpload, hashPrefix, type PartialUploadHost } from './file-partial-upload.ts';

/** Folder inside the upload directory where partial uploads live until they are complete. */
export const PARTIAL_DIR = '.partial';

/** Default mode of stored files: readable and writable by the server's user only. */
export const DEFAULT_FILE_MODE = 0o600;

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
  /** Permission bits of stored files (not subject to the umask). Default `0o600`. */
  fileMode?: number;
}

// Resumable ids are capability tokens: 144 random bits, URL-safe, and safe as a file name.
const RESUMABLE_ID_RE = /^u_[A-Za-z0-9_-]{24}$/;
// A leftover older than this (`<id>.json.tmp` or `.part.placing` from a crash, the `.part` of a v1 upload
// whose process died) is swept.
const STALE_AGE = 60 * 60 * 1000;

/**
 * Stores uploads on the local filesystem. Nothing inside the upload folder is followed if it is a symlink:
 * the partial folder and per-user folders must be real folders, and files are opened with `O_NOFOLLOW`.
 */
export class FileStore implements UploadStore, PartialUploadHost {
  readonly dir: string;
  /** @internal */
  readonly overwrite: boolean;
  /** @internal */
  readonly naming: 'original' | 'sha256';
  /** @internal */
  readonly fileMode: number;
  readonly #partialDir: string;
  /** Partial uploads this process has open, by id: a reconnecting client gets the same object (and hash). */
  readonly #live = new Map<string, FilePartialUpload>();
  /**
   * When each `<id>.json` this process wrote or read expires, so that a sweep reads only the files it has not
   * seen: with a record kept for every committed upload, there can be many.
   */
  readonly #expiries = new Map<string, number>();
  #sweeping: Promise<number> | undefined;
  /**
   * Committed by this process, their record not yet written: no longer resumable, though their `.part`
   * is still there (a restart, which forgets this, recovers them as placed).
   */
  readonly #committed = new Set<string>();
  /** Loads in progress, so that two connections resuming at once share one re-hash and one object. */
  readonly #loading = new Map<string, Promise<FilePartialUpload | undefined>>();
  #ready: Promise<unknown> | undefined;

  /** @param options - the folder, overwrite policy, naming and file mode */
  constructor(options: FileStoreOptions) {
    this.dir = path.resolve(options.dir);
    this.#partialDir = path.join(this.dir, PARTIAL_DIR);
    this.overwrite = options.overwrite ?? false;
    this.naming = options.naming ?? 'original';
    this.fileMode = options.fileMode ?? DEFAULT_FILE_MODE;
    if (!Number.isInteger(this.fileMode) || this.fileMode < 0 || this.fileMode > 0o777) {
      throw new RangeError(`The file mode must be from 0 to 0o777; got ${String(options.fileMode)}.`);
    }
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
    await assertFolderFree(this.dir, request.folder);
    const { resumable } = request;
    const id = resumable ? `u_${randomBytes(18).toString('base64url')}` : randomBytes(12).toString('hex');
    // O_EXCL: never opens an existing file, nor a symlink planted under the name.
    const handle = await open(this.partPath(id), 'wx', 0o600);
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
    const running = request.sha256 !== false || this.naming === 'sha256';
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
    this.#ready ??= mkdir(this.#partialDir, { recursive: true })
      .then(() => assertRealDir(this.#partialDir))
      .catch((error: unknown) => {
        this.#ready = undefined;
        throw error;
      });
    return this.#ready;
  }

  /** @inheritdoc */
  async open(id: string): Promise<PartialUpload | undefined> {
    if (!RESUMABLE_ID_RE.test(id) || this.#committed.has(id)) return undefined;
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

  /**
   * Recovers a partial upload after a restart. One whose commit had placed the file but not yet written
   * the record comes back complete, with its placement: committing it again links nothing new.
   */
  async #read(id: string): Promise<FilePartialUpload | undefined> {
    const meta = await readMeta(this.metaPath(id));
    if (!meta || meta.id !== id || typeof meta.size !== 'number' || typeof meta.filename !== 'string')
      return undefined;
    if (meta.completed) {
      // The record was written and the crash came before the partial name went: finish that now.
      await unlink(this.partPath(id)).catch(() => undefined);
      return undefined;
    }
    try {
      this.targetDir(meta.folder);
    } catch {
      return undefined;
    }
    const partPath = this.partPath(id);
    const handle = await openNoFollow(partPath, constants.O_RDWR).catch(() => undefined);
    if (!handle) return undefined;
    // Bytes past the declared size cannot be part of the file: a crash cannot have written them in order.
    const offset = Math.min((await handle.stat()).size, meta.size);
    const running = meta.sha256 !== false || this.naming === 'sha256';
    const hash = running ? await hashPrefix(partPath, offset) : undefined;
    const upload = new FilePartialUpload(this, meta, handle, offset, hash, true);
    this.#live.set(id, upload);
    return upload;
  }

  /**
   * @inheritdoc
   * Kept as `<id>.json` in the partial folder, written durably in place of the partial upload's metadata;
   * only then does the partial file's own name go (the final name links the same data).
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
        ...(record.contentHash !== undefined ? { contentHash: record.contentHash } : {}),
      },
    };
    await this.#ensurePartialDir();
    await this.writeMeta(meta, true);
    crashPoint('record-written');
    await unlink(this.partPath(id)).catch(() => undefined);
    this.#committed.delete(id);
    crashPoint('part-removed');
  }

  /** @inheritdoc */
  async recall(id: string): Promise<CompletedUpload | undefined> {
    if (!RESUMABLE_ID_RE.test(id)) return undefined;
    const meta = await readMeta(this.metaPath(id));
    const completed = meta?.completed;
    if (!meta || meta.id !== id || !completed || typeof completed.filename !== 'string') return undefined;
    if (typeof meta.size !== 'number' || !(meta.expiresAt >= Date.now())) return undefined;
    return {
      size: meta.size,
      filename: completed.filename,
      checksum: typeof completed.checksum === 'string' ? completed.checksum : undefined,
      ...(typeof completed.contentHash === 'string' ? { contentHash: completed.contentHash } : {}),
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
    const records = new Set(names.filter((name) => name.endsWith('.json')));
    let expired = 0;
    for (const name of names) {
      if (name.endsWith('.json.tmp') || name.endsWith('.part.placing')) {
        // Left by a crash or a failed write between writing aside and renaming.
        await this.#removeIfStale(name, now);
        continue;
      }
      if (name.endsWith('.part')) {
        // The partial file of a v1 upload whose process died: nobody can come back for it.
        const id = name.slice(0, -'.part'.length);
        if (!records.has(`${id}.json`) && !this.#live.has(id)) await this.#removeIfStale(name, now);
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -'.json'.length);
      const live = this.#live.get(id);
      if (live?.held) continue;
      let expiresAt = live?.expiresAt ?? this.#expiries.get(id);
      if (expiresAt === undefined) {
        expiresAt = (await readMeta(path.join(this.#partialDir, name)))?.expiresAt ?? 0;
        if (typeof expiresAt === 'number') this.#expiries.set(id, expiresAt);
      }
      if (!(expiresAt < now)) continue;
      if (live) await live.discard();
      else await this.removeFiles(id);
      expired += 1;
    }
    return expired;
  }

  async #removeIfStale(name: string, now: number): Promise<void> {
    const file = path.join(this.#partialDir, name);
    const stale = await lstat(file).then(
      (s) => s.mtimeMs < now - STALE_AGE,
      () => false,
    );
    if (stale) await unlink(file).catch(() => undefined);
  }

  /**
   * @internal The folder a file lands in: sanitised segments joined by `/` (the user's folder, then the
   * file's own folders), each a plain name inside dir. The caller sanitises them; this is the last line of
   * defence.
   */
  targetDir(folder: string | undefined): string {
    if (folder === undefined) return this.dir;
    const segments = folder.split('/');
    const plain = (segment: string): boolean =>
      segment !== '' && segment !== '.' && segment !== '..' && !/[\\\0]/.test(segment);
    if (!segments.every(plain)) throw new TypeError(`Invalid upload folder: ${JSON.stringify(folder)}`);
    return path.join(this.dir, ...segments);
  }

  /** @internal Creates the folder a level at a time, each checked to be a real folder, not a symlink. */
  async ensureTargetDir(folder: string | undefined): Promise<string> {
    const dir = this.targetDir(folder);
    let level = this.dir;
    for (const segment of folder ? folder.split('/') : []) {
      level = path.join(level, segment);
      const created = await mkdir(level).then(
        () => true,
        (error: NodeJS.ErrnoException) => {
          if (error.code !== 'EEXIST') throw error;
          return false;
        },
      );
      // A new folder's entry in its parent must reach the disk before a file in it is called stored.
      if (created) await syncDir(path.dirname(level));
      // A symlink planted as a user's folder or a sub-folder would carry the file out of the upload folder.
      await assertRealDir(level);
    }
    return dir;
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
  forget(id: string, committed = false): void {
    this.#live.delete(id);
    if (committed) this.#committed.add(id);
  }

  /** @internal Writes `<id>.json` aside then renames it (durably for the commit's records). */
  async writeMeta(meta: PartialMeta, durable = false): Promise<void> {
    await writeMeta(this.metaPath(meta.id), meta, durable);
    this.#expiries.set(meta.id, meta.expiresAt);
  }

  /** @internal */
  async removeFiles(id: string): Promise<void> {
    this.#expiries.delete(id);
    this.#committed.delete(id);
    await unlink(this.partPath(id)).catch(() => undefined);
    await unlink(this.metaPath(id)).catch(() => undefined);
  }
}

/**
 * Refuses a folder that is a symlink (or not a folder): uploads never follow one inside the upload folder.
 * A plain file of that name (an earlier upload called `album`, now a folder upload into `album/`) is the
 * client's conflict, not a storage failure: 409, naming the level, rather than a 500 after every byte came.
 */
async function assertRealDir(dir: string): Promise<void> {
  const stats = await lstat(dir);
  if (stats.isFile()) {
    const message = `A file named ${JSON.stringify(path.basename(dir))} is where this upload's folder would be.`;
    throw new RefusalError({ code: Status.conflict, message });
  }
  if (!stats.isDirectory()) {
    throw Object.assign(new Error(`Not a real folder (a symlink?): ${path.basename(dir)}`), {
      code: 'ENOTDIR',
    });
  }
}

/** {@link assertRealDir} for each level that exists already: a STOR is refused before its bytes are sent. */
async function assertFolderFree(top: string, folder: string | undefined): Promise<void> {
  let level = top;
  for (const segment of folder ? folder.split('/') : []) {
    level = path.join(level, segment);
    try {
      await assertRealDir(level);
    } catch (error) {
      // Not there yet: the commit creates it and the levels below.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
  }
}
