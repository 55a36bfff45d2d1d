import type { TransferType } from '../protocol/index.ts';
import { UploadError } from './errors.ts';
import type { ProgressDetail } from './events.ts';
import { MAX_CHUNK_SIZE, type WebSocketConstructor } from './options.ts';
import { WebSocketFileTransfer } from './web-socket-file-transfer.ts';

/**
 * Where one file of an {@link UploadQueue} is. One field, changed only through legal moves:
 *
 * | from | to |
 * |---|---|
 * | `queued` | `connecting` (a slot is free and the queue runs), `cancelled` |
 * | `connecting` | `sending` (the first chunk was acknowledged), `complete` (empty file), `failed`, `cancelled` |
 * | `sending` | `complete`, `failed`, `cancelled` |
 * | `failed` | `queued` (retry) |
 * | `cancelled` | `queued` (retry) |
 *
 * `complete` is final.
 */
export type UploadStatus = 'queued' | 'connecting' | 'sending' | 'complete' | 'failed' | 'cancelled';

const TRANSITIONS: Readonly<Record<UploadStatus, readonly UploadStatus[]>> = {
  queued: ['connecting', 'cancelled'],
  connecting: ['sending', 'complete', 'failed', 'cancelled'],
  sending: ['complete', 'failed', 'cancelled'],
  complete: [],
  failed: ['queued'],
  cancelled: ['queued'],
};

/** Why a file was refused before any upload; these keys double as i18n keys. */
export type RejectionReason = 'fileTypeNotAccepted' | 'fileTooBig' | 'tooManyFiles';

/** Credentials sent with `AUTH` before each file: a login and password, or a token. */
export type UploadAuth = { login: string; password?: string } | { token: string };

/**
 * One file of the queue, as callers see it. The queue updates these fields in place (so that a list of
 * hundreds re-renders without copying); callers read them and never write them.
 */
export interface UploadItem {
  /** A number unique within the queue, stable for the item's life (a key for rendering). */
  readonly id: number;
  /** The file to send. */
  readonly file: File;
  /** Where the upload is; see {@link UploadStatus}. */
  readonly status: UploadStatus;
  /** Bytes acknowledged by the server. */
  readonly loaded: number;
  /** Bytes sent (may run ahead of `loaded`). */
  readonly sent: number;
  /** The file's size. */
  readonly total: number;
  /** `loaded / total` from 0 to 100. */
  readonly percentage: number;
  /** Acknowledged bytes per second of the current attempt. */
  readonly speed: number;
  /** Seconds since the current attempt started. */
  readonly elapsedTime: number;
  /** Estimated seconds left: `Infinity` until a speed is known. */
  readonly remainingTime: number;
  /** Why the last attempt failed; null unless `status` is `failed`. */
  readonly error: UploadError | null;
  /**
   * The name the server stored the file under, once `complete` over protocol v2 (sanitised, or numbered
   * beside an existing file); null before, and under v1, whose answers do not say.
   */
  readonly storedAs: string | null;
}

/** A file refused by the restrictions. */
export interface Rejection {
  /** The refused file. */
  file: File;
  /** Which restriction refused it. */
  reason: RejectionReason;
}

/** The queue's figures over every item that is not cancelled. */
export interface QueueProgress {
  /** Bytes acknowledged, over all counted items. */
  loaded: number;
  /** Bytes to send, over all counted items. */
  total: number;
  /** `loaded / total` from 0 to 100 (100 for nothing to send). */
  percentage: number;
  /** Sum of the speeds of the items being sent. */
  speed: number;
  /** Estimated seconds left at that speed; `Infinity` when unknown, 0 when nothing is left. */
  remainingTime: number;
  /** Items per status. */
  counts: Record<UploadStatus, number>;
}

