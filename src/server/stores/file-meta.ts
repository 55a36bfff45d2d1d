/**
 * The file store's metadata files: `<id>.json` next to a resumable `<id>.part`, read without following
 * symlinks and written aside then renamed, so that a crash never leaves half a record. The writes of the
 * commit are durable (file and folder fsynced): a restart must find what they say.
 */
import { constants } from 'node:fs';
import { open, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** What is persisted next to a resumable `.part` file as `<id>.json`, so that a restarted server can resume. */
export interface PartialMeta {
  id: string;
  filename: string;
  size: number;
  /** The sub-folder (sanitised segments joined by `/`) the file lands in, or undefined for the upload folder itself. */
  folder?: string;
  owner: string | null;
  ttl: number;
  expiresAt: number;
  /** False when nobody asked for a running SHA-256 (see `create`'s `sha256`): a restart then skips re-hashing. */
  sha256?: boolean;
  /**
   * Set by a commit before it links the final name: the name (in the target folder) and the partial file's
   * inode. A restart that finds the name linked to that inode knows the file is in place already.
   */
  placing?: { name: string; ino: number };
  /** Block integrity: bytes checked against the client's block digests when the connection let go. */
  verified?: number;
  /** Set once committed: the upload is then only a record for `recall`, no longer resumable. */
  completed?: { filename: string; checksum?: string; contentHash?: string };
}

/** Opens a file for reading without following a symlink planted in its place. */
export function openNoFollow(file: string, flags = constants.O_RDONLY) {
  return open(file, flags | constants.O_NOFOLLOW);
}

/**
 * Reads `<id>.json`.
 *
 * @returns the parsed metadata, or undefined when missing, a symlink or not JSON
 */
export async function readMeta(file: string): Promise<PartialMeta | undefined> {
  try {
    const handle = await openNoFollow(file);
    try {
      return JSON.parse(await handle.readFile('utf8')) as PartialMeta;
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * Writes `meta` to `file` through `<file>.tmp` and a rename. Durable: the data and the folder entry are
 * fsynced before it resolves, in that order.
 */
export async function writeMeta(file: string, meta: PartialMeta, durable: boolean): Promise<void> {
  const tmp = `${file}.tmp`;
  if (!durable) {
    await writeFile(tmp, JSON.stringify(meta), { mode: 0o600 });
    await rename(tmp, file);
    return;
  }
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(meta));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  await syncDir(path.dirname(file));
}

/** fsyncs a folder, so that a rename or link in it is durable; some filesystems refuse, which is let be. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY).catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}
