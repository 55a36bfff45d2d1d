import type { ConnectionPool } from './connection-pool.ts';
import type { TransferType } from '../protocol/index.ts';
import { DEFAULT_RETRY_DELAYS, type RetrySituation } from './retry.ts';
import { defaultResumeStore, NullResumeStore, type ResumeStore } from './resume-store.ts';
import type { CancelDetail, CloseDetail, ErrorDetail, OpenDetail, ProgressDetail } from './events.ts';

/**
 * The default chunk size: 48 KiB (49152 bytes). It is the largest raw chunk whose base64 frame (64 KiB) the
 * 2012 PHP server can read, so the default works with every v1 server.
 */
export const DEFAULT_CHUNK_SIZE = 48 * 1024;

/**
 * The largest chunk size accepted (16 MiB). A chunk is held in memory (twice, plus a third more as base64)
 * while it is read, encoded and sent, so the cap keeps one transfer's memory bounded whatever the option.
 */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;

/**
 * The default chunk size once a server agreed to protocol v2: 1 MiB, with a window of 16 (or a byte credit).
 * The old reason for 256 KiB (a fresh 1 MiB buffer per chunk cost the page more than four of 256 KiB) went
 * away when chunks became views of whole 4 MiB block reads: what is left per chunk is per-message cost (a
 * WebSocket message through the renderer and the network service, an ack, a server write), four times as
 * much at 256 KiB. Quiet run (bench/results/2026-12-03T1721Z-256MiB.md, load 1.8–2.5), SHA-256 on:
 * 256 KiB / 16 ran 113.1 MiB/s with browser 9.8 s/GiB of CPU (renderer 6.2) and server 5.98; 1 MiB / 16
 * ran 134.9 MiB/s with 7.9 (5.5) and 4.85. With coalesced acks and the other issue-11 changes, one run at
 * load 9.3–9.6 (…T1900Z-256MiB-partial.md, medians of 3): 1 MiB 125.5 MiB/s, 6.4 (4.2) and 4.22 against
 * the old 256 KiB defaults' 100.8, 7.9 (5.1) and 5.63. The plain sender that sets the raw limit uses 1 MiB
 * messages too. A dropped connection re-sends at most what was in flight.
 */
export const DEFAULT_V2_CHUNK_SIZE = 1024 * 1024;

/** The default number of unacknowledged chunks offered to a v2 server (the reference server grants 16). */
export const DEFAULT_WINDOW = 16;

/** The largest window accepted: more buys nothing on any real link and costs memory. */
export const MAX_WINDOW = 64;

/** The default wait for an answer to `AUTH`: 10 s. */
export const DEFAULT_AUTH_TIMEOUT = 10_000;

/** The default wait for an answer to `STOR` or to a chunk: 30 s. */
export const DEFAULT_ANSWER_TIMEOUT = 30_000;

// setTimeout fires at once for delays above 2^31 - 1 ms, which would turn a long timeout into none.
const MAX_TIMEOUT = 2 ** 31 - 1;

/** The constructor the transfer opens its socket with: the browser's `WebSocket` or a test double. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

/**
 * Options of {@link WebSocketFileTransfer}. The names are the 2012 library's (`url`, `file`, `blockSize`,
 * `type` and the callbacks), plus `chunkSize` (the preferred name for `blockSize`) and the timeouts.
 */
