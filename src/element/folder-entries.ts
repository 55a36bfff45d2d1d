/**
 * The files of a drop, folders included: a dropped folder is read through the File and Directory Entries
 * API (`DataTransferItem.webkitGetAsEntry`), recursively, each file keeping the folder it came from. A
 * directory reader hands its entries out in batches (Chromium: 100 at a time), so each folder is read until a
 * batch comes back empty. The walk is bounded in count and in depth: past `maxFiles` entries, or at a folder
 * nested deeper than `maxDepth`, it stops and says which bound it met, and the caller refuses the whole drop
 * rather than add an arbitrary part of it. The walk itself is folder-walk.ts, loaded with import() at the
 * first drop of a folder: most pages never see one.
 */
import type { FileInFolder } from '../core/index.ts';
import type { DropSource } from './drop-zone-controller.ts';

/** Default bound on the entries (files and folders) read from one drop. */
export const DEFAULT_MAX_FOLDER_FILES = 10_000;

/** Default bound on how deep dropped folders nest: the reference server's default `maxFolderDepth`. */
export const DEFAULT_MAX_FOLDER_DEPTH = 16;

/** The bounds of one drop's walk. */
export interface FolderLimits {
  /** Most entries (files and folders) read. */
  maxFiles: number;
  /** Most folder levels a file may sit under (`top/a/b.txt` sits under 2). */
  maxDepth: number;
}

/** Why a drop of folders added nothing; also the i18n keys of the messages (under `folderRefused`). */
export type FolderRefusal = 'folderTooLarge' | 'folderTooDeep' | 'folderUnreadable';

/** What a drop holds once read. */
export interface DroppedFiles {
  /** The files, each with its folder ('' for a file dropped on its own), in the order read. */
  files: FileInFolder[];
  /** The bound the walk met (`files` is then incomplete and to be refused), or null when it read everything. */
  beyond: 'folderTooLarge' | 'folderTooDeep' | null;
}

/**
 * Takes what a drop holds. Must be called during the `drop` event: the items are unreadable afterwards.
 *
 * @param data - the drop's DataTransfer
 * @returns the files at once when no folder was dropped (or the browser has no entries API), else the
 *   entries to read with readEntries (folder-walk.ts)
 */
export function takeDrop(data: DataTransfer): { files: File[] } | { entries: FileSystemEntry[] } {
  const items = Array.from(data.items ?? []).filter((item) => item.kind === 'file');
  const entries = items.map((item) => item.webkitGetAsEntry?.() ?? null);
  if (entries.some((entry) => entry?.isDirectory)) {
    return { entries: entries.filter((entry): entry is FileSystemEntry => entry !== null) };
  }
  return { files: Array.from(data.files ?? []) };
}

/** A refused drop of folders: the (first) dropped folder's name, why, and the bound it met (0 for none). */
export interface FolderRefused {
  folder: string;
  reason: FolderRefusal;
  max: number;
}

/**
 * The drop zone's source for folders: a drop holding a folder is read with readEntries (folder-walk.ts); a drop of
 * plain files is left to the next source. A drop past a bound, or one whose entries cannot be read (or
 * whose walk's code cannot be loaded), adds nothing, and `onRefused` says why.
 *
 * @param limits - the bounds, read at each drop (the element's `max-folder-files` and `max-folder-depth`)
 * @param onRefused - told the refusal
 * @returns the source
 */
export function folderDropSource(
  limits: () => FolderLimits,
  onRefused: (refused: FolderRefused) => void,
): DropSource {
  return (data) => {
    const taken = takeDrop(data);
    if ('files' in taken) return null;
    const bounds = limits();
    const folder = taken.entries.find((entry) => entry.isDirectory)?.name ?? '';
    return import('./folder-walk.ts')
      .then(({ readEntries }) => readEntries(taken.entries, bounds))
      .then(
        (read) => {
          if (read.beyond === null) return read.files;
          const max = read.beyond === 'folderTooDeep' ? bounds.maxDepth : bounds.maxFiles;
          onRefused({ folder, reason: read.beyond, max });
          return [];
        },
        // The folder vanished or cannot be read: nothing half-added.
        () => {
          onRefused({ folder, reason: 'folderUnreadable', max: 0 });
          return [];
        },
      );
  };
}
