import { createHash, randomBytes, type Hash } from 'node:crypto';
import { mkdir, open, link, rename, unlink, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { numberedName } from '../naming.ts';
import type { PartialUpload, UploadStore } from './store.ts';

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

/**
 * Stores uploads on the local filesystem: partial data in `<dir>/.partial/<random>.part`, moved into
 * `<dir>/<name>` only after an fsync, with `link()` so that an existing file is never replaced.
 */
export class FileStore implements UploadStore {
  readonly dir: string;
  readonly #overwrite: boolean;
  readonly #naming: 'original' | 'sha256';
  #ready: Promise<unknown> | undefined;

  /** @param options - the folder, overwrite policy and naming */
  constructor(options: FileStoreOptions) {
    this.dir = path.resolve(options.dir);
    this.#overwrite = options.overwrite ?? false;
    this.#naming = options.naming ?? 'original';
  }

  /** @inheritdoc */
  async create(request: { filename: string; size: number; folder?: string }): Promise<PartialUpload> {
    // A failed mkdir (full disk, permissions) must not stick: the next upload tries again.
    this.#ready ??= mkdir(path.join(this.dir, PARTIAL_DIR), { recursive: true }).catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    await this.#ready;
    const target = request.folder ? path.join(this.dir, request.folder) : this.dir;
    // The folder must be one segment inside dir: the caller sanitises it, this is the last line of defence.
    if (request.folder !== undefined && path.dirname(target) !== this.dir) {
      throw new TypeError(`Invalid upload folder: ${JSON.stringify(request.folder)}`);
    }
    const partPath = path.join(this.dir, PARTIAL_DIR, `${randomBytes(12).toString('hex')}.part`);
    const handle = await open(partPath, 'wx', 0o600);
    return new FilePartialUpload({
      dir: target,
      prefix: request.folder ? `${request.folder}/` : '',
      partPath,
      handle,
      filename: request.filename,
      overwrite: this.#overwrite,
      hash: this.#naming === 'sha256' ? createHash('sha256') : undefined,
    });
  }
}

interface PartialInit {
  dir: string;
  prefix: string;
  partPath: string;
  handle: FileHandle;
  filename: string;
  overwrite: boolean;
  hash: Hash | undefined;
}

class FilePartialUpload implements PartialUpload {
  #offset = 0;
  #handle: FileHandle | undefined;
  readonly #dir: string;
  readonly #partPath: string;
  readonly #filename: string;
  readonly #overwrite: boolean;
  readonly #prefix: string;
  readonly #hash: Hash | undefined;

  constructor(init: PartialInit) {
    this.#dir = init.dir;
    this.#prefix = init.prefix;
    this.#partPath = init.partPath;
    this.#handle = init.handle;
    this.#filename = init.filename;
    this.#overwrite = init.overwrite;
    this.#hash = init.hash;
  }

  get offset(): number {
    return this.#offset;
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
    // Hashed after the write succeeded, so that the digest covers exactly the bytes on disk.
    this.#hash?.update(chunk);
  }

  async commit(): Promise<string> {
    if (!this.#handle) throw new Error('The partial upload is closed.');
    await this.#handle.sync();
    await this.#handle.close();
    this.#handle = undefined;
    if (this.#dir !== path.dirname(path.dirname(this.#partPath))) await mkdir(this.#dir, { recursive: true });
    const name = this.#hash ? await this.#placeByContent(this.#hash.digest('hex')) : await this.#place();
    await syncDir(this.#dir);
    return this.#prefix + name;
  }

  async #placeByContent(digest: string): Promise<string> {
    const ext = path.extname(this.#filename).toLowerCase();
    const name = digest + (ext.length <= 16 ? ext : '');
    try {
      await link(this.#partPath, path.join(this.#dir, name));
    } catch (error) {
      // The same name means the same content: the file is already stored, this copy is redundant.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    await unlink(this.#partPath);
    return name;
  }

  async #place(): Promise<string> {
    if (this.#overwrite) {
      await rename(this.#partPath, path.join(this.#dir, this.#filename));
      return this.#filename;
    }
    // link() fails with EEXIST instead of replacing: the check and the move are one atomic step.
    for (let n = 0; n < 1000; n++) {
      const name = numberedName(this.#filename, n);
      try {
        await link(this.#partPath, path.join(this.#dir, name));
        await unlink(this.#partPath);
        return name;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    const name = numberedName(this.#filename, Date.now());
    await link(this.#partPath, path.join(this.#dir, name));
    await unlink(this.#partPath);
    return name;
  }

  async discard(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close().catch(() => undefined);
    await unlink(this.#partPath).catch(() => undefined);
  }
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
