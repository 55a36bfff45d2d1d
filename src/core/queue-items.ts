/**
 * The queue's vocabulary: an item's status and its transitions table, the item callers see, the figures,
 * the events and their details, and the `accept` check. Types and pure functions only; the queue is in
 * upload-queue.ts.
 */
import type { UploadError } from './errors.ts';
import type { ProgressDetail, WarningDetail } from './events.ts';
import type { QueueTokenProvider } from './queue-prepare.ts';
import type { PauseRefusal } from './pause-refusal.ts';
import type { WebSocketFileTransfer } from './web-socket-file-transfer.ts';

/**
 * Where one file of an {@link UploadQueue} is. One field, changed only through legal moves:
 *
 * | from | to |
 * |---|---|
 * | `queued` | `connecting` (a slot is free and the queue runs), `paused` (held), `cancelled` |
 * | `connecting` | `sending` (the first chunk was acknowledged), `retrying`, `complete` (empty file), `failed`, `paused`, `cancelled` |
 * | `sending` | `retrying` (the connection dropped; the transfer reconnects), `complete`, `failed`, `paused`, `cancelled` |
 * | `retrying` | `sending` (a chunk was acknowledged again), `complete`, `failed`, `paused`, `cancelled` |
 * | `paused` | `queued` (resume: it takes the next free slot), `cancelled` |
 * | `failed` | `queued` (retry) |
 * | `cancelled` | `queued` (retry) |
 *
 * `complete` is final. A stopped upload is `complete`, `failed`, `cancelled` or `paused` — the transfer's
 * `complete`, `failed`, `aborted` and `paused`: the queue cancels an item by cancelling its transfer (the 2012
 * word `abort` survives only in the transfer's event and state). A paused item keeps the server's partial
 * upload; resumed, a new transfer continues it from the server's offset.
 */
export type UploadStatus =
  'queued' | 'connecting' | 'sending' | 'retrying' | 'paused' | 'complete' | 'failed' | 'cancelled';

/** Every legal status change, by status. */
export const STATUS_TRANSITIONS: Readonly<Record<UploadStatus, readonly UploadStatus[]>> = {
  queued: ['connecting', 'paused', 'cancelled'],
  connecting: ['sending', 'retrying', 'complete', 'failed', 'paused', 'cancelled'],
  sending: ['retrying', 'complete', 'failed', 'paused', 'cancelled'],
  retrying: ['sending', 'complete', 'failed', 'paused', 'cancelled'],
  paused: ['queued', 'cancelled'],
  complete: [],
  failed: ['queued'],
  cancelled: ['queued'],
};

/** The statuses of an item that holds a slot: its transfer runs. */
export const RUNNING_STATUSES: readonly UploadStatus[] = ['connecting', 'sending', 'retrying'];

/** Why a file was refused before any upload; these keys double as i18n keys. */
export type RejectionReason = 'fileTypeNotAccepted' | 'fileTooBig' | 'tooManyFiles';

/**
 * Credentials sent with `AUTH` before each file: a login and password, or a token, or a token provider
 * asked on every connection (and again with `refresh: true` after a 401; see queue-prepare.ts).
 */
export type UploadAuth = { login: string; password?: string } | { token: string | QueueTokenProvider };

/** A file with the folder it came from (relative to the folder picked or dropped), for {@link UploadQueue.add}. */
export interface FileInFolder {
  file: File;
  /** `photos/2024`: segments separated by `/`; '' for none. */
  path: string;
}

/**
 * One file of the queue, as callers see it. The queue updates these fields in place (so that a list of
 * hundreds re-renders without copying); callers read them and never write them.
 */
