import { html, LitElement, nothing, svg, type PropertyValues, type TemplateResult } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { ifDefined } from 'lit/directives/if-defined.js';
import { repeat } from 'lit/directives/repeat.js';
import { styleMap } from 'lit/directives/style-map.js';
import {
  MAX_CHUNK_SIZE,
  UploadQueue,
  type ProgressDetail,
  type RejectionReason,
  type UploadAuth,
  type UploadError,
  type UploadItem,
  type UploadQueueEventMap,
} from '../core/index.ts';
import { formatDuration, formatPercentage, formatSize, prepareFormats } from './format.ts';
import { fill, mergeI18n, type WsFileUploadI18n, type WsFileUploadI18nOverrides } from './i18n.ts';
import { UploadQueueController } from './upload-queue-controller.ts';
import { visibleRange, type RowRange } from './visible-range.ts';
import { styles } from './ws-file-upload.styles.ts';

/** The `detail` of `progress` and `success`: the file and the 2012 library's figures. */
export type WsFileUploadProgressDetail = ProgressDetail & {
  /** The file. */
  file: File;
};

/** The `detail` of `error`. */
export interface WsFileUploadErrorDetail {
  /** The file that failed. */
  file: File;
  /** Why; branch on `error.code` (stable camelCase), `error.status` holds the server's code. */
  error: UploadError;
  /** The i18n message shown for it. */
  message: string;
}

/** The `detail` of `file-rejected`. */
export interface WsFileUploadRejectDetail {
  /** The refused file. */
  file: File;
  /** Which restriction refused it (also the i18n key under `error`). */
  reason: RejectionReason;
  /** The i18n message shown for it. */
  message: string;
}

/** The `detail` of `cancel`. */
export interface WsFileUploadCancelDetail {
  /** The cancelled file. */
  file: File;
}

/** The `detail` of `complete`. */
export interface WsFileUploadCompleteDetail {
  /** Every item when the queue went idle. */
  items: readonly UploadItem[];
  /** How many are uploaded. */
  succeeded: number;
  /** How many failed. */
  failed: number;
}

/**
 * The events of `<ws-file-upload>`. Use it for typed listeners; it is deliberately not merged into the global
 * `HTMLElementEventMap`, where lib.dom already types `progress` as a `ProgressEvent`.
 */
export interface WsFileUploadEventMap {
  progress: CustomEvent<WsFileUploadProgressDetail>;
  success: CustomEvent<WsFileUploadProgressDetail>;
  error: CustomEvent<WsFileUploadErrorDetail>;
  'file-rejected': CustomEvent<WsFileUploadRejectDetail>;
  cancel: CustomEvent<WsFileUploadCancelDetail>;
  complete: CustomEvent<WsFileUploadCompleteDetail>;
}

type Listener<K extends keyof WsFileUploadEventMap> = (
  this: WsFileUpload,
  event: WsFileUploadEventMap[K],
) => unknown;

/** Reads a number attribute; absent or not a number gives undefined, so the default applies. */
const optionalNumber = {
  fromAttribute: (value: string | null): number | undefined => {
    if (value === null || value.trim() === '') return undefined;
    const number = Number(value);
    return Number.isNaN(number) ? undefined : number;
  },
  toAttribute: (value: number | undefined): string | null => (value === undefined ? null : String(value)),
};

const ICONS = {
  cancel: svg`<path d="M4 4l8 8M12 4l-8 8" />`,
  retry: svg`<path d="M13 8a5 5 0 1 1-1.5-3.5M13 2v3h-3" />`,
  remove: svg`<path d="M3 4h10M6 4V2.5h4V4M4.5 4l.7 9.5h5.6l.7-9.5" />`,
};

const RUNNING = new Set(['queued', 'connecting', 'sending', 'retrying']);

/** Rows rendered above and below the view: enough for Tab and a wheel notch to land on a rendered row. */
const OVERSCAN = 4;
/** The row pitch assumed until one is measured (two lines of text, a bar and padding at 16px). */
const ESTIMATED_PITCH = 76;
/** The view assumed while the list has no height yet (not laid out): about a screenful of rows. */
const ESTIMATED_VIEWPORT = 10 * ESTIMATED_PITCH;

