import { randomBytes } from 'node:crypto';
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
}

/**
 * Stores uploads on the local filesystem: partial data in `<dir>/.partial/<random>.part`, moved into
 * `<dir>/<name>` only after an fsync, with `link()` so that an existing file is never replaced.
 */
export class FileStore implements UploadStore {
  readonly dir: string;
  readonly #overwrite: boolean;
  #ready: Promise<unknown> | undefined;

  /** @param options - the folder and overwrite policy */
  constructor(options: FileStoreOptions) {
    this.dir = path.resolve(options.dir);
    this.#overwrite = options.overwrite ?? false;
  }

  /** @inheritdoc */
  async create(request: { filename: string; size: number }): Promise<PartialUpload> {
    this.#ready ??= mkdir(path.join(this.dir, PARTIAL_DIR), { recursive: true });
    await this.#ready;
    const partPath = path.join(this.dir, PARTIAL_DIR, `${randomBytes(12).toString('hex')}.part`);
    const handle = await open(partPath, 'wx', 0o600);
    return new FilePartialUpload(this.dir, partPath, handle, request.filename, this.#overwrite);
  }
}

class FilePartialUpload implements PartialUpload {
  #offset = 0;
  #handle: FileHandle | undefined;
  readonly #dir: string;
  readonly #partPath: string;
  readonly #filename: string;
  readonly #overwrite: boolean;

  constructor(dir: string, partPath: string, handle: FileHandle, filename: string, overwrite: boolean) {
    this.#dir = dir;
    this.#partPath = partPath;
    this.#handle = handle;
    this.#filename = filename;
    this.#overwrite = overwrite;
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
  }

  async commit(): Promise<string> {
    if (!this.#handle) throw new Error('The partial upload is closed.');
    await this.#handle.sync();
    await this.#handle.close();
    this.#handle = undefined;
    const name = await this.#place();
    await syncDir(this.#dir);
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
