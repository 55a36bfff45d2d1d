/**
 * Per-client and server-wide limits: open connections, the rate of new connections, running uploads (per
 * client address and in all), and the disk's free-space floor. What they refuse with is a RefusalDetail
 * (refusal.ts).
 */
import { statfs } from 'node:fs/promises';
import { Status, type Answer } from '../protocol/index.ts';
import { Refusal, RefusalError, type RefusalDetail } from './refusal.ts';
import type { PartialUpload } from './stores/store.ts';

/** The limits {@link ClientLimits} enforces. */
export interface ClientLimitOptions {
  maxConnectionsPerClient: number;
  maxConnections: number;
  maxUploadsPerClient: number;
  maxUploads: number;
  /** New connections per second one client address may open, sustained. */
  maxConnectionRatePerClient: number;
  /** New connections one client address may open at once before the rate applies. */
  connectionBurstPerClient: number;
}

/**
 * A token bucket per client address: `burst` connections at once, refilled at `rate` per second. A bucket
 * that is full again is forgotten, so that the map holds only the addresses connecting right now; it is
 * bounded besides, the least recently seen going first.
 */
export class ConnectionRate {
  readonly #rate: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /**
   * @param rate - tokens per second
   * @param burst - bucket size
   */
  constructor(rate: number, burst: number) {
    this.#rate = rate;
    this.#burst = Math.max(1, burst);
  }