/** The value when it is a whole number within the bounds (or Infinity for an open bound), else undefined. */
function inRange(value: number | undefined, min: number, max: number): number | undefined {
  if (value === undefined || Number.isNaN(value)) return undefined;
  const whole = Number.isInteger(value) || (value === Infinity && max === Infinity);
  return whole && value >= min && value <= max ? value : undefined;
}

/**
 * Uploads files over a WebSocket: a picker button and drop zone, a queue with a progress bar per file, and
 * events for every outcome. Speaks the 2012 WebSocketFileTransfer protocol (v1).
 *
 * ```html
 * <ws-file-upload url="wss://example.com/upload" multiple auto></ws-file-upload>
 * ```
 *
 * @summary A file upload element that sends big files over one WebSocket per file.
 *
 * @slot drop-label - Replaces the drop zone's text.
 * @slot button - Replaces the picker button's text.
 *
 * @fires progress - `CustomEvent<WsFileUploadProgressDetail>`, bubbles and composed: the server acknowledged a chunk.
 * @fires success - `CustomEvent<WsFileUploadProgressDetail>`, bubbles and composed: a file is stored.
 * @fires error - `CustomEvent<WsFileUploadErrorDetail>`, on the host only (no bubbling): a file failed.
 * @fires file-rejected - `CustomEvent<WsFileUploadRejectDetail>`, bubbles and composed: a file broke a restriction.
 * @fires cancel - `CustomEvent<WsFileUploadCancelDetail>`, on the host only: a file was cancelled.
 * @fires complete - `CustomEvent<WsFileUploadCompleteDetail>`, bubbles and composed: the queue went idle.
 *
 * @csspart base - The wrapper of everything.
 * @csspart drop-zone - The area that takes dropped files.
 * @csspart drop-label - The drop zone's text.
 * @csspart button - The picker button.
 * @csspart upload-button - The button that starts queued files (without `auto`).
 * @csspart rejections - The list of refused files; each is a `rejection`.
 * @csspart rejection - One refused file and why.
 * @csspart summary - The aggregate line shown with several files.
 * @csspart file-list-viewport - The scrolling box around the file list.
 * @csspart file-list - The list of files; only the rows in view (and a few more) are in the DOM.
 * @csspart file - One file; also `file-queued`, `file-connecting`, `file-sending`, `file-complete`, `file-failed` or `file-cancelled`.
 * @csspart file-name - The file's name.
 * @csspart file-size - The file's size.
 * @csspart progress - The file's progress bar (`role="progressbar"`).
 * @csspart progress-indicator - The filled part of the bar.
 * @csspart status-line - The line under the bar: status, speed, time left.
 * @csspart status - The file's status or error text.
 * @csspart details - Speed and time left while sending.
 * @csspart actions - The file's buttons.
 * @csspart cancel-button - Cancels the file.
 * @csspart retry-button - Retries the file.
 * @csspart remove-button - Removes the file from the list.
 *
 * @cssprop --ws-file-upload-font-family - Font family (default: inherited).
 * @cssprop --ws-file-upload-font-size - Font size (default 1rem).
 * @cssprop --ws-file-upload-color - Text colour.
 * @cssprop --ws-file-upload-muted-color - Secondary text colour.
 * @cssprop --ws-file-upload-background - Background of the drop zone and files.
 * @cssprop --ws-file-upload-border-color - Borders.
 * @cssprop --ws-file-upload-accent-color - Buttons, focus ring and bars.
 * @cssprop --ws-file-upload-accent-text-color - Text on accent-coloured buttons.
 * @cssprop --ws-file-upload-success-color - Bars of uploaded files.
 * @cssprop --ws-file-upload-error-color - Errors and bars of failed files.
 * @cssprop --ws-file-upload-track-color - The bars' empty track.
 * @cssprop --ws-file-upload-drag-background - The drop zone while files are dragged over it.
 * @cssprop --ws-file-upload-radius - Corner radius.
 * @cssprop --ws-file-upload-spacing - Gaps and padding.
 * @cssprop --ws-file-upload-progress-height - The bars' height.
 * @cssprop --ws-file-upload-list-max-height - The file list's height before it scrolls (default 24rem).
 * @cssprop --ws-file-upload-focus-ring - The focus outline.
 */
