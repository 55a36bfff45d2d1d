/**
 * The `<ws-file-upload>` element: attributes, properties, public methods, and the template that puts the
 * pieces together. Each feature is its own unit: the queue binding (upload-queue-controller.ts), the drop
 * zone (drop-zone-controller.ts), the list and its rows (list-view-controller.ts, loaded when first needed),
 * form association and the options (form-associated-element.ts, element-options.ts), the events (events.ts).
 */
import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { property, state } from 'lit/decorators.js';
import { UploadQueue, type PauseResult, type QueueProgress } from '../core/index.ts';
import type { FileInFolder, ItemDetail, TypedListener, UploadItem } from '../core/index.ts';
import { DropZoneController, type PickedFile } from './drop-zone-controller.ts';
import { onUnlessOff, UploadOptionsElement } from './element-options.ts';
import { HOST_ONLY_EVENTS, type WsFileUploadEventMap } from './events.ts';
import { folderDropSource } from './folder-entries.ts';
import type { RowExtra } from './file-row.ts';
import { mergeI18n, type WsFileUploadI18n, type WsFileUploadI18nOverrides } from './i18n.ts';
import { ListViewController } from './list-view-controller.ts';
import { renderRejections } from './rejection-list.ts';
import { PasteController, type PasteTarget } from './paste-controller.ts';
import { folderRefusalReaction, reactionTo, type ElementEvent, type Reaction } from './queue-event-bridge.ts';
import { UploadQueueController } from './upload-queue-controller.ts';
import { styles } from './ws-file-upload.styles.ts';

export type {
  WsFileUploadCancelDetail,
  WsFileUploadCompleteDetail,
  WsFileUploadErrorDetail,
  WsFileUploadEventMap,
  WsFileUploadFileDetail,
  WsFileUploadFileRejectDetail,
  WsFileUploadFolderRejectDetail,
  WsFileUploadProgressDetail,
  WsFileUploadRejectDetail,
} from './events.ts';

