/**
 * Moving a finished partial file into the upload folder, crash-safe (issue 15: a SIGKILL between placing
 * the file and recording it stored it twice). The partial file keeps its own name until the completion
 * record is written, and the final name is a second link to the same inode; before each link the name is
 * recorded (durably) with that inode. A restart that finds the recorded name linked to the partial file's
 * inode knows the file is in place, and the commit it repeats links nothing new. An existing file is never
 * replaced unless `overwrite` is on, and nothing here follows a symlink: `link()` and `rename()` act on the
 * names themselves, and an existing name is examined with `lstat`.
 */
import { link, lstat, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { numberedName } from '../naming.ts';
import { crashPoint } from './crash-points.ts';

/** Where a commit intends to link the file, as recorded in `<id>.json` (see `PartialMeta.placing`). */
export interface Placing {
  name: string;
  ino: number;
}

/** What {@link placeFile} needs. */
export interface PlaceRequest {
  /** The partial file; it keeps this name (the caller removes it once the commit is recorded). */
  partPath: string;
  /** The folder the file lands in. */
  dir: string;
  /** The sanitised name the client asked for. */
  filename: string;
  overwrite: boolean;
  /** Content naming: the one possible name; an existing file of that name holds the same bytes. */
  contentName?: string;
  /** What an earlier attempt recorded (found after a restart): tried first. */
  recorded?: Placing;
  /** Records the intent durably before a link makes the name visible. */
  record(placing: Placing): Promise<void>;
}

// Numbered names tried one after the other before falling back to a unique suffix.
const MAX_NUMBERED = 1000;
/**
 * The next number worth trying per folder and name, so that the n-th copy of a popular name costs one link,
 * not n: bounded, the oldest entries go first.
 */
const nextNumber = new Map<string, number>();
const MAX_REMEMBERED = 10_000;

/**
 * Links the partial file under its final name.
 *
 * @returns the final name inside `request.dir`
 */
export async function placeFile(request: PlaceRequest): Promise<string> {
  const { partPath, dir, recorded } = request;
  const ino = (await lstat(partPath)).ino;
  // Placed before a crash: the recorded name is ours already.
  if (recorded && recorded.ino === ino && (await linksTo(path.join(dir, recorded.name), ino))) {
    return recorded.name;
  }
  if (request.contentName !== undefined) return placeByContent(request, ino, request.contentName);
  if (request.overwrite) return placeOver(request, ino);
  return placeNumbered(request, ino);
}

async function placeByContent(request: PlaceRequest, ino: number, name: string): Promise<string> {
  await request.record({ name, ino });
  crashPoint('intent-recorded');
  try {
    await link(request.partPath, path.join(request.dir, name));
  } catch (error) {
    // The same name means the same content: the file is stored already.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  crashPoint('linked');
  return name;
}

async function placeOver(request: PlaceRequest, ino: number): Promise<string> {
  const { partPath, dir, filename } = request;
  // A second link next to the partial file, renamed over the final name: rename() replaces atomically, and
  // the partial file keeps its name until the commit is recorded.
  const aside = `${partPath}.placing`;
  await unlink(aside).catch(() => undefined);
  await link(partPath, aside);
  await request.record({ name: filename, ino });
  crashPoint('intent-recorded');
  await rename(aside, path.join(dir, filename));
  crashPoint('linked');
  // rename() of two links to one inode does nothing: the aside link may still be there.
  await unlink(aside).catch(() => undefined);
  return filename;
}

async function placeNumbered(request: PlaceRequest, ino: number): Promise<string> {
  const { partPath, dir, filename } = request;
  const key = `${dir}\0${filename}`;
  let first = true;
  for (const n of candidates(nextNumber.get(key))) {
    const name = n === -1 ? numberedName(filename, Date.now()) : numberedName(filename, n);
    const target = path.join(dir, name);
    // A taken name costs an lstat, not a durable record: only a free-looking one is recorded and linked.
    const existing = await lstat(target).catch(() => undefined);
    if (existing) {
      if (existing.isFile() && existing.ino === ino) return name;
      continue;
    }
    await request.record({ name, ino });
    if (first) crashPoint('intent-recorded');
    first = false;
    try {
      await link(partPath, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (await linksTo(target, ino)) return name;
      continue;
    }
    if (n > 0) rememberNumber(key, n + 1);
    crashPoint('linked');
    return name;
  }
  throw Object.assign(new Error('No free name for the file.'), { code: 'EEXIST' });
}

/** 0 (the name itself), then from the remembered number up, then the lower ones, then a time suffix. */
function* candidates(from: number | undefined): Generator<number> {
  yield 0;
  const start = Math.min(Math.max(1, from ?? 1), MAX_NUMBERED);
  for (let n = start; n < MAX_NUMBERED; n++) yield n;
  for (let n = 1; n < start; n++) yield n;
  yield -1;
}

function rememberNumber(key: string, n: number): void {
  nextNumber.delete(key);
  nextNumber.set(key, n);
  if (nextNumber.size > MAX_REMEMBERED) nextNumber.delete(nextNumber.keys().next().value!);
}

/** Whether `file` is (not a symlink to, but a name of) the inode `ino`. */
async function linksTo(file: string, ino: number): Promise<boolean> {
  const stats = await lstat(file).catch(() => undefined);
  return stats !== undefined && stats.isFile() && stats.ino === ino;
}