export class WsFileUpload extends LitElement {
  static override styles = styles;

  /** Takes part in forms: its value is the names of the uploaded files. */
  static formAssociated = true;

  /** The WebSocket URL of the upload server (`ws://` or `wss://`). */
  @property() url = '';

  /** Lets the user pick and drop several files; without it the element holds one file. */
  @property({ type: Boolean }) multiple = false;

  /** Accepted types as for `<input type="file" accept>`: `.pdf`, `image/*`, `application/zip`, comma-separated. */
  @property() accept = '';

  /** The largest accepted file, in bytes (default: no limit). */
  @property({ attribute: 'max-file-size', converter: optionalNumber }) maxFileSize: number | undefined;

  /** How many files the list may hold (default: no limit with `multiple`, else 1). */
  @property({ attribute: 'max-files', converter: optionalNumber }) maxFiles: number | undefined;

  /** How many files are sent at once (default 2). */
  @property({ converter: optionalNumber }) concurrency: number | undefined;

  /** Raw bytes per chunk (default 48 KiB, which every v1 server accepts). */
  @property({ attribute: 'chunk-size', converter: optionalNumber }) chunkSize: number | undefined;

  /** How chunks travel: `base64` text frames (default; works with 2012 servers) or `binary` frames. */
  @property() type: 'base64' | 'binary' = 'base64';

  /** Starts each file as soon as it is added; without it an Upload button starts them. */
  @property({ type: Boolean }) auto = false;

  /** Blocks picking, dropping and the buttons; reflected for styling. */
  @property({ type: Boolean, reflect: true }) disabled = false;

  /** Makes a form invalid until at least one file is uploaded. */
  @property({ type: Boolean }) required = false;

  /** The form field name the uploaded file names are submitted under. */
  @property() name = '';

  /** Credentials sent with `AUTH` before each file: `{login, password}` or `{token}`. A property only: secrets never sit in the DOM. */
  @property({ attribute: false }) auth: UploadAuth | null = null;

  /** Sent as is with every `STOR` (for example a folder or a form id); must survive `JSON.stringify`. */
  @property({ attribute: false }) parameters: unknown = [];

  /** Overrides of the visible strings, deep-merged over the English defaults (see `WsFileUploadI18n`). */
  @property({ attribute: false }) i18n: WsFileUploadI18nOverrides = {};

  @state() private rejections: { name: string; message: string }[] = [];

  @query('input[type=file]') private input!: HTMLInputElement;
  @query('[part~="button"]') private pickerButton!: HTMLButtonElement | null;
  @query('[part~="file-list-viewport"]') private listViewport!: HTMLElement | null;