export interface WebSocketFileTransferOptions {
  /** The WebSocket URL of the upload server (`ws://` or `wss://`). */
  url: string | URL;
  /** The file to send. A `Blob` without a name is stored as `blob`. */
  file: Blob;
  /**
   * Raw bytes per chunk (default {@link DEFAULT_CHUNK_SIZE}, at most {@link MAX_CHUNK_SIZE}). The 2012 PHP
   * server needs 48 KiB or less; servers of this project accept more. Wins over `blockSize` when both are set.
   */
  chunkSize?: number;
  /** The 2012 name of `chunkSize`, kept so that old pages work unchanged. */
  blockSize?: number;
  /** How chunks travel: base64 text frames (the default, as in 2012) or binary frames. */
  type?: TransferType;
  /** Sent as is in the `STOR` command's `parameters` (default `[]`); must survive `JSON.stringify`. */
  parameters?: unknown;
  /**
   * The folder the file came from, relative to the folder the user picked or dropped (`photos/2024`), sent
   * as STOR's `path`; servers of this project recreate it, a 2012 server ignores it. Default none.
   */
  path?: string;
  /**
   * A bearer token sent as `AUTH: {"token": "..."}` when {@link WebSocketFileTransfer.start} gets no login,
   * or a function returning one (may be async): asked on every connection, reconnections included, since a
   * token may expire during a long upload. Servers of this project accept it; a 2012 server knows only login
   * and password.
   */
  token?: string | TokenProvider;
  /** Milliseconds to wait for the answer to `AUTH` (default 10 000). */
  authTimeout?: number;
  /** Milliseconds to wait for the answer to `STOR` and to each chunk (default 30 000). */
  answerTimeout?: number;
  /** The WebSocket constructor to use (default `globalThis.WebSocket`); tests inject a mock here. */
  WebSocket?: WebSocketConstructor;
  /**
   * Offer protocol v2 inside STOR (default true). A v1 server ignores the offer and the upload is exact v1;
   * false sends the 2012 STOR byte for byte.
   */
  offerV2?: boolean;
  /**
   * Chunks kept unacknowledged under v2 (default {@link DEFAULT_WINDOW}, 1 to {@link MAX_WINDOW}). Under a byte
   * credit, when given, `window` × chunk is also what is kept in flight before anything is measured (by default
   * 8 MiB, see src/core/credit.ts).
   */
  window?: number;
  /** Raw bytes per chunk under v2 (default {@link DEFAULT_V2_CHUNK_SIZE}); the server's maxChunk caps it. */
  v2ChunkSize?: number;
  /** Offer an end-to-end SHA-256 under v2 (default true). */
  checksum?: boolean;
  /**
   * Share sockets with other transfers (the UploadQueue passes its own): the upload joins a socket that the
   * server agreed to `reuse` once the upload before it sent FIN, or opens one. Absent: a socket of its own.
   */
  connections?: ConnectionPool | null;
  /**
   * Where resume records are kept (default `localStorage`, or nothing where it is unavailable); null keeps
   * none, so an upload resumes only within one page load.
   */
  resumeStore?: ResumeStore | null;
  /**
   * Milliseconds to wait before each reconnection under v2 (default `[0, 1000, 3000, 5000, 10000, 20000]`);
   * the count restarts whenever the server's offset advanced. An empty list never reconnects.
   */
  retryDelays?: readonly number[];
  /**
   * Asked before each reconnection the policy would make (a resumable upload, a delay left, a "not now"
   * answer or a broken connection): return false to fail instead. Absent: the policy decides alone.
   */
  shouldRetry?: (situation: RetrySituation) => boolean;
  /** Called with the `open` event's detail when the socket has opened. */
  open?: (detail: OpenDetail) => void;
  /** Called with the `progress` event's detail after each chunk the server acknowledged. */
  progress?: (detail: ProgressDetail) => void;
  /** Called with the `success` event's detail once the server acknowledged the whole file. */
  success?: (detail: ProgressDetail) => void;
  /** Called with the `error` event's detail when the upload failed. */
  error?: (detail: ErrorDetail) => void;
  /** Called with the `cancel` event's detail when {@link WebSocketFileTransfer.cancel} stopped the upload. */
  cancel?: (detail: CancelDetail) => void;
  /** The 2012 name of `cancel`: called with the `abort` event's detail, right after `cancel`. */
  abort?: (detail: CancelDetail) => void;
  /** Called with the `close` event's detail once the transfer has ended and released its socket. */
  close?: (detail: CloseDetail) => void;
}

/** Returns the token to send with `AUTH`, fresh: asked on every connection. */
export type TokenProvider = () => string | Promise<string>;

/** The callback option names, in the order their events can happen. */
export const CALLBACK_NAMES = ['open', 'progress', 'success', 'error', 'cancel', 'abort', 'close'] as const;

/**
 * Makes each callback option a listener of the event of the same name, called with the event's `detail` and
 * with the target as `this`, as it was with the 2012 MooTools class.
 *
 * @param target - the transfer
 * @param callbacks - the callback options
 */
export function bindCallbacks(target: EventTarget, callbacks: ResolvedOptions['callbacks']): void {
  for (const name of CALLBACK_NAMES) {
    const callback = callbacks[name] as ((detail: unknown) => void) | undefined;
    if (callback)
      target.addEventListener(name, (event) => callback.call(target, (event as CustomEvent).detail));
  }
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  url: string;
  file: Blob;
  chunkSize: number;
  type: TransferType;
  parameters: unknown;
  path: string | undefined;
  token: string | TokenProvider | undefined;
  authTimeout: number;
  answerTimeout: number;
  WebSocket: WebSocketConstructor | undefined;
  offerV2: boolean;
  window: number;
  /** Whether `window` was given: then a byte credit starts at `window` × chunk, not at INITIAL_CREDIT. */
  windowGiven: boolean;
  v2ChunkSize: number;
  checksum: boolean;
  connections: ConnectionPool | null;
  resumeStore: ResumeStore;
  retryDelays: readonly number[];
  shouldRetry: ((situation: RetrySituation) => boolean) | undefined;
  callbacks: Partial<Pick<WebSocketFileTransferOptions, (typeof CALLBACK_NAMES)[number]>>;
}

/**
 * Applies the defaults, then checks every invariant before any work starts, so that a wrong option fails at
 * the constructor with the option's name rather than halfway through an upload.
 *
 * @param options - what the caller passed
 * @returns the options with defaults applied
 * @throws TypeError when an option has the wrong type (the message names it)
 * @throws RangeError when a number is out of range (the message names it)
 */
