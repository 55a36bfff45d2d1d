/**
 * The folder a file came from (`STOR`'s optional `path`, e.g. `photos/2024`), turned into the sub-folder
 * the server recreates inside the upload folder. As hostile as a file name: it may hold `..`, an absolute
 * path, a drive letter, backslashes, NUL or thousands of segments. Each segment is sanitised like a file name
 * (naming.ts); segments with nothing usable left (`.`, `..`, empty) are dropped, so the result can only ever
 * name a folder inside the upload folder. Depth and length are bounded, and a path past a bound is refused
 * rather than cut, so that two different deep folders are never merged silently.
 *
 * Linear in the length of the path, with a small constant: the length is checked before any segment is
 * looked at; empty and `.` segments are skipped without sanitising; every other segment (`..` included)
 * counts towards the depth before it is sanitised, so at most `maxDepth + 1` segments are, each in time
 * linear in its length (a path of 64 Ki slashes or of `../` costs one pass, not 64 Ki sanitiser runs).
 */
import { sanitizeSegment } from './naming.ts';

/** The bounds of a folder path. */
export interface FolderPathLimits {
  /** Most segments other than empty ones and `.` (`..` counts: a browser never sends it). */
  maxDepth: number;
  /** Longest path, in UTF-16 code units as sent and in UTF-8 bytes as stored. */
  maxLength: number;
}

/** Default bounds: deep enough for real photo and source trees, far below PATH_MAX (4096 bytes). */
export const FOLDER_PATH_DEFAULTS: FolderPathLimits = { maxDepth: 16, maxLength: 1024 };

/** The deepest `maxFolderDepth` a server may configure: each level is a sanitiser run and a folder. */
export const MAX_FOLDER_DEPTH = 256;

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
  let depth = 0;
  for (const part of raw.split(SEPARATOR)) {
    if (part === '' || part === '.') continue;
    if (++depth > limits.maxDepth) {
      return { ok: false, message: `Folder path too deep: the limit is ${limits.maxDepth} levels.` };
    }
    // `..` and other segments with nothing usable left are dropped: the folder stays inside.
    const segment = sanitizeSegment(part);
    if (segment !== '') segments.push(segment);
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