  readonly #queue = new UploadQueue();
  readonly #internals: ElementInternals;
  #strings: WsFileUploadI18n = mergeI18n(null);
  #pendingAnnouncements: string[] = [];
  #announcement = '';
  #formDisabled = false;
  /** The `lang` of the nearest ancestor that has one, read once per render rather than once per row. */
  #locale: string | undefined;
  /** Whether the form value must be rebuilt: it changes only when a file completes or leaves the list. */
  #valueDirty = true;
  /** Set while clear() removes every item, so the form is updated once rather than once per item. */
  #clearing = false;
  // The file list renders only the rows in view (a window over the items): a first render of 500 rows is
  // one long main-thread task, while the rows a person can see cost the same for 5 files or 5000.
  #rowPitch = 0;
  #scrollTop = 0;
  #viewport = 0;
  /** What the last render drew: which rows, out of how many, at which pitch. */
  #rendered = { start: 0, end: 0, count: 0, pitch: 0 };
  #frame = 0;
  #observedList: HTMLElement | null = null;
  readonly #resizeObserver =
    typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(() => this.#handleListResize());

  constructor() {
    super();
    this.#internals = this.attachInternals();
    new UploadQueueController(this, this.#queue, (event) => this.#handleQueueEvent(event));
  }

  /** Every file in the list, in order; each item's fields are live and read-only. */
  get items(): readonly UploadItem[] {
    return this.#queue.items;
  }

  /**
   * The names of the uploaded files, the form value: the names the server stored them under when it said
   * (protocol v2), else the files' own names.
   */
  get value(): string[] {
    return this.#queue.items
      .filter((item) => item.status === 'complete')
      .map((item) => item.storedAs ?? item.file.name);
  }

  /** The form the element belongs to, if any. */
  get form(): HTMLFormElement | null {
    return this.#internals.form;
  }

  /** The element's validity, as for native form controls. */
  get validity(): ValidityState {
    return this.#internals.validity;
  }

  /** The message of the current validation failure, or `''`. */
  get validationMessage(): string {
    return this.#internals.validationMessage;
  }

  /** Whether the element takes part in form validation. */
  get willValidate(): boolean {
    return this.#internals.willValidate;
  }

  /**
   * Checks validity as a native control does (fires `invalid` when not valid).
   *
   * @returns whether the element is valid
   */
  checkValidity(): boolean {
    return this.#internals.checkValidity();
  }

  /**
   * Checks validity and shows the browser's message when not valid.
   *
   * @returns whether the element is valid
   */
  reportValidity(): boolean {
    return this.#internals.reportValidity();
  }

  /**
   * Adds files as a pick or a drop would: each is checked against `accept`, `max-file-size` and
   * `max-files`; refused files fire `file-rejected`. With `auto`, accepted files start at once.
   *
   * @param files - a `FileList` or any iterable of `File`s
   * @returns the items added
   */
  addFiles(files: Iterable<File> | ArrayLike<File>): UploadItem[] {
    this.#configure();
    this.rejections = [];
    return this.#queue.add(files).added;
  }

  /** Starts the queued files (what the Upload button does). */
  upload(): void {
    this.#configure();
    this.#queue.start();
  }

  /**
   * Cancels one file, or every file not yet ended.
   *
   * @param file - the file to cancel; omitted, all
   */
  cancel(file?: File): void {
    this.#queue.cancel(file);
  }

  /**
   * Sends a failed or cancelled file again from its start, or every such file.
   *
   * @param file - the file to retry; omitted, all
   */
  retry(file?: File): void {
    this.#configure();
    this.#queue.retry(file);
  }

  /**
   * Removes one file from the list, cancelling it first if it is running. (Not `remove()`: that name is
   * `Element.remove()`, which takes the element itself out of the DOM.)
   *
   * @param file - the file to remove
   */
  removeFile(file: File): void {
    this.#queue.remove(file);
  }

  /** Cancels everything and empties the list. */
  clear(): void {
    this.rejections = [];
    this.#clearing = true;
    try {
      this.#queue.remove();
    } finally {
      this.#clearing = false;
    }
    this.#updateForm();
  }

  /**
   * Adds a listener; typed for this element's events (see {@link WsFileUploadEventMap}).
   *
   * @param type - the event name
   * @param listener - called with the event
   * @param options - as for `EventTarget.addEventListener`
   */
  override addEventListener<K extends keyof WsFileUploadEventMap>(
    type: K,
    listener: Listener<K>,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
  }

  /**
   * Removes a listener added with {@link WsFileUpload.addEventListener}.
   *
   * @param type - the event name
   * @param listener - the listener
   * @param options - as for `EventTarget.removeEventListener`
   */
  override removeEventListener<K extends keyof WsFileUploadEventMap>(
    type: K,
    listener: Listener<K>,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener, options);
  }

  /** Empties the list when its form is reset. */
  formResetCallback(): void {
    this.clear();
  }

  /**
   * Follows a disabled `<fieldset>` around the element.
   *
   * @param disabled - whether an ancestor disabled the element
   */
  formDisabledCallback(disabled: boolean): void {
    this.#formDisabled = disabled;
    this.requestUpdate();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const locale = this.closest('[lang]')?.getAttribute('lang') || undefined;
    // In idle time, so that the locale data's first load is not part of answering the first drop.
    if (typeof requestIdleCallback === 'function') requestIdleCallback(() => prepareFormats(locale));
    else setTimeout(() => prepareFormats(locale), 0);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#resizeObserver?.disconnect();
    this.#observedList = null;
    cancelAnimationFrame(this.#frame);
    this.#frame = 0;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('i18n')) this.#strings = mergeI18n(this.i18n);
    if (changed.has('name')) this.#valueDirty = true;
    this.#locale = this.closest('[lang]')?.getAttribute('lang') || undefined;
    this.#configure();
    if (this.#pendingAnnouncements.length > 0) {
      this.#announcement = this.#pendingAnnouncements.splice(0).join(' ');
    }
  }

  protected override updated(): void {
    this.#updateForm();
    this.#observeList();
  }

  protected override render(): TemplateResult {
    const t = this.#strings;
    const items = this.#queue.items;
    const disabled = this.#isDisabled;
    const queued = this.#queue.progress.counts.queued > 0;
    return html`
      <div part="base">
        <div
          part="drop-zone"
          @dragenter=${this.#handleDragOver}
          @dragover=${this.#handleDragOver}
          @dragleave=${this.#handleDragLeave}
          @drop=${this.#handleDrop}
        >
          <span part="drop-label" id="drop-label">
            <slot name="drop-label">${this.multiple ? t.dropFiles.many : t.dropFiles.one}</slot>
          </span>
          <button
            part="button"
            type="button"
            aria-describedby="drop-label"
            ?disabled=${disabled}
            @click=${this.#handlePick}
          >
            <slot name="button">${this.multiple ? t.addFiles.many : t.addFiles.one}</slot>
          </button>
          <input
            type="file"
            hidden
            tabindex="-1"
            aria-hidden="true"
            accept=${ifDefined(this.accept || undefined)}
            ?multiple=${this.multiple}
            @change=${this.#handleInputChange}
          />
        </div>
        ${
          this.rejections.length > 0
            ? html`<ul part="rejections">
                ${this.rejections.map(
                  (rejection) => html`<li part="rejection">${rejection.name}: ${rejection.message}</li>`,
                )}
              </ul>`
            : nothing
        }
        ${
          !this.auto && queued
            ? html`<button part="upload-button" type="button" ?disabled=${disabled} @click=${this.upload}>
                ${t.upload}
              </button>`
            : nothing
        }
        ${items.length > 1 ? this.#renderSummary(items.length) : nothing}
        ${items.length > 0 ? this.#renderList(items) : nothing}
        <div class="visually-hidden" role="status" aria-live="polite">${this.#announcement}</div>
      </div>
    `;
  }

  #renderSummary(count: number): TemplateResult {
    const progress = this.#queue.progress;
    return html`<div part="summary">
      ${fill(this.#strings.summary, {
        done: progress.counts.complete,
        count,
        percentage: formatPercentage(progress.percentage, this.#locale),
      })}
    </div>`;
  }

  /**
   * The list as a window: the rows in view plus {@link OVERSCAN} on each side, with padding standing in for
   * the rows above and below so that the scrollbar is true to the whole list. `aria-setsize` and
   * `aria-posinset` tell assistive technology where each rendered row sits in the whole list.
   */
  #renderList(items: readonly UploadItem[]): TemplateResult {
    const count = items.length;
    const pitch = this.#rowPitch || ESTIMATED_PITCH;
    const range = this.#range(count);
    this.#rendered = { ...range, count, pitch };
    // The padding sits on the list, inside the scrolling box: on the scrolling box itself it would add to
    // its max-height rather than to what scrolls.
    return html`<div part="file-list-viewport" @scroll=${this.#handleListScroll}>
      <ul
        part="file-list"
        role="list"
        aria-label=${this.#strings.fileList}
        style=${styleMap({
          paddingTop: `${range.start * pitch}px`,
          paddingBottom: `${(count - range.end) * pitch}px`,
        })}
      >
        ${repeat(
          items.slice(range.start, range.end),
          (item) => item.id,
          (item, index) => this.#renderItem(item, range.start + index + 1, count),
        )}
      </ul>
    </div>`;
  }

