/**
 * UploadQueue: many files, each sent by its own WebSocketFileTransfer, at most `concurrency` at once. Owns
 * the items and their one status field; the vocabulary (statuses, items, events) is in queue-items.ts, the
 * options (derived from the transfer's) in queue-options.ts, the running totals in queue-totals.ts, a file's
 * transfer (its options, shared socket or not, its start) in queue-transfer.ts, which with the network code
 * under it is loaded by import() when the first file starts (transfer-module.ts).
 */
import { UploadError } from './errors.ts';
import type { ProgressDetail } from './events.ts';
import {
  acceptsFile,
  folderOf,
  newEntry,
  copyFigures,
  haltFigures,
  resetFigures,
  RUNNING_STATUSES,
  STATUS_TRANSITIONS,
  type Entry,
  type FileInFolder,
  type PauseRefused,
  type PauseResult,
  type QueueProgress,
  type Rejection,
  type RejectionReason,
  type UploadItem,
  type UploadQueueEventMap,
  type UploadStatus,
} from './queue-items.ts';
import {
  QUEUE_DEFAULTS,
  resolveQueueOptions,
  type ResolvedQueueOptions,
  type UploadQueueOptions,
} from './queue-options.ts';
import { isUnauthorized, runPrepare } from './queue-prepare.ts';
import { QueueTotals } from './queue-totals.ts';
import { PAUSE_REFUSAL_MESSAGES } from './pause-refusal.ts';
import {
  LazyPool,
  loadedTransferModule,
  loadTransferModule,
  type TransferModule,
} from './transfer-module.ts';
import { TypedEventTarget } from './typed-event-target.ts';
import type { WebSocketFileTransferOptions } from './options.ts';

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
 * @fires warning - {@link ItemWarningDetail}: a file goes on without the integrity asked for
 * @fires cancel - {@link ItemDetail}: a file was cancelled
 * @fires pause - {@link ItemDetail}: a file was paused
 * @fires resume - {@link ItemDetail}: a paused file was queued again
 * @fires remove - {@link ItemDetail}: an item left the queue
 * @fires complete - {@link CompleteDetail}: the queue went from busy to idle
 */
export class UploadQueue extends TypedEventTarget<UploadQueueEventMap> {
  #options: ResolvedQueueOptions = { ...QUEUE_DEFAULTS };
  readonly #entries: Entry[] = [];
  #nextId = 1;
  /** Whether queued items may start; always so with `autoStart`, else from start() until the queue idles. */
  #running = false;
  #busy = false;
  readonly #totals = new QueueTotals();
  /** The sockets its files share; a file that sent its FIN frees its slot. */
  readonly #pool = new LazyPool(() => this.#pump());

  /**
   * Fetches the code that sends files (queue-transfer.ts and what it imports) ahead of the first file, which
   * otherwise loads it when it starts. Resolves once it is loaded; rejects when it could not be (a file that
   * starts later tries again, and fails with `connectionFailed` if it cannot load it either).
   */
  static preload(): Promise<void> {
    return loadTransferModule().then(() => undefined);
  }

  /**
   * @param options - see {@link UploadQueueOptions}
   * @throws TypeError or RangeError naming the option when an option is invalid
   */
  constructor(options: UploadQueueOptions = {}) {
    super();
    this.configure(options);
  }