/**
 * Typed `addEventListener`/`removeEventListener` for the element's events (see {@link WsFileUploadEventMap}),
 * with the core's TypedListener. Merged into the class as overloads only: EventTarget implements them, so
 * the merge declares nothing the class lacks at run time (what the lint rule below guards against).
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface WsFileUpload {
  addEventListener<K extends keyof WsFileUploadEventMap>(
    type: K,
    listener: TypedListener<WsFileUpload, WsFileUploadEventMap, K>,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof WsFileUploadEventMap>(
    type: K,
    listener: TypedListener<WsFileUpload, WsFileUploadEventMap, K>,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
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
 * @fires warning - `CustomEvent<WsFileUploadWarningDetail>`, on the host only: a file goes on unverified.
 * @fires file-rejected - `CustomEvent<WsFileUploadRejectDetail>`, bubbles and composed: a file broke a restriction, or a dropped folder went past `max-folder-files` or `max-folder-depth` (`file` null, `folder` set).
 * @fires cancel - `CustomEvent<WsFileUploadCancelDetail>`, on the host only: a file was cancelled.
 * @fires pause - `CustomEvent<WsFileUploadFileDetail>`, on the host only: a file was paused.
 * @fires resume - `CustomEvent<WsFileUploadFileDetail>`, on the host only: a paused file was resumed.
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
 * @csspart queue-progress - The whole queue's bar (`role="progressbar"`), shown with several files.
 * @csspart queue-progress-indicator - The filled part of the queue's bar.
 * @csspart queue-details - Under the queue's bar: bytes acknowledged of all, speed and time left.
 * @csspart file-list-viewport - The scrolling box around the file list.
 * @csspart file-list - The list of files; only the rows in view (and a few more) are in the DOM.
 * @csspart file - One file; also `file-queued`, `file-connecting`, `file-sending`, `file-retrying`, `file-paused`, `file-complete`, `file-failed` or `file-cancelled`.
 * @csspart file-name - The file's name (with its folder, when it came from one).
 * @csspart file-path - The folder a file came from, before its name (`album/2024/`).
 * @csspart preview - The thumbnail cell of a row (with `previews`); `preview-image` is the thumbnail.
 * @csspart preview-image - The image file's thumbnail.
 * @csspart file-size - The file's size.
 * @csspart progress - The file's progress bar (`role="progressbar"`).
 * @csspart progress-indicator - The filled part of the bar.
 * @csspart status-line - The line under the bar: status, speed, time left.
 * @csspart status - The file's status or error text.
 * @csspart details - Speed and time left while sending.
 * @csspart actions - The file's buttons.
 * @csspart pause-button - Pauses the file (only where the server can resume it: never under protocol v1).
 * @csspart resume-button - Resumes a paused file.
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
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class WsFileUpload extends UploadOptionsElement {
  static override styles = styles;

  /** Where pasted files are taken from: `element` (default: focus inside the element) or `document` (anywhere). */
  @property({ attribute: 'paste-target' }) pasteTarget: PasteTarget = 'element';

  /** Thumbnails of image files in their rows; on by default, `previews="off"` (or `false`) turns them off. */
  @property({ converter: onUnlessOff }) previews = true;

  /** Blocks picking, dropping and the buttons; reflected for styling. */
  @property({ type: Boolean, reflect: true }) disabled = false;

  /** Makes a form invalid until at least one file is uploaded. */
  @property({ type: Boolean }) required = false;

  /** The form field name the uploaded file names are submitted under. */
  @property() name = '';

  /**
   * The colours: `light`, `dark`, or `auto` (the default), which follows the system's `prefers-color-scheme`.
   * Reflected, for the styles.
   */
  @property({ reflect: true }) theme: 'light' | 'dark' | 'auto' = 'auto';

  /** Overrides of the visible strings, deep-merged over the English defaults (see `WsFileUploadI18n`). */
  @property({ attribute: false }) i18n: WsFileUploadI18nOverrides = {};

  @state() private rejections: { name: string; message: string }[] = [];

  readonly #queue = new UploadQueue();
  /** Where dropped files come from; other sources (folders) are added to `sources`. */
  protected readonly dropZone = new DropZoneController(
    this,
    () => this.#isDisabled,
    (files, how) => this.#addPicked(files, how),
    () => this.preconnect(),
  );
  readonly #paste = new PasteController(
    this,
    (f) => this.#addPicked(f, 'drop'),
    () => !this.#isDisabled,
  );
  /** The list, its rows and the thumbnails, whose code is loaded when the element first has files. */
  readonly #listView = new ListViewController(this, () => this.previews);
  /** Extra content rendered in each row after its size (a preview, a folder path), in order. */
  protected readonly rowExtras: RowExtra[] = [];
  #strings: WsFileUploadI18n = mergeI18n(null);
  #pendingAnnouncements: string[] = [];
  #announcement = '';
  /** The `lang` of the nearest ancestor that has one, read once per render rather than once per row. */
  #locale: string | undefined;
  /** Set while clear() removes every item, so the form is updated once rather than once per item. */
  #clearing = false;
  readonly #rowActions = {
    cancel: (file: File) => this.cancel(file),
    retry: (file: File) => this.retry(file),
    remove: (file: File) => this.removeFile(file),
    pause: (file: File) => void this.pause(file),
    resume: (file: File) => void this.resume(file),
  };

  constructor() {
    super();
    new UploadQueueController(this, this.#queue, (event) => this.#handleQueueEvent(event));
    const refuse = folderDropSource(
      () => this.folderLimits(),
      (refused) => this.#apply(folderRefusalReaction(refused, this.#strings)),
    );
    this.dropZone.sources.unshift(refuse);
    this.rowExtras.push(this.#listView.previewCell);
  }

  /**
   * The whole queue's figures: bytes acknowledged (`loaded`) of `total`, `percentage`, `speed` (bytes per
   * second of the files being sent), `remainingTime` (seconds; `Infinity` while unknown) and `counts` per
   * status. Over every file that is not cancelled; a new object on each read.
   */
  get progress(): QueueProgress {
    return this.#queue.progress;
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

  /**
   * Adds files as a pick or a drop would: each is checked against `accept`, `max-file-size` and
   * `max-files`; refused files fire `file-rejected`. With `auto`, accepted files start at once; without, the
   * connection opens (see {@link preconnect}).
   *
   * @param files - a `FileList` or any iterable of `File`s, each alone or as `{ file, path }` with its folder
   * @returns the items added
   */
  addFiles(files: Iterable<File | FileInFolder> | ArrayLike<File | FileInFolder>): UploadItem[] {
    this.#configure();
    this.rejections = [];
    const { added } = this.#queue.add(files);
    if (!this.auto && added.length > 0) this.preconnect();
    return added;
  }

  /**
   * Opens the connection now (UploadQueue.preconnect), as a drag of files, the picker or files added without
   * `auto` do. @returns whether one was opened now (false: one is open already, or no `url`)
   */
  preconnect(): boolean {
    this.#configure();
    return this.url ? this.#queue.preconnect() : false;
  }

  /** Starts the queued files (what the Upload button does). */
  upload(): void {
    this.#configure();
    this.#queue.start();
  }

  /**
   * Cancels one file, or every file not yet ended.
   * @param file - the file to cancel; omitted, all
   */
  cancel(file?: File): void {
    this.#queue.cancel(file);
  }

  /**
   * Pauses one file, or every queued and running file: nothing more is sent and the server keeps what it
   * has, so {@link WsFileUpload.resume} continues from there. Under protocol v1 an upload cannot resume, so
   * it is not paused (and its row has no pause button): it comes back in `refused`, with why.
   *
   * @param file - the file to pause; omitted, all
   * @returns the items paused, and the running ones refused with `reason` and the i18n `message`
   */
  pause(file?: File): PauseResult {
    const { paused, refused } = this.#queue.pause(file);
    const messages = this.#strings.pauseRefused;
    return { paused, refused: refused.map((refusal) => ({ ...refusal, message: messages[refusal.reason] })) };
  }

  /**
   * Resumes one paused file, or every paused file: each continues from the offset the server holds, as soon
   * as a slot is free.
   * @param file - the file to resume; omitted, all
   * @returns the items resumed
   */
  resume(file?: File): UploadItem[] {
    this.#configure();
    return this.#queue.resume(file);
  }

  /**
   * Sends a failed or cancelled file again from its start, or every such file.
   * @param file - the file to retry; omitted, all
   */
  retry(file?: File): void {
    this.#configure();
    this.#queue.retry(file);
  }

  /**
   * Removes one file from the list, cancelling it first if it is running (not `remove()`: that is
   * `Element.remove()`).
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

  /** Empties the list when its form is reset. */
  formResetCallback(): void {
    this.clear();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const locale = this.closest('[lang]')?.getAttribute('lang') || undefined;
    // In idle time, so that neither the locale data's first load nor fetching the code that sends files is
    // part of answering the first drop. A failed fetch is retried, and reported, when a file starts.
    const prepare = (): void => {
      this.#listView.preload(locale);
      UploadQueue.preload().catch(() => {});
    };
    if (typeof requestIdleCallback === 'function') requestIdleCallback(prepare);
    else setTimeout(prepare, 0);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('i18n')) this.#strings = mergeI18n(this.i18n);
    if (changed.has('name')) this.invalidateFormValue();
    if (changed.has('pasteTarget'))
      this.#paste.listen(this.pasteTarget === 'document' ? 'document' : 'element');
    this.#locale = this.closest('[lang]')?.getAttribute('lang') || undefined;
    // Options reach the queue after this render, not inside it: configuring may start uploads (with
    // `auto`), and no socket is opened from inside a render cycle.
    queueMicrotask(() => this.#configure());
    const announcements = this.#pendingAnnouncements.splice(0);
    if (announcements.length > 0) this.#announcement = announcements.join(' ');
  }

  /** Also waits for the list's code when a render asked for it, so that the rows are there once it resolves. */
  protected override getUpdateComplete(): Promise<boolean> {
    return this.#listView.settled(() => super.getUpdateComplete());
  }

  protected override updated(): void {
    this.#updateForm();
  }

  protected override render(): TemplateResult {
    const t = this.#strings;
    const items = this.#queue.items;
    const disabled = this.#isDisabled;
    const queued = this.#queue.progress.counts.queued > 0;
    const many = this.multiple || this.directory;
    return html`
      <div part="base">
        ${this.dropZone.render({
          label: many ? t.dropFiles.many : t.dropFiles.one,
          buttonLabel: many ? t.addFiles.many : t.addFiles.one,
          accept: this.accept,
          multiple: many,
          directory: this.directory,
          disabled,
        })}
        ${renderRejections(this.rejections)}
        ${
          !this.auto && queued
            ? html`<button part="upload-button" type="button" ?disabled=${disabled} @click=${this.upload}>
                ${t.upload}
              </button>`
            : nothing
        }
        ${items.length > 1 ? this.#listView.renderSummary(this.#queue.progress, items.length, t, this.#locale) : nothing}
        ${items.length > 0 ? this.#renderList(items) : nothing}
        <div class="visually-hidden" role="status" aria-live="polite">${this.#announcement}</div>
      </div>
    `;
  }

  #renderList(items: readonly UploadItem[]): TemplateResult | typeof nothing {
    const context = { strings: this.#strings, locale: this.#locale, disabled: this.#isDisabled };
    return this.#listView.renderList(items, {
      ...context,
      actions: this.#rowActions,
      extras: this.rowExtras,
    });
  }

  get #isDisabled(): boolean {
    return this.disabled || this.formDisabled;
  }

  #configure(): void {
    this.#queue.configure(this.queueOptions());
  }

  #handleQueueEvent(event: CustomEvent): void {
    this.#apply(reactionTo(event, this.#strings, this.#locale));
    if (event.type === 'success' || event.type === 'remove') this.invalidateFormValue();
    if (event.type === 'remove') this.#listView.forget((event.detail as ItemDetail).item.id);
    // Kept in step with every event (not once per frame), so that validity is right as soon as a method
    // returns; it is cheap: validity reads the queue's counts and the value is rebuilt only when it changed.
    if (event.type !== 'progress' && !this.#clearing) this.#updateForm();
  }

  /** Lists a rejection, queues an announcement, dispatches an event: what a reaction says, in that order. */
  #apply({ emit, announce, rejection }: Reaction): void {
    if (rejection) this.rejections = [...this.rejections, rejection];
    if (announce) this.#pendingAnnouncements.push(announce);
    if (emit) this.#emit(emit);
  }

  /** Dispatches on the host; the per-file outcomes in HOST_ONLY_EVENTS stay there (see the class header). */
  #emit({ type, detail }: ElementEvent): void {
    const bubbles = !HOST_ONLY_EVENTS.has(type);
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles, composed: bubbles }));
  }

  #updateForm(): void {
    this.updateFormState(
      this.#queue.progress,
      this.#strings.validation,
      this.dropZone.pickerButton ?? undefined,
    );
  }

  #addPicked(files: readonly PickedFile[], how: 'pick' | 'drop'): void {
    // Without `multiple`, a drop of several files takes the first, as a single-file picker would.
    this.addFiles(this.multiple || this.directory || how === 'pick' ? files : [files[0]!]);
  }
}
