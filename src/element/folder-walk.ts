/**
 * The walk through dropped folders (see folder-entries.ts, which takes the drop and bounds it): depth first,
 * with an explicit stack, each folder read batch by batch. Its own module so that the element loads it only
 * at the first drop of a folder.
 */
import type { FileInFolder } from '../core/index.ts';
import type { DroppedFiles, FolderLimits } from './folder-entries.ts';

/**
 * Reads dropped entries, folders recursively, depth first, at most `maxFiles` entries in all and no file
 * under more than `maxDepth` folders.
 *
 * @param entries - from takeDrop (folder-entries.ts)
 * @param limits - the bounds of the walk
 * @returns the files with their folders, and which bound was met, if any
 */
export async function readEntries(entries: FileSystemEntry[], limits: FolderLimits): Promise<DroppedFiles> {
  const files: FileInFolder[] = [];
  // An explicit stack, not recursion: a deep tree must not grow the call stack. A dropped folder is at
  // level 1: its files sit under one folder.
  const stack = [...entries].reverse().map((entry) => ({ entry, level: 1 }));
  let seen = 0;
  while (stack.length > 0) {
    const { entry, level } = stack.pop()!;
    if (++seen > limits.maxFiles) return { files, beyond: 'folderTooLarge' };
    if (entry.isFile) {
      const file = await fileOf(entry as FileSystemFileEntry);
      files.push({ file, path: folderOfEntry(entry) });
    } else if (entry.isDirectory) {
      if (level > limits.maxDepth) return { files, beyond: 'folderTooDeep' };
      const children = await allChildren(entry as FileSystemDirectoryEntry, limits.maxFiles - seen + 1);
      for (let i = children.length - 1; i >= 0; i--) stack.push({ entry: children[i]!, level: level + 1 });
    }
  }
  return { files, beyond: null };
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