export function resolveOptions(options: WebSocketFileTransferOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      'WebSocketFileTransfer: the options must be an object with at least "url" and "file".',
    );
  }
  const { url, file } = options;
  if (!(typeof url === 'string' && url.length > 0) && !(url instanceof URL)) {
    throw new TypeError('WebSocketFileTransfer: "url" must be a non-empty string or a URL.');
  }
  if (!(file instanceof Blob)) {
    throw new TypeError('WebSocketFileTransfer: "file" must be a File or a Blob.');
  }
  const chunkSize = options.chunkSize ?? options.blockSize ?? DEFAULT_CHUNK_SIZE;
  const chunkName = options.chunkSize !== undefined ? 'chunkSize' : 'blockSize';
  checkInteger(chunkName, chunkSize, 1, MAX_CHUNK_SIZE);
  const type = options.type ?? 'base64';
  if (type !== 'base64' && type !== 'binary') {
    throw new TypeError('WebSocketFileTransfer: "type" must be "base64" or "binary".');
  }
  const parameters = options.parameters ?? [];
  try {
    JSON.stringify(parameters);
  } catch (cause) {
    throw new TypeError('WebSocketFileTransfer: "parameters" must be JSON-serialisable.', { cause });
  }
  const { token, path } = options;
  if (token !== undefined && typeof token !== 'function' && (typeof token !== 'string' || token === '')) {
    throw new TypeError('WebSocketFileTransfer: "token" must be a non-empty string or a function.');
  }
  if (path !== undefined && typeof path !== 'string') {
    throw new TypeError('WebSocketFileTransfer: "path" must be a string.');
  }
  const authTimeout = options.authTimeout ?? DEFAULT_AUTH_TIMEOUT;
  checkInteger('authTimeout', authTimeout, 1, MAX_TIMEOUT);
  const answerTimeout = options.answerTimeout ?? DEFAULT_ANSWER_TIMEOUT;
  checkInteger('answerTimeout', answerTimeout, 1, MAX_TIMEOUT);
  if (options.WebSocket !== undefined && typeof options.WebSocket !== 'function') {
    throw new TypeError('WebSocketFileTransfer: "WebSocket" must be a WebSocket constructor.');
  }
  for (const name of ['offerV2', 'checksum'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') {
      throw new TypeError(`WebSocketFileTransfer: "${name}" must be a boolean.`);
    }
  }
  const window = options.window ?? DEFAULT_WINDOW;
  checkInteger('window', window, 1, MAX_WINDOW);
  const v2ChunkSize = options.v2ChunkSize ?? DEFAULT_V2_CHUNK_SIZE;
  checkInteger('v2ChunkSize', v2ChunkSize, 1, MAX_CHUNK_SIZE);
  const retryDelays = options.retryDelays ?? DEFAULT_RETRY_DELAYS;
  if (!Array.isArray(retryDelays)) {
    throw new TypeError('WebSocketFileTransfer: "retryDelays" must be an array of milliseconds.');
  }
  for (const delay of retryDelays) checkInteger('retryDelays', delay, 0, MAX_TIMEOUT);
  const resumeStore = options.resumeStore;
  if (
    resumeStore !== undefined &&
    resumeStore !== null &&
    (typeof resumeStore !== 'object' ||
      typeof resumeStore.get !== 'function' ||
      typeof resumeStore.set !== 'function' ||
      typeof resumeStore.remove !== 'function')
  ) {
    throw new TypeError('WebSocketFileTransfer: "resumeStore" must have get, set and remove methods.');
  }
  if (options.shouldRetry !== undefined && typeof options.shouldRetry !== 'function') {
    throw new TypeError('WebSocketFileTransfer: "shouldRetry" must be a function.');
  }
  const callbacks: ResolvedOptions['callbacks'] = {};
  for (const name of CALLBACK_NAMES) {
    const callback = options[name];
    if (callback === undefined || callback === null) continue;
    if (typeof callback !== 'function') {
      throw new TypeError(`WebSocketFileTransfer: "${name}" must be a function.`);
    }
    (callbacks as Record<string, unknown>)[name] = callback;
  }
  return {
    url: String(url),
    file,
    chunkSize,
    type,
    parameters,
    path: path === '' ? undefined : path,
    token,
    authTimeout,
    answerTimeout,
    // Read at start(), not here, so that a page (or a test) may install its WebSocket after construction.
    WebSocket: options.WebSocket,
    offerV2: options.offerV2 ?? true,
    window,
    windowGiven: options.window !== undefined,
    v2ChunkSize,
    checksum: options.checksum ?? true,
    connections: options.connections ?? null,
    resumeStore: resumeStore === undefined ? defaultResumeStore() : (resumeStore ?? new NullResumeStore()),
    retryDelays: [...retryDelays],
    shouldRetry: options.shouldRetry,
    callbacks,
  };
}

function checkInteger(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`WebSocketFileTransfer: "${name}" must be a number.`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `WebSocketFileTransfer: "${name}" must be an integer from ${min} to ${max}; got ${value}.`,
    );
  }
}
