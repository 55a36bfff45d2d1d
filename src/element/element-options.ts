/**
 * The element's upload options, as its base class: every attribute and property that becomes an option of
 * the core's UploadQueue (and through it of each file's transfer), the converters that read them from
 * attributes, the fallback to defaults for out-of-range numbers (as native elements ignore bad values), and
 * the one mapping to {@link UploadQueueOptions}. Attributes where a string says it; properties otherwise.
 */
import { property } from 'lit/decorators.js';
import {
  MAX_CHUNK_SIZE,
  MAX_WINDOW,
  type PrepareHook,
  type ResumeStore,
  type RetrySituation,
  type UploadAuth,
  type UploadQueueOptions,
  type WebSocketConstructor,
} from '../core/index.ts';
import { DEFAULT_MAX_FOLDER_DEPTH, DEFAULT_MAX_FOLDER_FILES, type FolderLimits } from './folder-entries.ts';
import { FormAssociatedElement } from './form-associated-element.ts';

/** The largest timeout a timer takes (ms). */
const MAX_TIMEOUT = 2 ** 31 - 1;

/** Reads a number attribute; absent or not a number gives undefined, so the default applies. */
export const optionalNumber = {
  fromAttribute: (value: string | null): number | undefined => {
    if (value === null || value.trim() === '') return undefined;
    const number = Number(value);
    return Number.isNaN(number) ? undefined : number;
  },
  toAttribute: (value: number | undefined): string | null => (value === undefined ? null : String(value)),
};

/** Reads an on-by-default switch: absent or any value is on, except `off`, `false`, `none` and `0`. */
export const onUnlessOff = {
  fromAttribute: (value: string | null): boolean =>
    value === null || !['off', 'false', 'none', '0'].includes(value.trim().toLowerCase()),
};

/** Reads a comma-separated list of milliseconds (`retry-delays="0, 1000, 5000"`); anything else is unset. */
export const millisecondList = {
  fromAttribute: (value: string | null): number[] | undefined => {
    if (value === null) return undefined;
    const list = value.trim() === '' ? [] : value.split(',').map((item) => Number(item.trim()));
    return list.every((ms) => inRange(ms, 0, MAX_TIMEOUT) !== undefined) ? list : undefined;
  },
};

/**
 * @param value - a number from an attribute or property
 * @param min - the smallest accepted value
 * @param max - the largest accepted value (Infinity for none)
 * @returns the value when it is a whole number within the bounds (or Infinity for an open bound), else undefined
 */
export function inRange(value: number | undefined, min: number, max: number): number | undefined {
  if (value === undefined || Number.isNaN(value)) return undefined;
  const whole = Number.isInteger(value) || (value === Infinity && max === Infinity);
  return whole && value >= min && value <= max ? value : undefined;
}

/** A form-associated element with every upload option as an attribute or property. */
export abstract class UploadOptionsElement extends FormAssociatedElement {
  /** The WebSocket URL of the upload server (`ws://` or `wss://`). */
  @property() url = '';

  /** Lets the user pick and drop several files; without it the element holds one file. */
  @property({ type: Boolean }) multiple = false;

  /** Picks a folder (`webkitdirectory`); each file keeps its path in it, shown and sent. Implies `multiple`. */
  @property({ type: Boolean }) directory = false;

  /** Accepted types as for `<input type="file" accept>`: `.pdf`, `image/*`, `application/zip`, comma-separated. */
  @property() accept = '';

  /** The largest accepted file, in bytes (default: no limit). */
  @property({ attribute: 'max-file-size', converter: optionalNumber }) maxFileSize: number | undefined;

  /** How many files the list may hold (default: no limit with `multiple`, else 1). */
  @property({ attribute: 'max-files', converter: optionalNumber }) maxFiles: number | undefined;

  /** The most entries (files and folders) read from one dropped folder; a bigger drop adds nothing (10,000). */
  @property({ attribute: 'max-folder-files', converter: optionalNumber }) maxFolderFiles: number | undefined;

  /** The most folder levels a dropped file may sit under; a deeper drop adds nothing (16, the server's default). */
  @property({ attribute: 'max-folder-depth', converter: optionalNumber }) maxFolderDepth: number | undefined;

  /** How many files are sent at once (default 2). */
  @property({ converter: optionalNumber }) concurrency: number | undefined;

  /** Starts each file as soon as it is added; without it an Upload button starts them. */
  @property({ type: Boolean }) auto = false;

  /** Raw bytes per chunk under protocol v1 (default 48 KiB, which every v1 server accepts). */
  @property({ attribute: 'chunk-size', converter: optionalNumber }) chunkSize: number | undefined;

  /** How v1 chunks travel: `base64` text frames (default; works with 2012 servers) or `binary` frames. */
  @property() type: 'base64' | 'binary' = 'base64';