  /**
   * Takes one token for `ip`.
   *
   * @returns undefined when taken, else the milliseconds until a token is back
   */
  take(ip: string, now = Date.now()): number | undefined {
    const bucket = this.#buckets.get(ip);
    const tokens = bucket
      ? Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate)
      : this.#burst;
    this.#buckets.delete(ip);
    if (tokens < 1) {
      this.#buckets.set(ip, { tokens, at: now });
      return Math.ceil(((1 - tokens) / this.#rate) * 1000);
    }
    this.#buckets.set(ip, { tokens: tokens - 1, at: now });
    if (this.#buckets.size > MAX_RATE_ENTRIES) this.#sweep(now);
    return undefined;
  }

  #sweep(now: number): void {
    for (const [ip, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.#rate >= this.#burst) this.#buckets.delete(ip);
    }
    // Still too many: the least recently seen go.
    for (const ip of this.#buckets.keys()) {
      if (this.#buckets.size <= MAX_RATE_ENTRIES) break;
      this.#buckets.delete(ip);
    }
  }
}

const MAX_RATE_ENTRIES = 100_000;

// A client that hit a concurrency limit learns when to try again; a few seconds lets running uploads end.
const RETRY_AFTER = 5000;

/**
 * Counts open connections and running uploads per client IP and in all, so that one client cannot take
 * the whole server. Counters are taken and given back in pairs; an IP's entry goes when it reaches zero so
 * that the map cannot grow with every address ever seen.
 */
export class ClientLimits {
  readonly #options: ClientLimitOptions;
  readonly #rate: ConnectionRate;
  readonly #connections = new Map<string, number>();
  readonly #uploads = new Map<string, number>();
  #connectionCount = 0;
  #uploadCount = 0;

  /** @param options - the four limits */
  constructor(options: ClientLimitOptions) {
    this.#options = options;
    this.#rate = new ConnectionRate(options.maxConnectionRatePerClient, options.connectionBurstPerClient);
  }

  /** Open connections in all. */
  get connections(): number {
    return this.#connectionCount;
  }

  /** Running uploads in all. */
  get uploads(): number {
    return this.#uploadCount;
  }

  /**
   * Takes a connection slot for `ip`.
   *
   * @param ip - the client address
   * @returns undefined when taken, else why not (429 for this client, 503 for the server)
   */
  connect(ip: string): RefusalDetail | undefined {
    if (this.#connectionCount >= this.#options.maxConnections) {
      return { code: Status.unavailable, message: 'Too many connections.', retryAfter: RETRY_AFTER };
    }
    // Every attempt costs a token, refused or not: a flood of connections is what this bounds.
    const wait = this.#rate.take(ip);
    if (wait !== undefined) {
      return {
        code: Status.tooMany,
        message: 'Too many new connections from this address.',
        retryAfter: wait,
      };
    }
    if ((this.#connections.get(ip) ?? 0) >= this.#options.maxConnectionsPerClient) {
      return {
        code: Status.tooMany,
        message: 'Too many connections from this address.',
        retryAfter: RETRY_AFTER,
      };
    }
    increment(this.#connections, ip);
    this.#connectionCount++;
    return undefined;
  }

  /** Gives back a slot taken by {@link connect}. */
  disconnect(ip: string): void {
    decrement(this.#connections, ip);
    this.#connectionCount--;
  }

  /**
   * Takes an upload slot for `ip`.
   *
   * @param ip - the client address
   * @returns undefined when taken, else a 429 refusal with `retryAfter`
   */
  startUpload(ip: string): RefusalDetail | undefined {
    if (this.#uploadCount >= this.#options.maxUploads) {
      return { code: Status.tooMany, message: 'Too many uploads in progress.', retryAfter: RETRY_AFTER };
    }
    if ((this.#uploads.get(ip) ?? 0) >= this.#options.maxUploadsPerClient) {
      return {
        code: Status.tooMany,
        message: 'Too many uploads in progress from this address.',
        retryAfter: RETRY_AFTER,
      };
    }
    increment(this.#uploads, ip);
    this.#uploadCount++;
    return undefined;
  }

  /** Gives back a slot taken by {@link startUpload}. */
  endUpload(ip: string): void {
    decrement(this.#uploads, ip);
    this.#uploadCount--;
  }
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function decrement(map: Map<string, number>, key: string): void {
  const left = (map.get(key) ?? 0) - 1;
  if (left > 0) map.set(key, left);
  else map.delete(key);
}

/**
 * Checks that a new upload of `size` bytes still leaves `floor` bytes free on the disk holding `dir`.
 * A folder that cannot be measured (missing, or a store that is not a disk) is not refused: the write
 * itself will report ENOSPC, which is mapped to 507 as well.
 *
 * @param dir - a folder on the disk to measure
 * @param floor - bytes that must stay free; 0 skips the check
 * @param size - the declared size of the new upload
 * @returns undefined when there is room, else a 507 refusal
 */
export async function checkFreeSpace(
  dir: string,
  floor: number,
  size: number,
): Promise<RefusalDetail | undefined> {
  if (floor <= 0) return undefined;
  let free: number;
  try {
    const stats = await statfs(dir);
    free = stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
  if (free - size >= floor) return undefined;
  return { code: Status.insufficientStorage, message: 'Not enough free disk space for this upload.' };
}

/**
 * Maps an error thrown by a store to a wire answer: a full disk or an exceeded quota is 507 (the client
 * may retry later or elsewhere), anything else 500. The message names the errno code and what it means for
 * the operator (a folder the server may not write, a read-only disk), never a path.
 *
 * @param error - what the store threw
 * @param action - what failed, for the message: `Storage` (a write, a commit) or `Delete` (ABOR)
 * @returns the code and message to answer with
 */
export function storageFailure(error: unknown, action: 'Storage' | 'Delete' = 'Storage'): RefusalDetail {
  // A store's own refusal (the S3 store's 409 when another node took the upload over).
  if (error instanceof RefusalError) return error.refusal;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return { code: Status.insufficientStorage, message: `Storage full (${code}).` };
  }
  const meaning = typeof code === 'string' ? ERRNO_MEANINGS[code] : undefined;
  const detail = code ? ` (${code}${meaning ? `: ${meaning}` : ''})` : '';
  return { code: Status.serverError, message: `${action} failed${detail}.` };
}

/**
 * Deletes a partial upload for ABOR: `Deleted`, or ABOR 500 naming why the store could not (a delete that
 * fails must be told apart from a failed write, and must not escape as an unhandled rejection).
 *
 * @param partial - the upload to delete
 * @returns the answer, or the refusal
 */
export async function deleteForAbor(partial: Pick<PartialUpload, 'discard'>): Promise<Answer | Refusal> {
  try {
    await partial.discard();
    return { type: 'ABOR', code: Status.ok, message: 'Deleted' };
  } catch (error) {
    return Refusal.of('ABOR', storageFailure(error, 'Delete'));
  }
}

// What the usual storage errnos mean to whoever reads the answer or the log (the errno alone is cryptic).
const ERRNO_MEANINGS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied on the upload folder',
  EPERM: 'operation not permitted on the upload folder',
  EROFS: 'the upload folder is on a read-only file system',
  EIO: 'the disk failed a read or a write',
  ENOENT: 'the upload folder or a file in it is gone',
  ENOTDIR: 'a folder on the way is not a real folder',
  ELOOP: 'a symlink where a real folder or file must be',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
};