/** Options of {@link UploadQueue}. The element's attributes map onto them one to one. */
export interface UploadQueueOptions {
  /** The WebSocket URL of the upload server. Required before a file starts. */
  url?: string;
  /** Raw bytes per chunk (the transfer's default when unset). */
  chunkSize?: number;
  /** How chunks travel: `base64` (the transfer's default) or `binary`. */
  type?: TransferType;
  /** Sent as is with every `STOR`. */
  parameters?: unknown;
  /** Credentials sent with `AUTH` before each file; none by default. */
  auth?: UploadAuth | null;
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
  /** Milliseconds to wait for the answer to `AUTH` (the transfer's default when unset). */
  authTimeout?: number;
  /** Milliseconds to wait for each other answer (the transfer's default when unset). */
  answerTimeout?: number;
  /** The WebSocket constructor (default `globalThis.WebSocket`); tests inject a mock here. */
  WebSocket?: WebSocketConstructor;
}

/** The `detail` of the queue's `add` event. */
export interface AddDetail {
  /** The items just added, in order. */
  items: UploadItem[];
}
/** The `detail` of the queue's `reject` event. */
export type RejectDetail = Rejection;
/** The `detail` of `status`, `cancel` and `remove`. */
export interface ItemDetail {
  /** The item concerned. */
  item: UploadItem;
}
/** The `detail` of the queue's `progress` and `success` events. */
export interface ItemProgressDetail extends ItemDetail {
  /** The transfer's figures. */
  progress: ProgressDetail;
}
/** The `detail` of the queue's `error` event. */
export interface ItemErrorDetail extends ItemDetail {
  /** Why the upload failed. */
  error: UploadError;
}
/** The `detail` of the queue's `complete` event. */
export interface CompleteDetail {
  /** Every item at the time. */
  items: UploadItem[];
  /** Items that are complete. */
  succeeded: number;
  /** Items that failed. */
  failed: number;
}

/** The events of an {@link UploadQueue}, all `CustomEvent`s. */
export interface UploadQueueEventMap {
  add: CustomEvent<AddDetail>;
  reject: CustomEvent<RejectDetail>;
  status: CustomEvent<ItemDetail>;
  progress: CustomEvent<ItemProgressDetail>;
  success: CustomEvent<ItemProgressDetail>;
  error: CustomEvent<ItemErrorDetail>;
  cancel: CustomEvent<ItemDetail>;
  remove: CustomEvent<ItemDetail>;
  complete: CustomEvent<CompleteDetail>;
}

/** Every event type of the queue, for subscribers that listen to all of them. */
export const UPLOAD_QUEUE_EVENTS = [
  'add',
  'reject',
  'status',
  'progress',
  'success',
  'error',
  'cancel',
  'remove',
  'complete',
] as const satisfies readonly (keyof UploadQueueEventMap)[];

/** The mutable record behind an {@link UploadItem}. */
interface Entry {
  id: number;
  file: File;
  storedAs: string | null;
  status: UploadStatus;
  loaded: number;
  sent: number;
  total: number;
  percentage: number;
  speed: number;
  elapsedTime: number;
  remainingTime: number;
  error: UploadError | null;
  /** The running attempt; null when none runs. */
  transfer: WebSocketFileTransfer | null;
}

const DEFAULTS = {
  concurrency: 2,
  autoStart: false,
  accept: '',
  maxFileSize: Infinity,
  maxFiles: Infinity,
};

type Listener<K extends keyof UploadQueueEventMap> = (
  this: UploadQueue,
  event: UploadQueueEventMap[K],
) => unknown;

/**
 * Uploads many files, each with its own {@link WebSocketFileTransfer}, at most `concurrency` at once. Knows
 * nothing of any UI: the `<ws-file-upload>` element renders it and re-dispatches its events.
 *
 * @fires add - {@link AddDetail}: files passed the restrictions and were queued
 * @fires reject - {@link RejectDetail}: a file was refused by a restriction
 * @fires status - {@link ItemDetail}: an item's status changed
 * @fires progress - {@link ItemProgressDetail}: the server acknowledged a chunk
 * @fires success - {@link ItemProgressDetail}: a file was stored
 * @fires error - {@link ItemErrorDetail}: a file failed
 * @fires cancel - {@link ItemDetail}: a file was cancelled
 * @fires remove - {@link ItemDetail}: an item left the queue
 * @fires complete - {@link CompleteDetail}: the queue went from busy to idle
 */