  /**
   * Changes options; they apply to files that start afterwards (and `concurrency` at once).
   *
   * @param options - the options to change; `undefined` values restore the defaults
   * @throws TypeError or RangeError naming the option when an option is invalid
   */
  configure(options: UploadQueueOptions): void {
    const next = resolveQueueOptions(this.#options, options);
    this.#options = next;
    this.#pump();
  }

  /**
   * Opens a connection to the server now, ahead of the uploads — call it when the user starts choosing files
   * (the element does on opening the picker, on a drag over it, and on files added while `autoStart` is off)
   * — so that the first file finds it open and waits for no handshake (two round trips). The first upload
   * takes it as any fresh socket (AUTH, STOR: a 2012 server sees nothing new); unused, it closes after
   * `idleMs`. Only with `shareConnections` (the default) and no token provider, since sockets are leased per
   * identity.
   *
   * @param idleMs - how long the socket waits for an upload before it closes (default 20 s: under the
   *   reference server's 30 s `authTimeout`)
   * @returns whether a socket was opened now (false: one is open and free already, no `url`, or no sharing)
   */
  preconnect(idleMs?: number): boolean {
    return this.#pool.preconnect(() => this.#options, idleMs);
  }

  /** Every item, in the order added. The array is a copy; the items are live (see {@link UploadItem}). */
  get items(): UploadItem[] {
    return [...this.#entries];
  }

  /** Figures over every item that is not cancelled; O(1), from running totals. */
  get progress(): QueueProgress {
    return this.#totals.progress;
  }

  /** Whether any item is being sent or waits for a slot in a running queue. */
  get busy(): boolean {
    return this.#busy;
  }

  /**
   * Checks files against the restrictions and queues those that pass; starts them with `autoStart`.
   * Refused files fire `reject`, in order, and are not kept.
   *
   * @param files - the files (a `FileList` from an input or a drop, or any iterable), each alone or with the
   *   folder it came from (`{ file, path }`); a file from a `webkitdirectory` input keeps its folder anyway
   * @returns the items added and the files refused
   */
  add(files: Iterable<File | FileInFolder> | ArrayLike<File | FileInFolder>): {
    added: UploadItem[];
    rejected: Rejection[];
  } {
    const added: Entry[] = [];
    const rejected: Rejection[] = [];
    for (const given of Array.from(files as ArrayLike<File | FileInFolder>)) {
      const [file, path] = given instanceof Blob ? [given, folderOf(given)] : [given.file, given.path];
      const reason = this.#check(file);
      if (reason) {
        rejected.push({ file, reason });
        continue;
      }
      const entry = newEntry(this.#nextId++, file, path);
      this.#entries.push(entry);
      this.#totals.account(entry, 1);
      added.push(entry);
    }
    for (const rejection of rejected) this.emit('reject', rejection);
    if (added.length > 0) this.emit('add', { items: added });
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
   * Cancels one item (or every item that has not ended): a running upload is cancelled, a queued one never
   * starts, a paused one is deleted on the server. Items already complete, failed or cancelled are left alone.
   *
   * @param target - the item or its file; omitted, every item
   */
  cancel(target?: UploadItem | File): void {
    for (const entry of this.#select(target)) {
      if (
        entry.status !== 'queued' &&
        entry.status !== 'paused' &&
        !RUNNING_STATUSES.includes(entry.status)
      ) {
        continue;
      }
      const transfer = entry.transfer;
      entry.transfer = null; // first, so that the cancel's own events are ignored
      transfer?.cancel();
      this.#change(entry, () => haltFigures(entry));
      this.#setStatus(entry, 'cancelled');
      this.emit('cancel', { item: entry });
    }
    this.#pump();
  }

  /**
   * Pauses one item (or every queued and running item): a running upload stops sending and closes its
   * socket without telling the server to delete it, so {@link UploadQueue.resume} continues from the
   * server's offset; a queued one is held. A paused item frees its slot. Under protocol v1 an upload cannot
   * resume, so it is not paused: it is listed in `refused` with why (see {@link UploadItem.pausable}).
   *
   * @param target - the item or its file; omitted, every item
   * @returns the items paused and the running ones refused
   */
  pause(target?: UploadItem | File): PauseResult {
    const paused: Entry[] = [];
    const refused: PauseRefused[] = [];
    for (const entry of this.#select(target)) {
      if (entry.status !== 'queued' && !RUNNING_STATUSES.includes(entry.status)) continue;
      const transfer = entry.transfer;
      // Without a transfer yet (its `prepare` or its code is loading) nothing was sent: it is held as if queued.
      const reason = transfer ? transfer.pauseRefusal : null;
      if (reason !== null) {
        refused.push({ item: entry, reason, message: PAUSE_REFUSAL_MESSAGES[reason] });
        continue;
      }
      // The paused transfer stays with the item: cancelling the item later tells the server through it.
      transfer?.pause();
      this.#change(entry, () => haltFigures(entry));
      this.#setStatus(entry, 'paused');
      paused.push(entry);
      this.emit('pause', { item: entry });
    }
    this.#pump();
    return { paused, refused };
  }

  /**
   * Queues a paused item again (or every paused item); it starts in the next free slot, on a new connection,
   * from the offset the server holds (from the start if the server forgot it).
   *
   * @param target - the item or its file; omitted, every paused item
   * @returns the items resumed
   */
  resume(target?: UploadItem | File): UploadItem[] {
    const resumed: Entry[] = [];
    for (const entry of this.#select(target)) {
      if (entry.status !== 'paused') continue;
      this.#setStatus(entry, 'queued');
      resumed.push(entry);
      this.emit('resume', { item: entry });
    }
    this.#pump();
    return resumed;
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
      this.#change(entry, () => resetFigures(entry));
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
      this.#totals.account(entry, -1);
      this.emit('remove', { item: entry });
    }
    this.#updateBusy();
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
    if (this.#running && this.#totals.counts.queued > 0) {
      // A file whose FIN is on its way no longer holds its slot: the next one joins its socket behind it.
      let active = this.#totals.running - this.#pool.handedOver;
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
    this.#setStatus(entry, 'connecting');
    entry.refreshed = false;
    this.#prepareThenLaunch(entry);
  }

  /**
   * Asks `prepare` (when set) while queue-transfer.ts loads, then starts the transfer, unless the item was
   * cancelled or paused meanwhile.
   */
  #prepareThenLaunch(entry: Entry): void {
    const attempt = ++entry.attempt;
    if (!this.#options.prepare && loadedTransferModule())
      return this.#launch(loadedTransferModule()!, entry, {});
    void Promise.all([runPrepare(this.#options.prepare, entry), loadTransferModule()]).then(
      ([answer, module]) => {
        if (!this.#stillWanted(entry, attempt)) return;
        if (!answer.ok) return this.#failed(entry, answer.error);
        this.#launch(module, entry, answer.overrides);
      },
      (cause: unknown) => {
        if (!this.#stillWanted(entry, attempt)) return;
        const message = `the upload code could not be loaded: ${cause instanceof Error ? cause.message : String(cause)}`;
        this.#failed(entry, new UploadError('connectionFailed', message, { cause }));
      },
    );
  }

  /** Whether a launch begun as `attempt` is still the item's: not cancelled, paused or started again since. */
  #stillWanted(entry: Entry, attempt: number): boolean {
    return entry.attempt === attempt && entry.transfer === null && RUNNING_STATUSES.includes(entry.status);
  }

  #launch(module: TransferModule, entry: Entry, prepared: Partial<WebSocketFileTransferOptions>): void {
    const made = module.transferFor(this.#options, this.#pool.from(module), entry, prepared);
    if (!made.ok) return this.#failed(entry, made.error);
    const { transfer, refreshable } = made;
    entry.transfer = transfer;
    const mine = (): boolean => entry.transfer === transfer;
    transfer.addEventListener('progress', (event) => {
      if (!mine()) return;
      this.#apply(entry, event.detail);
      if (entry.status !== 'sending') this.#setStatus(entry, 'sending');
      this.emit('progress', { item: entry, progress: event.detail });
    });
    transfer.addEventListener('retrying', () => {
      if (!mine() || entry.status === 'retrying') return;
      this.#change(entry, () => (entry.speed = 0));
      this.#setStatus(entry, 'retrying');
    });
    transfer.addEventListener('warning', ({ detail: { code, message } }) => {
      if (mine()) this.emit('warning', { item: entry, code, message });
    });
    transfer.addEventListener('success', (event) => {
      if (!mine()) return;
      entry.transfer = null;
      entry.storedAs = event.detail.stored?.filename ?? null;
      this.#apply(entry, event.detail);
      this.#change(entry, () => (entry.speed = 0));
      this.#setStatus(entry, 'complete');
      this.emit('success', { item: entry, progress: event.detail });
      this.#pump();
    });
    transfer.addEventListener('error', (event) => {
      if (!mine()) return;
      entry.transfer = null;
      const { error } = event.detail;
      if (refreshable && !entry.refreshed && isUnauthorized(error)) {
        // Tokens expire during long uploads: once, ask again for a fresh one (a v2 upload resumes).
        entry.refreshed = true;
        if (entry.status !== 'retrying') this.#setStatus(entry, 'retrying');
        return this.#prepareThenLaunch(entry);
      }
      this.#failed(entry, error);
    });
    module.startTransfer(transfer, this.#options.auth);
  }

  #failed(entry: Entry, error: UploadError): void {
    this.#change(entry, () => {
      entry.error = error;
      haltFigures(entry);
    });
    this.#setStatus(entry, 'failed');
    this.emit('error', { item: entry, error });
    this.#pump();
  }

  #apply(entry: Entry, figures: ProgressDetail): void {
    this.#change(entry, () => copyFigures(entry, figures));
  }

  #change(entry: Entry, mutate: () => void): void {
    this.#totals.change(entry, mutate);
  }

  /** The one way an item's status changes. */
  #setStatus(entry: Entry, next: UploadStatus): void {
    if (!STATUS_TRANSITIONS[entry.status].includes(next)) {
      // A bug in this class, not a caller's mistake: fail loudly rather than show a contradictory state.
      throw new Error(`UploadQueue: illegal status change ${entry.status} → ${next}.`);
    }
    this.#change(entry, () => (entry.status = next));
    this.emit('status', { item: entry });
  }

  #updateBusy(): void {
    const totals = this.#totals;
    // Paused items of a running queue keep it busy: `complete` waits until they are resumed and end.
    const waiting = totals.counts.queued + totals.counts.paused;
    const busy = totals.running > 0 || (this.#running && waiting > 0);
    const wasBusy = this.#busy;
    this.#busy = busy;
    if (wasBusy && !busy) {
      this.#running = this.#options.autoStart;
      this.#pool.closeIdle();
      const items = this.items;
      this.emit('complete', {
        items,
        succeeded: items.filter((item) => item.status === 'complete').length,
        failed: items.filter((item) => item.status === 'failed').length,
      });
    }
  }
}