export interface UploadItem {
  /** A number unique within the queue, stable for the item's life (a key for rendering). */
  readonly id: number;
  /** The file to send. */
  readonly file: File;
  /**
   * The folder it came from, relative to the folder picked or dropped (`photos/2024`), sent in STOR as
   * `path`; '' for a file picked or dropped on its own.
   */
  readonly path: string;
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
   * The name the server stored the file under, relative to its upload folder (with the folders it recreated,
   * `photos/2024/a.jpg`), once `complete` over protocol v2 (sanitised, or numbered beside an existing file);
   * null before, and under v1, whose answers do not say.
   */
  readonly storedAs: string | null;
  /**
   * Whether {@link UploadQueue.pause} would pause this running upload now: false under protocol v1 (a v1
   * upload cannot resume, so it cannot pause) and while the server answers STOR. A queued item can always
   * be held with `pause()`; this says nothing about it.
   */
  readonly pausable: boolean;
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

/** The `detail` of the queue's `add` event. */
export interface AddDetail {
  /** The items just added, in order. */
  items: UploadItem[];
}
/** A running item that {@link UploadQueue.pause} did not pause, and why. */
export interface PauseRefused {
  /** The item. */
  item: UploadItem;
  /** Why: `notResumable` (v1 server), `notYetAgreed` (STOR being answered), `notRunning`. */
  reason: PauseRefusal;
  /** The reason in a sentence. */
  message: string;
}

/** What {@link UploadQueue.pause} did. */
export interface PauseResult {
  /** The items now paused (held, if they were queued). */
  paused: UploadItem[];
  /** Running items that cannot pause now, with why. */
  refused: PauseRefused[];
}

/** The `detail` of the queue's `reject` event. */
export type RejectDetail = Rejection;
/** The `detail` of `status`, `cancel`, `pause`, `resume` and `remove`. */
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
/** The `detail` of the queue's `warning` event: the transfer's warning, for one item. */
export interface ItemWarningDetail extends ItemDetail {
  /** `integrityUnavailable` (no WebCrypto here) or `integrityNotGranted` (the server checks no blocks). */
  code: WarningDetail['code'];
  /** A sentence for developers (English). */
  message: string;
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
  warning: CustomEvent<ItemWarningDetail>;
  cancel: CustomEvent<ItemDetail>;
  pause: CustomEvent<ItemDetail>;
  resume: CustomEvent<ItemDetail>;
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
  'warning',
  'cancel',
  'pause',
  'resume',
  'remove',
  'complete',
] as const satisfies readonly (keyof UploadQueueEventMap)[];

/** The figures of its transfer's last `progress` that an entry keeps (each is documented on ProgressDetail). */
export type EntryFigures = Omit<ProgressDetail, 'file' | 'stored'>;

/** The mutable record behind an {@link UploadItem}. */
export interface Entry extends EntryFigures {
  id: number;
  file: File;
  path: string;
  /** Bumped each time the item starts, so that a `prepare` answer for an older start is ignored. */
  attempt: number;
  /** Whether this start already retried once with a refreshed token after a 401. */
  refreshed: boolean;
  storedAs: string | null;
  status: UploadStatus;
  error: UploadError | null;
  /** The running attempt (or the paused one, which a cancel tells the server about); null when none. */
  transfer: WebSocketFileTransfer | null;
  readonly pausable: boolean;
}

/**
 * A new entry for a file, queued.
 *
 * @param id - the item's id
 * @param file - the file
 * @param path - the folder it came from, '' for none
 * @returns the entry
 */
export function newEntry(id: number, file: File, path = ''): Entry {
  return {
    id,
    file,
    path,
    attempt: 0,
    refreshed: false,
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
    get pausable(): boolean {
      return RUNNING_STATUSES.includes(this.status) && this.transfer?.pauseRefusal === null;
    },
  };
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

/**
 * The folder a file from a `webkitdirectory` input came from: its `webkitRelativePath` without the name
 * (`top/sub/a.txt` → `top/sub`); '' for any other file.
 *
 * @param file - the file
 * @returns the folder path, segments separated by `/`
 */
export function folderOf(file: File): string {
  const relative = (file as { webkitRelativePath?: unknown }).webkitRelativePath;
  if (typeof relative !== 'string') return '';
  const slash = relative.lastIndexOf('/');
  return slash > 0 ? relative.slice(0, slash) : '';
}

/** A stopped item's speed and time left: none, while its bytes so far stay. */
export function haltFigures(entry: Entry): void {
  entry.speed = 0;
  entry.remainingTime = Infinity;
}

/** An item queued again from the start (retry): nothing sent, no error, nothing stored. */
export function resetFigures(entry: Entry): void {
  Object.assign(entry, { loaded: 0, sent: 0, percentage: 0, elapsedTime: 0, error: null, storedAs: null });
  haltFigures(entry);
}

/** The transfer's figures onto its item. */
export function copyFigures(entry: Entry, figures: ProgressDetail): void {
  const { loaded, sent, total, percentage, speed, elapsedTime, remainingTime } = figures;
  Object.assign(entry, { loaded, sent, total, percentage, speed, elapsedTime, remainingTime });
}