export class UploadQueue extends EventTarget {
  #options: Required<Omit<UploadQueueOptions, 'WebSocket' | 'url' | 'auth'>> &
    Pick<UploadQueueOptions, 'WebSocket' | 'url' | 'auth'>;
  readonly #entries: Entry[] = [];
  #nextId = 1;
  /** Whether queued items may start; always so with `autoStart`, else from start() until the queue idles. */
  #running = false;
  #busy = false;
  // Running totals, kept up to date on every change of an entry, so that `progress`, `busy` and the pump
  // cost O(1) per event: the element reads them once per frame, and a queue of hundreds of files fires
  // thousands of events.
  readonly #counts: Record<UploadStatus, number> = {
    queued: 0,
    connecting: 0,
    sending: 0,
    complete: 0,
    failed: 0,
    cancelled: 0,
  };
  #loaded = 0;
  #total = 0;
  #speed = 0;

  /**
   * @param options - see {@link UploadQueueOptions}
   * @throws TypeError or RangeError naming the option when an option is invalid
   */
  constructor(options: UploadQueueOptions = {}) {
    super();
    this.#options = {
      ...DEFAULTS,
      chunkSize: 0,
      type: 'base64',
      parameters: [],
      authTimeout: 0,
      answerTimeout: 0,
    };
    this.configure(options);
  }

  /**
   * Changes options; they apply to files that start afterwards (and `concurrency` at once).
   *
   * @param options - the options to change; `undefined` values restore the defaults
   * @throws TypeError or RangeError naming the option when an option is invalid
   */
  configure(options: UploadQueueOptions): void {
    const next = { ...this.#options };
    for (const [key, value] of Object.entries(options) as [keyof UploadQueueOptions, unknown][]) {
      (next as Record<string, unknown>)[key] =
        value === undefined ? (DEFAULTS as Record<string, unknown>)[key] : value;
    }
    checkCount('concurrency', next.concurrency, 1);
    checkCount('maxFiles', next.maxFiles, 0);
    if (typeof next.maxFileSize !== 'number' || Number.isNaN(next.maxFileSize) || next.maxFileSize < 0) {
      throw new RangeError('UploadQueue: "maxFileSize" must be a number of bytes, 0 or more.');
    }
    if (typeof next.accept !== 'string') throw new TypeError('UploadQueue: "accept" must be a string.');
    // Checked here as well as by each transfer, so that a bad value fails where it is set, not file by file.
    if (next.chunkSize) {
      checkCount('chunkSize', next.chunkSize, 1);
      if (next.chunkSize > MAX_CHUNK_SIZE) {
        throw new RangeError(
          `UploadQueue: "chunkSize" must be at most ${MAX_CHUNK_SIZE}; got ${next.chunkSize}.`,
        );
      }
    }
    if (next.type !== undefined && next.type !== 'base64' && next.type !== 'binary') {
      throw new TypeError('UploadQueue: "type" must be "base64" or "binary".');
    }
    const auth = next.auth;
    if (auth !== undefined && auth !== null) {
      const valid =
        typeof auth === 'object' &&
        (('token' in auth && typeof auth.token === 'string') ||
          ('login' in auth && typeof auth.login === 'string'));
      if (!valid) {
        throw new TypeError('UploadQueue: "auth" must be {login, password} or {token}.');
      }
    }
    this.#options = next;
    this.#pump();
  }

  /** Every item, in the order added. The array is a copy; the items are live (see {@link UploadItem}). */
  get items(): UploadItem[] {
    return [...this.#entries];
  }

  /** Figures over every item that is not cancelled; O(1), from running totals. */
  get progress(): QueueProgress {
    const loaded = this.#loaded;
    const total = this.#total;
    // A sum of floats updated by subtraction drifts; with nothing sending the speed is exactly 0.
    const speed = this.#counts.sending === 0 ? 0 : Math.max(0, this.#speed);
    const left = total - loaded;
    return {
      loaded,
      total,
      percentage: total === 0 ? 100 : (loaded / total) * 100,
      speed,
      remainingTime: left === 0 ? 0 : speed > 0 ? left / speed : Infinity,
      counts: { ...this.#counts },
    };
  }

  /** Whether any item is being sent or waits for a slot in a running queue. */
  get busy(): boolean {
    return this.#busy;
  }

  /**
   * Checks files against the restrictions and queues those that pass; starts them with `autoStart`.
   * Refused files fire `reject`, in order, and are not kept.
   *
   * @param files - the files (a `FileList` from an input or a drop, or any iterable)
   * @returns the items added and the files refused
   */
  add(files: Iterable<File> | ArrayLike<File>): { added: UploadItem[]; rejected: Rejection[] } {
    const added: Entry[] = [];
    const rejected: Rejection[] = [];
    for (const file of Array.from(files as ArrayLike<File>)) {
      const reason = this.#check(file);
      if (reason) {
        rejected.push({ file, reason });
        continue;
      }
      const entry: Entry = {
        id: this.#nextId++,
        file,
        status: 'queued',
        loaded: 0,
        sent: 0,
        total: file.size,
        percentage: 0,
        speed: 0,
        elapsedTime: 0,
        remainingTime: Infinity,
        error: null,
        storedAs: null,
        transfer: null,
      };
      this.#entries.push(entry);
      this.#account(entry, 1);
      added.push(entry);
    }
    for (const rejection of rejected) this.#dispatch('reject', rejection);
    if (added.length > 0) this.#dispatch('add', { items: added });
    if (this.#options.autoStart) this.#running = true;
    this.#pump();
    return { added, rejected };
  }

  /** Starts the queued items, `concurrency` at a time. Items added while they run join them. */
  start(): void {
    this.#running = true;
    this.#pump();
  }

  /**
   * Cancels one item (or every item that has not ended): a running upload is aborted, a queued one never
   * starts. Items already complete, failed or cancelled are left alone.
   *
   * @param target - the item or its file; omitted, every item
   */
  cancel(target?: UploadItem | File): void {
    for (const entry of this.#select(target)) {
      if (entry.status !== 'queued' && entry.status !== 'connecting' && entry.status !== 'sending') continue;
      const transfer = entry.transfer;
      entry.transfer = null; // first, so that the abort's own events are ignored
      transfer?.abort();
      this.#change(entry, () => {
        entry.speed = 0;
        entry.remainingTime = Infinity;
      });
      this.#setStatus(entry, 'cancelled');
      this.#dispatch('cancel', { item: entry });
    }
    this.#pump();
  }

  /**
   * Queues a failed or cancelled item again (or every such item) and lets the queue run; it starts from
   * the beginning of the file.
   *
   * @param target - the item or its file; omitted, every failed or cancelled item
   */
  retry(target?: UploadItem | File): void {
    let any = false;
    for (const entry of this.#select(target)) {
      if (entry.status !== 'failed' && entry.status !== 'cancelled') continue;
      this.#change(entry, () => {
        Object.assign(entry, {
          loaded: 0,
          sent: 0,
          percentage: 0,
          speed: 0,
          elapsedTime: 0,
          error: null,
          storedAs: null,
        });
        entry.remainingTime = Infinity;
      });
      this.#setStatus(entry, 'queued');
      any = true;
    }
    if (any) this.start();
  }

  /**
   * Takes one item (or every item) out of the queue, cancelling it first when it has not ended.
   *
   * @param target - the item or its file; omitted, every item
   */
  remove(target?: UploadItem | File): void {
    const entries = this.#select(target);
    this.cancel(target);
    for (const entry of entries) {
      const index = this.#entries.indexOf(entry);
      if (index < 0) continue;
      this.#entries.splice(index, 1);
      this.#account(entry, -1);
      this.#dispatch('remove', { item: entry });
    }
    this.#updateBusy();
  }

  /**
   * Adds a listener; typed for this class's events (see {@link UploadQueueEventMap}).
   *
   * @param type - the event name
   * @param listener - called with the event
   * @param options - as for `EventTarget.addEventListener`
   */
  override addEventListener<K extends keyof UploadQueueEventMap>(
    type: K,
    listener: Listener<K>,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
  }

  /**
   * Removes a listener added with {@link UploadQueue.addEventListener}.
   *
   * @param type - the event name
   * @param listener - the listener
   * @param options - as for `EventTarget.removeEventListener`
   */
  override removeEventListener<K extends keyof UploadQueueEventMap>(
    type: K,
    listener: Listener<K>,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener, options);
  }

  #check(file: File): RejectionReason | null {
    if (!(file instanceof Blob)) throw new TypeError('UploadQueue: add() takes File objects.');
    if (!acceptsFile(this.#options.accept, file)) return 'fileTypeNotAccepted';
    if (file.size > this.#options.maxFileSize) return 'fileTooBig';
    if (this.#entries.length >= this.#options.maxFiles) return 'tooManyFiles';
    return null;
  }

  #select(target: UploadItem | File | undefined): Entry[] {
    if (target === undefined || target === null) return [...this.#entries];
    return this.#entries.filter((entry) => entry === target || entry.file === target);
  }

  /** Starts queued items while slots are free. */
  #pump(): void {
    if (this.#running && this.#counts.queued > 0) {
      let active = this.#counts.connecting + this.#counts.sending;
      for (const entry of this.#entries) {
        if (active >= this.#options.concurrency) break;
        if (entry.status !== 'queued') continue;
        this.#begin(entry);
        active += 1;
      }
    }
    this.#updateBusy();
  }

  #begin(entry: Entry): void {
    const { url, chunkSize, type, parameters, auth, authTimeout, answerTimeout, WebSocket } = this.#options;
    this.#setStatus(entry, 'connecting');
    let transfer: WebSocketFileTransfer;
    try {
      if (!url) throw new TypeError('UploadQueue: "url" is not set.');
      transfer = new WebSocketFileTransfer({
        url,
        file: entry.file,
        type,
        parameters,
        // Zero means "the transfer's default", so that the queue does not repeat the core's defaults.
        ...(chunkSize ? { chunkSize } : {}),
        ...(authTimeout ? { authTimeout } : {}),
        ...(answerTimeout ? { answerTimeout } : {}),
        ...(auth && 'token' in auth ? { token: auth.token } : {}),
        ...(WebSocket ? { WebSocket } : {}),
      });
    } catch (cause) {
      // No url yet (or a URL the transfer refuses): this file fails with a message naming it, not the page.
      const message = cause instanceof Error ? cause.message : String(cause);
      this.#failed(entry, new UploadError('connectionFailed', message, { cause }));
      return;
    }
    entry.transfer = transfer;
    const mine = (): boolean => entry.transfer === transfer;
    transfer.addEventListener('progress', (event) => {
      if (!mine()) return;
      this.#apply(entry, event.detail);
      if (entry.status === 'connecting') this.#setStatus(entry, 'sending');
      this.#dispatch('progress', { item: entry, progress: event.detail });
    });
    transfer.addEventListener('success', (event) => {
      if (!mine()) return;
      entry.transfer = null;
      entry.storedAs = event.detail.stored?.filename ?? null;
      this.#apply(entry, event.detail);
      this.#change(entry, () => (entry.speed = 0));
      this.#setStatus(entry, 'complete');
      this.#dispatch('success', { item: entry, progress: event.detail });
      this.#pump();
    });
    transfer.addEventListener('error', (event) => {
      if (!mine()) return;
      entry.transfer = null;
      this.#failed(entry, event.detail.error);
    });
    const credentials = auth && 'login' in auth ? auth : null;
    if (credentials) transfer.start(credentials.login, credentials.password ?? '');
    else transfer.start();
  }

  #failed(entry: Entry, error: UploadError): void {
    this.#change(entry, () => {
      entry.error = error;
      entry.speed = 0;
      entry.remainingTime = Infinity;
    });
    this.#setStatus(entry, 'failed');
    this.#dispatch('error', { item: entry, error });
    this.#pump();
  }

  #apply(entry: Entry, figures: ProgressDetail): void {
    this.#change(entry, () => {
      entry.loaded = figures.loaded;
      entry.sent = figures.sent;
      entry.total = figures.total;
      entry.percentage = figures.percentage;
      entry.speed = figures.speed;
      entry.elapsedTime = figures.elapsedTime;
      entry.remainingTime = figures.remainingTime;
    });
  }

  /** Changes an entry's fields with the running totals kept right: its share comes out, then back in. */
  #change(entry: Entry, mutate: () => void): void {
    this.#account(entry, -1);
    mutate();
    this.#account(entry, 1);
  }

  /** Adds (`sign` 1) or takes out (-1) one entry's share of the running totals. */
  #account(entry: Entry, sign: 1 | -1): void {
    this.#counts[entry.status] += sign;
    if (entry.status === 'cancelled') return;
    this.#loaded += sign * entry.loaded;
    this.#total += sign * entry.total;
    if (entry.status === 'sending') this.#speed += sign * entry.speed;
  }

  /** The one way an item's status changes. */
  #setStatus(entry: Entry, next: UploadStatus): void {
    if (!TRANSITIONS[entry.status].includes(next)) {
      // A bug in this class, not a caller's mistake: fail loudly rather than show a contradictory state.
      throw new Error(`UploadQueue: illegal status change ${entry.status} → ${next}.`);
    }
    this.#change(entry, () => (entry.status = next));
    this.#dispatch('status', { item: entry });
  }

  #updateBusy(): void {
    const counts = this.#counts;
    const busy = counts.connecting + counts.sending > 0 || (this.#running && counts.queued > 0);
    const wasBusy = this.#busy;
    this.#busy = busy;
    if (wasBusy && !busy) {
      this.#running = this.#options.autoStart;
      const items = this.items;
      this.#dispatch('complete', {
        items,
        succeeded: items.filter((item) => item.status === 'complete').length,
        failed: items.filter((item) => item.status === 'failed').length,
      });
    }
  }

  #dispatch<K extends keyof UploadQueueEventMap>(type: K, detail: UploadQueueEventMap[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/**
 * Tells whether a file matches an `accept` list as the file input reads it: `.ext` matches the name's end
 * (case-insensitive), `type/*` the MIME type's major part, anything else the MIME type exactly.
 *
 * @param accept - comma-separated tokens; empty accepts everything
 * @param file - the file to check
 * @returns whether the file is accepted
 */
export function acceptsFile(accept: string, file: File): boolean {
  const tokens = accept
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter(Boolean);
  if (tokens.length === 0) return true;
  const name = file.name.toLowerCase();
  const type = file.type.toLowerCase();
  return tokens.some((token) => {
    if (token.startsWith('.')) return name.endsWith(token);
    if (token.endsWith('/*')) return type.startsWith(token.slice(0, -1));
    return type === token;
  });
}

function checkCount(name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`UploadQueue: "${name}" must be a number.`);
  }
  if (value !== Infinity && (!Number.isInteger(value) || value < min)) {
    throw new RangeError(`UploadQueue: "${name}" must be an integer of ${min} or more; got ${value}.`);
  }
}
