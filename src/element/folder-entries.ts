/**
 * The files of a drop, folders included: a dropped folder is read through the File and Directory Entries
 * API (`DataTransferItem.webkitGetAsEntry`), recursively, each file keeping the folder it came from. A
 * directory reader hands its entries out in batches (Chromium: 100 at a time), so each folder is read until a
 * batch comes back empty. The walk is bounded: past `maxFiles` entries it stops and says so, and the caller
 * refuses the drop rather than add an arbitrary part of it.
 */
import type { FileInFolder } from '../core/index.ts';
import type { DropSource } from './drop-zone-controller.ts';

/** Default bound on the entries (files and folders) read from one drop. */
export const DEFAULT_MAX_FOLDER_FILES = 10_000;

/** What a drop holds once read. */
export interface DroppedFiles {
  /** The files, each with its folder ('' for a file dropped on its own), in the order read. */
  files: FileInFolder[];
  /** True when the folders held more than the bound allows: `files` is then incomplete and to be refused. */
  tooMany: boolean;
}

/**
 * Takes what a drop holds. Must be called during the `drop` event: the items are unreadable afterwards.
 *
 * @param data - the drop's DataTransfer
 * @returns the files at once when no folder was dropped (or the browser has no entries API), else the
 *   entries to read with {@link readEntries}
 */
export function takeDrop(data: DataTransfer): { files: File[] } | { entries: FileSystemEntry[] } {
  const items = Array.from(data.items ?? []).filter((item) => item.kind === 'file');
  const entries = items.map((item) => item.webkitGetAsEntry?.() ?? null);
  if (entries.some((entry) => entry?.isDirectory)) {
    return { entries: entries.filter((entry): entry is FileSystemEntry => entry !== null) };
  }
  return { files: Array.from(data.files ?? []) };
}

/**
 * Reads dropped entries, folders recursively, depth first, at most `maxFiles` entries in all.
 *
 * @param entries - from {@link takeDrop}
 * @param maxFiles - the bound on entries read (files and folders)
 * @returns the files with their folders, and whether the bound was reached
 */
export async function readEntries(entries: FileSystemEntry[], maxFiles: number): Promise<DroppedFiles> {
  const files: FileInFolder[] = [];
  // An explicit stack, not recursion: a deep tree must not grow the call stack.
  const stack = [...entries].reverse();
  let seen = 0;
  while (stack.length > 0) {
    const entry = stack.pop()!;
    if (++seen > maxFiles) return { files, tooMany: true };
    if (entry.isFile) {
      const file = await fileOf(entry as FileSystemFileEntry);
      files.push({ file, path: folderOfEntry(entry) });
    } else if (entry.isDirectory) {
      const children = await allChildren(entry as FileSystemDirectoryEntry, maxFiles - seen + 1);
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    }
  }
  return { files, tooMany: false };
}

/** `/top/sub/a.txt` → `top/sub`. */
function folderOfEntry(entry: FileSystemEntry): string {
  const full = entry.fullPath.replace(/^\/+/, '');
  const slash = full.lastIndexOf('/');
  return slash > 0 ? full.slice(0, slash) : '';
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** Every entry of a folder: batches until an empty one, or until more than `limit` were read. */
async function allChildren(dir: FileSystemDirectoryEntry, limit: number): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const children: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0 || children.push(...batch) > limit) return children;
  }
}

/** Why a drop of folders added nothing; also the i18n keys of the messages. */
export type FolderRefusal = 'folderTooLarge' | 'folderUnreadable';

/**
 * The drop zone's source for folders: a drop holding a folder is read with {@link readEntries}; a drop of
 * plain files is left to the next source. A drop past the bound, or one whose entries cannot be read, adds
 * nothing, and `onRefused` says why.
 *
 * @param maxFiles - the bound, read at each drop (the element's `max-folder-files`)
 * @param onRefused - told the dropped folder's name, why, and the bound
 * @returns the source
 */
export function folderDropSource(
  maxFiles: () => number,
  onRefused: (name: string, reason: FolderRefusal, max: number) => void,
): DropSource {
  return (data) => {
    const taken = takeDrop(data);
    if ('files' in taken) return null;
    const max = maxFiles();
    const name = taken.entries.find((entry) => entry.isDirectory)?.name ?? '';
    return readEntries(taken.entries, max).then(
      (read) => {
        if (!read.tooMany) return read.files;
        onRefused(name, 'folderTooLarge', max);
        return [];
      },
      // The folder vanished or cannot be read: nothing half-added.
      () => {
        onRefused(name, 'folderUnreadable', max);
        return [];
      },
    );
  };
}
