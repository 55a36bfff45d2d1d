/**
 * The queue's options, DERIVED from the transfer's: every transfer option except the per-file ones is a
 * queue option, passed through to each file's transfer, so a new transfer option reaches the queue (and the
 * element's properties) without being copied here. Plus the queue's own: url, auth, concurrency, autoStart
 * and the restrictions. Validation reuses the transfer's, so a bad value fails where it is set.
 */
import type { UploadAuth } from './queue-items.ts';
import type { PrepareHook } from './queue-prepare.ts';
import { CALLBACK_NAMES, resolveOptions, type WebSocketFileTransferOptions } from './options.ts';

/**
 * Transfer options the queue does not pass through as they are: the file (one per item), the url and the
 * token (the queue's `url` and `auth`), the 2012 alias `blockSize` (use `chunkSize`) and the callbacks (the
 * queue listens to events and re-dispatches them).
 */
export type PerFileTransferOption =
  'file' | 'url' | 'token' | 'path' | 'blockSize' | 'connections' | (typeof CALLBACK_NAMES)[number];

/** The transfer options every file of a queue is sent with. */
export type QueueTransferOptions = Omit<WebSocketFileTransferOptions, PerFileTransferOption>;

/**
 * Options of {@link UploadQueue}: every {@link QueueTransferOptions} (chunkSize, type, parameters, timeouts,
 * WebSocket, offerV2, window, v2ChunkSize, checksum, resumeStore, retryDelays, shouldRetry), plus the
 * queue's own below. The element's attributes map onto them one to one where an attribute makes sense.
 */
export interface UploadQueueOptions extends QueueTransferOptions {
  /** The WebSocket URL of the upload server. Required before a file starts. */
  url?: string;
  /** Credentials sent with `AUTH` before each file (a token may be a provider); none by default. */
  auth?: UploadAuth | null;
  /**
   * Asked before each file starts (may be async): returns that file's `parameters` and/or `token`, or
   * `{ reject: message }` to refuse it (the item fails with `prepareRefused` and that message).
   */
  prepare?: PrepareHook;
  /** How many files are sent at once (default 2, at least 1). */
  concurrency?: number;
  /** Starts files as soon as they are added (default false: call {@link UploadQueue.start}). */
  autoStart?: boolean;
  /**
   * Accepted types, as the file input's `accept` attribute: comma-separated extensions (`.pdf`), MIME types
   * (`image/png`) and wildcards (`image/*`). Empty (the default) accepts everything.
   */
  accept?: string;
  /** The largest accepted file in bytes (default `Infinity`). */
  maxFileSize?: number;
  /** How many items the queue may hold (default `Infinity`). Remove or clear items to make room. */
  maxFiles?: number;
  /**
   * Send consecutive files over one socket when the server agrees (`reuse`, protocol v2): one AUTH, and the
   * next file's STOR goes out while the previous FIN answer is on its way (default true). A server that does
   * not agree gets one socket per file.
   */
  shareConnections?: boolean;
}

/** The queue's own options, with their defaults. */
export const QUEUE_DEFAULTS = {
  concurrency: 2,
  autoStart: false,
  accept: '',
  maxFileSize: Infinity,
  maxFiles: Infinity,
  shareConnections: true,
};

/** The options a queue holds: its own with defaults applied, the rest as set. */
export type ResolvedQueueOptions = typeof QUEUE_DEFAULTS &
  Omit<UploadQueueOptions, keyof typeof QUEUE_DEFAULTS>;

// Zero meant "the transfer's default" for these before they were passed through; it still does.
const ZERO_IS_DEFAULT = ['chunkSize', 'authTimeout', 'answerTimeout'] as const;

/**
 * Applies changes to the current options and checks the result.
 *
 * @param current - the options now
 * @param changes - what to change; `undefined` restores the default
 * @returns the new options
 * @throws TypeError or RangeError naming the option when one is invalid
 */
export function resolveQueueOptions(
  current: ResolvedQueueOptions,
  changes: UploadQueueOptions,
): ResolvedQueueOptions {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(changes)) {
    next[key] = value === undefined ? (QUEUE_DEFAULTS as Record<string, unknown>)[key] : value;
  }
  for (const key of ZERO_IS_DEFAULT) if (next[key] === 0) next[key] = undefined;
  const resolved = next as ResolvedQueueOptions;
  checkCount('concurrency', resolved.concurrency, 1);
  checkCount('maxFiles', resolved.maxFiles, 0);
  const { maxFileSize, accept, auth } = resolved;
  if (typeof maxFileSize !== 'number' || Number.isNaN(maxFileSize) || maxFileSize < 0) {
    throw new RangeError('UploadQueue: "maxFileSize" must be a number of bytes, 0 or more.');
  }
  if (typeof accept !== 'string') throw new TypeError('UploadQueue: "accept" must be a string.');
  if (typeof resolved.shareConnections !== 'boolean') {
    throw new TypeError('UploadQueue: "shareConnections" must be a boolean.');
  }
  if (auth !== undefined && auth !== null) {
    const valid =
      typeof auth === 'object' &&
      (('token' in auth && (typeof auth.token === 'string' || typeof auth.token === 'function')) ||
        ('login' in auth && typeof auth.login === 'string'));
    if (!valid) throw new TypeError('UploadQueue: "auth" must be {login, password} or {token}.');
  }
  const { prepare } = resolved;
  if (prepare !== undefined && prepare !== null && typeof prepare !== 'function') {
    throw new TypeError('UploadQueue: "prepare" must be a function.');
  }
  checkTransferOptions(resolved);
  return resolved;
}

/**
 * The options of one file's transfer.
 *
 * @param options - the queue's options
 * @param file - the file
 * @param perFile - what this file adds: its folder path, what `prepare` returned, a token provider's wrapper
 * @returns the transfer's options (without callbacks: the queue listens to events)
 * @throws TypeError when no url is set
 */
export function transferOptionsFor(
  options: ResolvedQueueOptions,
  file: File,
  perFile: Partial<WebSocketFileTransferOptions> = {},
): WebSocketFileTransferOptions {
  if (!options.url) throw new TypeError('UploadQueue: "url" is not set.');
  const { auth } = options;
  return {
    ...transferPart(options),
    url: options.url,
    file,
    ...(auth && 'token' in auth && typeof auth.token === 'string' ? { token: auth.token } : {}),
    ...perFile,
  };
}

/** The pass-through part: every option that is not the queue's own, undefined ones left out. */
function transferPart(options: ResolvedQueueOptions): QueueTransferOptions {
  const part: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || key in QUEUE_DEFAULTS || ['url', 'auth', 'prepare'].includes(key)) continue;
    part[key] = value;
  }
  return part as QueueTransferOptions;
}

/** Runs the transfer's own checks on the pass-through options, reporting them as the queue's. */
function checkTransferOptions(options: ResolvedQueueOptions): void {
  try {
    resolveOptions({ ...transferPart(options), url: 'ws://check.invalid/', file: new Blob([]) });
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    const message = error.message.replace(/^WebSocketFileTransfer:/, 'UploadQueue:');
    throw error instanceof RangeError
      ? new RangeError(message, { cause: error })
      : new TypeError(message, { cause: error });
  }
}

function checkCount(name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`UploadQueue: "${name}" must be a number.`);
  }
  if (value !== Infinity && (!Number.isInteger(value) || value < min)) {
    throw new RangeError(`UploadQueue: "${name}" must be an integer of ${min} or more; got ${value}.`);
  }
}
