/**
 * The folder a file came from (`STOR`'s optional `path`, e.g. `photos/2024`), turned into the sub-folder
 * the server recreates inside the upload folder. As hostile as a file name: it may hold `..`, an absolute
 * path, a drive letter, backslashes, NUL or thousands of segments. Each segment is sanitised like a file name
 * (naming.ts); segments with nothing usable left (`.`, `..`, empty) are dropped, so the result can only ever
 * name a folder inside the upload folder. Depth and length are bounded, and a path past a bound is refused
 * rather than cut, so that two different deep folders are never merged silently.
 *
 * Linear in the length of the path: the length is checked before any segment is looked at, and each
 * segment's sanitising is linear in that segment.
 */
import { sanitizeSegment } from './naming.ts';

/** The bounds of a folder path. */
export interface FolderPathLimits {
  /** Most folder levels kept (after dropping empty segments). */
  maxDepth: number;
  /** Longest path, in UTF-16 code units as sent and in UTF-8 bytes as stored. */
  maxLength: number;
}

/** Default bounds: deep enough for real photo and source trees, far below PATH_MAX (4096 bytes). */
export const FOLDER_PATH_DEFAULTS: FolderPathLimits = { maxDepth: 16, maxLength: 1024 };

/** The sanitised folder (segments joined by `/`, '' for none), or why the path is refused. */
export type FolderPathResult = { ok: true; folder: string } | { ok: false; message: string };

// Both separators split: a Windows client's `a\b` is two folders, never one folder named `a\b`.
const SEPARATOR = /[/\\]/;

/**
 * Sanitises a client's folder path.
 *
 * @param raw - the `path` field of a STOR
 * @param limits - depth and length bounds
 * @returns the folder relative to the upload folder, or the refusal's message
 */
export function sanitizeFolderPath(raw: string, limits: FolderPathLimits): FolderPathResult {
  if (raw.length > limits.maxLength) {
    return { ok: false, message: `Folder path too long: the limit is ${limits.maxLength} characters.` };
  }
  const segments: string[] = [];
  for (const part of raw.split(SEPARATOR)) {
    const segment = sanitizeSegment(part);
    if (segment === '') continue;
    segments.push(segment);
    if (segments.length > limits.maxDepth) {
      return { ok: false, message: `Folder path too deep: the limit is ${limits.maxDepth} levels.` };
    }
  }
  const folder = segments.join('/');
  if (Buffer.byteLength(folder, 'utf8') > limits.maxLength) {
    return { ok: false, message: `Folder path too long: the limit is ${limits.maxLength} bytes.` };
  }
  return { ok: true, folder };
}

/**
 * Where a STOR's own folders go under the server's options: recreated (sanitised, bounded), or dropped
 * with `flattenFolders`.
 *
 * @param raw - the STOR's `path`, if any
 * @param options - the server's folder options
 * @returns the folder ('' for none) or the refusal's message
 */
export function storedFolderPath(
  raw: string | undefined,
  options: { flattenFolders: boolean; maxFolderDepth: number; maxFolderPathLength: number },
): FolderPathResult {
  if (raw === undefined || options.flattenFolders) return { ok: true, folder: '' };
  return sanitizeFolderPath(raw, {
    maxDepth: options.maxFolderDepth,
    maxLength: options.maxFolderPathLength,
  });
}