  /** Offers protocol v2 (default on; `offer-v2="off"` sends the 2012 STOR byte for byte, and cannot pause). */
  @property({ attribute: 'offer-v2', converter: onUnlessOff }) offerV2 = true;

  /** Integrity: offers an end-to-end SHA-256 under v2, checked by the server before success (`checksum="off"`). */
  @property({ converter: onUnlessOff }) checksum = true;

  /** Chunks kept unacknowledged under v2, the flow-control credit (default 16, at most 64). */
  @property({ converter: optionalNumber }) window: number | undefined;

  /** Raw bytes per chunk under v2 (default 1 MiB; the server's limit caps it). */
  @property({ attribute: 'v2-chunk-size', converter: optionalNumber }) v2ChunkSize: number | undefined;

  /** Milliseconds before each reconnection under v2, comma-separated (default `0,1000,3000,5000,10000,20000`). */
  @property({ attribute: 'retry-delays', converter: millisecondList }) retryDelays:
    readonly number[] | undefined;

  /** Milliseconds to wait for the answer to `AUTH` (default 10000). */
  @property({ attribute: 'auth-timeout', converter: optionalNumber }) authTimeout: number | undefined;

  /** Milliseconds to wait for the answer to `STOR` and each chunk (default 30000). */
  @property({ attribute: 'answer-timeout', converter: optionalNumber }) answerTimeout: number | undefined;

  /** Where resume records are kept (default `localStorage`); null keeps none, so nothing can pause. */
  @property({ attribute: false }) resumeStore: ResumeStore | null | undefined;

  /** Asked before each reconnection the retry policy would make; return false to fail instead. */
  @property({ attribute: false }) shouldRetry: ((situation: RetrySituation) => boolean) | undefined;

  /** The WebSocket constructor (default `globalThis.WebSocket`), for a wrapped or instrumented one. */
  @property({ attribute: false }) webSocket: WebSocketConstructor | undefined;

  /** Credentials sent with `AUTH` before each file: `{login, password}` or `{token}`. A property only: secrets never sit in the DOM. */
  @property({ attribute: false }) auth: UploadAuth | null = null;

  /** Sent as is with every `STOR` (for example a folder or a form id); must survive `JSON.stringify`. */
  @property({ attribute: false }) parameters: unknown = [];

  /** Asked before each file starts (may be async): its `parameters` and/or `token`, or `{ reject: message }`. */
  @property({ attribute: false }) prepare: PrepareHook | null = null;

  /**
   * The bounds of a dropped folder's walk, from `max-folder-files` and `max-folder-depth` (a value out of
   * range gives the default).
   *
   * @returns the bounds
   */
  protected folderLimits(): FolderLimits {
    return {
      maxFiles: inRange(this.maxFolderFiles, 1, Infinity) ?? DEFAULT_MAX_FOLDER_FILES,
      maxDepth: inRange(this.maxFolderDepth, 1, Infinity) ?? DEFAULT_MAX_FOLDER_DEPTH,
    };
  }

  /**
   * The queue's options from the attributes and properties, one to one. A number out of range
   * (`chunk-size="0"`, `concurrency="-1"`, `window="1000"`) falls back to the default.
   *
   * @returns the options; `undefined` values mean "the default"
   */
  protected queueOptions(): UploadQueueOptions {
    return {
      url: this.url || undefined,
      accept: this.accept,
      maxFileSize: inRange(this.maxFileSize, 0, Infinity),
      // A folder holds several files: `directory` lets the list hold them as `multiple` does.
      maxFiles:
        this.multiple || this.directory
          ? inRange(this.maxFiles, 0, Infinity)
          : Math.min(1, inRange(this.maxFiles, 0, 1) ?? 1),
      concurrency: inRange(this.concurrency, 1, Infinity),
      autoStart: this.auto,
      chunkSize: inRange(this.chunkSize, 1, MAX_CHUNK_SIZE),
      type: this.type === 'binary' ? 'binary' : 'base64',
      offerV2: this.offerV2 !== false,
      checksum: this.checksum !== false,
      window: inRange(this.window, 1, MAX_WINDOW),
      v2ChunkSize: inRange(this.v2ChunkSize, 1, MAX_CHUNK_SIZE),
      retryDelays: this.retryDelays,
      authTimeout: inRange(this.authTimeout, 1, MAX_TIMEOUT),
      answerTimeout: inRange(this.answerTimeout, 1, MAX_TIMEOUT),
      resumeStore: this.resumeStore,
      shouldRetry: this.shouldRetry,
      WebSocket: this.webSocket,
      auth: this.auth,
      parameters: this.parameters,
      prepare: this.prepare ?? undefined,
    };
  }
}