  #range(count: number): RowRange {
    return visibleRange({
      count,
      pitch: this.#rowPitch || ESTIMATED_PITCH,
      scrollTop: this.#scrollTop,
      viewport: this.#viewport || ESTIMATED_VIEWPORT,
      overscan: OVERSCAN,
    });
  }

  #renderItem(item: UploadItem, position: number, setSize: number): TemplateResult {
    const t = this.#strings;
    const name = item.file.name;
    const indeterminate = item.status === 'connecting';
    const percentage = item.status === 'complete' ? 100 : Math.floor(item.percentage);
    const status =
      item.status === 'failed' && item.error ? this.#errorMessage(item.error) : t.status[item.status];
    return html`<li part="file file-${item.status}" aria-posinset=${position} aria-setsize=${setSize}>
      <span part="file-name">${name}</span>
      <span part="file-size">${formatSize(item.total, t.units.size, this.#locale)}</span>
      <span part="actions">
        ${
          RUNNING.has(item.status)
            ? this.#renderButton('cancel', name, () => this.cancel(item.file))
            : nothing
        }
        ${
          item.status === 'failed' || item.status === 'cancelled'
            ? this.#renderButton('retry', name, () => this.retry(item.file))
            : nothing
        }
        ${
          RUNNING.has(item.status)
            ? nothing
            : this.#renderButton('remove', name, () => this.removeFile(item.file))
        }
      </span>
      <div
        part="progress"
        role="progressbar"
        aria-label=${name}
        aria-valuemin="0"
        aria-valuemax="100"
        aria-valuenow=${ifDefined(indeterminate ? undefined : percentage)}
        ?data-indeterminate=${indeterminate}
      >
        <div part="progress-indicator" style=${styleMap({ transform: `scaleX(${percentage / 100})` })}></div>
      </div>
      <div part="status-line">
        <span part="status">${status}</span>
        ${
          item.status === 'sending'
            ? html`<span part="details"
                >${fill(t.speed, { speed: formatSize(item.speed, t.units.size, this.#locale) })} ·
                ${fill(t.remaining, { time: formatDuration(item.remainingTime) })}</span
              >`
            : nothing
        }
      </div>
    </li>`;
  }

  #renderButton(kind: 'cancel' | 'retry' | 'remove', name: string, action: () => void): TemplateResult {
    const label = fill(this.#strings[kind], { name });
    return html`<button
      part="${kind}-button"
      type="button"
      aria-label=${label}
      title=${label}
      ?disabled=${this.#isDisabled}
      @click=${action}
    >
      <svg viewBox="0 0 16 16" aria-hidden="true">${ICONS[kind]}</svg>
    </button>`;
  }

  get #isDisabled(): boolean {
    return this.disabled || this.#formDisabled;
  }

  /**
   * Maps the attributes and properties onto the queue's options, one to one. A number attribute out of range
   * (`chunk-size="0"`, `concurrency="-1"`) falls back to the default, as native elements ignore bad values.
   */
  #configure(): void {
    this.#queue.configure({
      url: this.url || undefined,
      accept: this.accept,
      maxFileSize: inRange(this.maxFileSize, 0, Infinity),
      maxFiles: this.multiple
        ? inRange(this.maxFiles, 0, Infinity)
        : Math.min(1, inRange(this.maxFiles, 0, 1) ?? 1),
      concurrency: inRange(this.concurrency, 1, Infinity),
      chunkSize: inRange(this.chunkSize, 1, MAX_CHUNK_SIZE),
      type: this.type === 'binary' ? 'binary' : 'base64',
      autoStart: this.auto,
      auth: this.auth,
      parameters: this.parameters,
    });
  }

  #errorMessage(error: UploadError): string {
    const messages = this.#strings.error as Record<string, string>;
    return messages[error.code] ?? this.#strings.error.unknown;
  }

  #handleQueueEvent(event: CustomEvent): void {
    const t = this.#strings;
    switch (event.type as keyof UploadQueueEventMap) {
      case 'add': {
        const { items } = event.detail as UploadQueueEventMap['add']['detail'];
        this.#announce(fill(t.announce.added, { count: items.length }));
        break;
      }
      case 'reject': {
        const { file, reason } = event.detail as UploadQueueEventMap['reject']['detail'];
        const message = t.error[reason];
        this.rejections = [...this.rejections, { name: file.name, message }];
        this.#announce(fill(t.announce.rejected, { name: file.name, reason: message }));
        this.#emit('file-rejected', { file, reason, message }, true);
        break;
      }
      case 'status': {
        const { item } = event.detail as UploadQueueEventMap['status']['detail'];
        if (item.status === 'connecting') this.#announce(fill(t.announce.started, { name: item.file.name }));
        break;
      }
      case 'progress':
      case 'success': {
        const { item, progress } = event.detail as UploadQueueEventMap['progress']['detail'];
        if (event.type === 'success') this.#announce(fill(t.announce.done, { name: item.file.name }));
        this.#emit(event.type as 'progress' | 'success', { ...progress, file: item.file }, true);
        break;
      }
      case 'error': {
        const { item, error } = event.detail as UploadQueueEventMap['error']['detail'];
        const message = this.#errorMessage(error);
        this.#announce(fill(t.announce.failed, { name: item.file.name, reason: message }));
        this.#emit('error', { file: item.file, error, message }, false);
        break;
      }
      case 'cancel': {
        const { item } = event.detail as UploadQueueEventMap['cancel']['detail'];
        this.#emit('cancel', { file: item.file }, false);
        break;
      }
      case 'complete': {
        const detail = event.detail as UploadQueueEventMap['complete']['detail'];
        this.#announce(fill(t.announce.allDone, { done: detail.succeeded, count: detail.items.length }));
        this.#emit('complete', detail, true);
        break;
      }
      default:
        break;
    }
    if (event.type === 'success' || event.type === 'remove') this.#valueDirty = true;
    // Kept in step with every event (not once per frame), so that validity is right as soon as a method
    // returns; it is cheap: validity reads the queue's counts and the value is rebuilt only when it changed.
    if (event.type !== 'progress' && !this.#clearing) this.#updateForm();
  }

  /** Dispatches on the host; `error` and `cancel` stay there (see the class header for why). */
  #emit<K extends keyof WsFileUploadEventMap>(
    type: K,
    detail: WsFileUploadEventMap[K]['detail'],
    bubbles: boolean,
  ): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles, composed: bubbles }));
  }

  #announce(message: string): void {
    this.#pendingAnnouncements.push(message);
  }

  #updateForm(): void {
    if (this.#valueDirty) {
      this.#valueDirty = false;
      const names = this.value;
      if (names.length === 0) {
        this.#internals.setFormValue(null);
      } else {
        const data = new FormData();
        // Without a name nothing is submitted, as with native controls; the value is still kept for JS.
        for (const name of names) data.append(this.name || '', name);
        this.#internals.setFormValue(this.name ? data : names.join('\n'));
      }
    }
    const t = this.#strings.validation;
    const counts = this.#queue.progress.counts;
    const anchor = this.pickerButton ?? undefined;
    if (counts.queued + counts.connecting + counts.sending + counts.retrying > 0) {
      this.#internals.setValidity({ customError: true }, t.pending, anchor);
    } else if (counts.failed > 0) {
      this.#internals.setValidity({ customError: true }, t.failed, anchor);
    } else if (this.required && counts.complete === 0) {
      this.#internals.setValidity({ valueMissing: true }, t.required, anchor);
    } else {
      this.#internals.setValidity({});
    }
  }

  /**
   * Watches the scrolling box and the list for size changes: the box's height decides how many rows are in
   * view, and the list's height changes when rows come or go or their pitch changes (fonts, spacing,
   * custom properties). Measured in the observer's callback, after the browser's own layout, rather than
   * here, where reading a row's position would force a layout in the middle of the task that added files.
   */
  #observeList(): void {
    const viewport = this.listViewport;
    if (viewport === this.#observedList) return;
    this.#resizeObserver?.disconnect();
    this.#observedList = viewport;
    if (!viewport) return;
    this.#resizeObserver?.observe(viewport, { box: 'border-box' });
    if (viewport.firstElementChild) this.#resizeObserver?.observe(viewport.firstElementChild);
  }

  /** Reads the row pitch from the first two rows, then the scroll position. */
  #measureList(viewport: HTMLElement): void {
    const [first, second] = viewport.firstElementChild?.children ?? [];
    if (first && second) {
      const pitch = second.getBoundingClientRect().top - first.getBoundingClientRect().top;
      if (pitch > 0 && Math.abs(pitch - this.#rowPitch) > 0.5) this.#rowPitch = pitch;
    }
    this.#readScroll(viewport);
  }

  /** Takes the list's scroll position and height; schedules a render when other rows should show. */
  #readScroll(list: HTMLElement): void {
    this.#scrollTop = list.scrollTop;
    this.#viewport = list.clientHeight;
    if (!this.#windowChanged() || this.#frame) return;
    // On the next frame: an update now would resize the observed list inside the observer's own callback.
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.requestUpdate();
    });
  }

  #handleListScroll(event: Event): void {
    const list = event.currentTarget as HTMLElement;
    // Scroll events come at most once per frame, before it is painted: rendering the new rows now (not
    // a frame later) means a fast scroll never shows blank padding.
    this.#scrollTop = list.scrollTop;
    this.#viewport = list.clientHeight;
    if (this.#windowChanged()) this.requestUpdate();
  }

  /** Whether the rows (or the padding standing in for the others) differ from what the last render drew. */
  #windowChanged(): boolean {
    const { start, end, count, pitch } = this.#rendered;
    const next = this.#range(count);
    return next.start !== start || next.end !== end || (this.#rowPitch || ESTIMATED_PITCH) !== pitch;
  }

  #handleListResize(): void {
    if (this.#observedList) this.#measureList(this.#observedList);
  }

  #handlePick(): void {
    if (this.#isDisabled) return;
    this.input.click();
  }

  #handleInputChange(): void {
    const files = this.input.files;
    if (files && files.length > 0) this.addFiles(files);
    // Cleared so that picking the same file again fires `change` again.
    this.input.value = '';
  }

  #handleDragOver(event: DragEvent): void {
    if (this.#isDisabled || !event.dataTransfer?.types.includes('Files')) return;
    // Cancelling dragover is what makes the zone a drop target.
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    this.#setDragging(true);
  }

  #handleDragLeave(event: DragEvent): void {
    const zone = event.currentTarget as HTMLElement;
    // dragleave also fires when moving onto a child of the zone; only leaving the zone itself counts.
    if (event.relatedTarget instanceof Node && zone.contains(event.relatedTarget)) return;
    this.#setDragging(false);
  }

  #handleDrop(event: DragEvent): void {
    this.#setDragging(false);
    if (this.#isDisabled) return;
    event.preventDefault();
    const files = event.dataTransfer?.files;
    if (!files || files.length === 0) return;
    // Without `multiple`, a drop of several files takes the first, as a single-file picker would.
    this.addFiles(this.multiple ? files : [files[0]!]);
  }

  #setDragging(dragging: boolean): void {
    // Reflected so that page CSS can style the host while files hover over it.
    this.toggleAttribute('dragover', dragging);
  }
}
