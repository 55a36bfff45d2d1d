import {
  formatAbor,
  formatAuth,
  formatFin,
  formatStor,
  parseAnswer,
  parseStorAnswer,
  PROTOCOL_V2,
  Status,
  type Answer,
  type AnswerType,
  type StorAnswerV2,
  type StorGrant,
} from '../protocol/index.ts';
import { UploadError, type UploadErrorCode, type UploadErrorInit } from './errors.ts';
import type { CloseDetail, ProgressDetail, WebSocketFileTransferEventMap } from './events.ts';
import { FileSource, SequentialReader, type Chunk } from './file-source.ts';
import {
  CALLBACK_NAMES,
  resolveOptions,
  type ResolvedOptions,
  type WebSocketConstructor,
  type WebSocketFileTransferOptions,
} from './options.ts';
import { fingerprint, type ResumeRecord } from './resume-store.ts';
import { retryDelay } from './retry.ts';
import { Sha256 } from './sha256.ts';
import { encodeBase64 } from './file-source.ts';

/**
 * Where a transfer is. One field, changed only through legal moves:
 *
 * | from | to |
 * |---|---|
 * | `idle` | `connecting` (start), `aborted` |
 * | `connecting` | `authenticating` (open, with credentials), `storing` (open), `failed`, `aborted` |
 * | `authenticating` | `storing` (AUTH answered 200), `failed`, `aborted` |
 * | `storing` | `sending` (STOR answered 200), `complete` (empty file), `finishing` (v2, nothing left), `failed`, `aborted` |
 * | `sending` | `complete` (last chunk acknowledged, v1), `finishing` (v2: FIN sent), `failed`, `aborted` |
 * | `finishing` | `complete` (FIN answered 200), `failed`, `aborted` |
 * | `retrying` | `connecting` (after the retry delay, and once online), `failed`, `aborted` |
 *
 * Under v2 every state from `connecting` to `finishing` may also move to `retrying` when the connection
 * drops. `complete`, `failed` and `aborted` are final.
 */
export type TransferState =
  | 'idle'
  | 'connecting'
  | 'authenticating'
  | 'storing'
  | 'sending'
  | 'finishing'
  | 'retrying'
  | 'complete'
  | 'failed'
  | 'aborted';

const TRANSITIONS: Readonly<Record<TransferState, readonly TransferState[]>> = {
  idle: ['connecting', 'aborted'],
  connecting: ['authenticating', 'storing', 'failed', 'aborted', 'retrying'],
  authenticating: ['storing', 'failed', 'aborted', 'retrying'],
  storing: ['sending', 'complete', 'finishing', 'failed', 'aborted', 'retrying'],
  sending: ['complete', 'finishing', 'failed', 'aborted', 'retrying'],
  finishing: ['complete', 'failed', 'aborted', 'retrying'],
  retrying: ['connecting', 'failed', 'aborted'],
  complete: [],
  failed: [],
  aborted: [],
};

/** The one close code a browser script may always send; the server reads it as "done, normally". */
const NORMAL_CLOSURE = 1000;
/** What browsers report when a connection ends without a close frame. */
const ABNORMAL_CLOSURE = 1006;
// WebSocket.CONNECTING and WebSocket.OPEN, as numbers: the global WebSocket may be absent or a test double.
const CONNECTING = 0;
const OPEN = 1;
/** Answers that mean "not now" rather than "never": a v2 upload retries them with backoff. */
const RETRYABLE: readonly number[] = [
  Status.conflict,
  Status.tooMany,
  Status.serverError,
  Status.unavailable,
];
/**
 * Bytes of the file read ahead of the send loop under v2 (at least one chunk). Measured in Chromium
 * (docs/protocol.md, Measurements): with one read in flight the send loop spent ~40 % of an upload waiting
 * for `Blob.arrayBuffer()`; 4 MiB ahead keeps a read in flight whatever the chunk size.
 */
const READ_AHEAD = 4 * 1024 * 1024;
/** The most bytes hashed in one read when the digest must catch up with the server's offset. */
const REHASH_BLOCK = 4 * 1024 * 1024;

/** What a failure may carry: the error's fields, plus how the socket closed when that is the cause. */
type FailInit = UploadErrorInit & { closed?: Omit<CloseDetail, 'file'> };

type Listener<K extends keyof WebSocketFileTransferEventMap> = (
  this: WebSocketFileTransfer,
  event: WebSocketFileTransferEventMap[K],
) => unknown;

/**
 * Sends one file to an upload server over one WebSocket, speaking protocol v1 (the 2012
 * WebSocketFileTransfer protocol): optional `AUTH`, then `STOR`, then one chunk per acknowledgement.
 *
 * ```js
 * new WebSocketFileTransfer({ url, file, progress, success }).start();
 * ```
 *
 * Events (all `CustomEvent`s; each callback option of the same name receives the event's `detail`):
 * `open`, `progress` after each acknowledged chunk, then exactly one of `success`, `error` or `abort`, then
 * `close`. A socket error or close after `success` is not reported: the 2012 PHP server masks its close frame,
 * which browsers report as an error right after the last answer.
 *
 * @fires open - {@link OpenDetail}: the socket opened
 * @fires progress - {@link ProgressDetail}: the server acknowledged a chunk
 * @fires success - {@link ProgressDetail}: the server acknowledged the whole file
 * @fires error - {@link ErrorDetail}: the upload failed; `detail.error` is an {@link UploadError}
 * @fires abort - {@link AbortDetail}: {@link WebSocketFileTransfer.abort} stopped the upload
 * @fires close - {@link CloseDetail}: the transfer ended and released its socket (always last)
 */
export class WebSocketFileTransfer extends EventTarget {
  /**
   * Tells whether this browser can run a transfer.
   *
   * @param WebSocketCtor - the WebSocket constructor to check (default `globalThis.WebSocket`)
   * @returns true when WebSocket, `Blob.prototype.slice` and `Blob.prototype.arrayBuffer` are present
   */
  static supported(WebSocketCtor: unknown = globalThis.WebSocket): boolean {
    return (
      typeof WebSocketCtor === 'function' &&
      typeof Blob === 'function' &&
      typeof Blob.prototype.slice === 'function' &&
      typeof Blob.prototype.arrayBuffer === 'function'
    );
  }

  readonly #options: ResolvedOptions;
  #source: FileSource;
  /** The key of this file's resume record. */
  readonly #fingerprint: string;
  /** What a v2 STOR answer agreed; null while (or when) the conversation is v1. */
  #v2: { id: string; grant: StorGrant } | null = null;
  /** The resume record read at start() or written since; null when there is none. */
  #record: ResumeRecord | null = null;
  #stored: { id: string; filename: string } | null = null;
  /** The id offered in the last STOR's `resume`, or null. */
  #offeredResume: string | null = null;
  #hasher: Sha256 | null = null;
  /** Saved SHA-256 states by the offset they cover: one per chunk sent and not yet acknowledged. */
  #hashStates = new Map<number, Uint8Array>();
  /** Bumped on every (re)connection, so that work begun for an older socket stops when it resumes. */
  #connection = 0;
  /** Retries since the server's offset last advanced. */
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #stopWaitingOnline: (() => void) | null = null;
  #opened = false;
  #state: TransferState = 'idle';
  #socket: WebSocket | null = null;
  #detachSocket: (() => void) | null = null;
  #credentials: { login: string; password: string } | { token: string } | null = null;
  /** The answer type due next; null when none is (a frame then is unsolicited). */
  #awaiting: AnswerType | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Chunks allowed in flight. Protocol v1 is stop-and-wait: one. A v2 STOR answer will grant a larger
   * window, and the send loop already fills whatever window it has.
   */
  #window = 1;
  /** Lengths of the chunks sent and not yet acknowledged, oldest first: an ack counts the oldest one. */
  #inFlight: number[] = [];
  /**
   * The next chunks, read while earlier ones are on the wire, oldest first. v1 reads one chunk ahead; v2
   * reads {@link READ_AHEAD} bytes ahead, so that a file read (a round trip to the browser process) is always
   * in flight while the socket sends. Bounded either way.
   */
  #nextChunks: Promise<Chunk>[] = [];
  #readOffset = 0;
  #pumping = false;
  #sent = 0;
  #loaded = 0;
  #startedAt = 0;

  /**
   * Checks the options; does not connect (see {@link WebSocketFileTransfer.start}).
   *
   * @param options - see {@link WebSocketFileTransferOptions}
   * @throws TypeError when an option has the wrong type; the message names the option
   * @throws RangeError when `chunkSize`/`blockSize` or a timeout is out of range; the message names it
   */
  constructor(options: WebSocketFileTransferOptions) {
    super();
    this.#options = resolveOptions(options);
    this.#source = new FileSource(this.#options.file, this.#options.chunkSize, this.#options.type);
    this.#fingerprint = fingerprint(this.#options.file, this.#options.url);
    for (const name of CALLBACK_NAMES) {
      const callback = this.#options.callbacks[name] as ((detail: unknown) => void) | undefined;
      // `this` is the transfer inside a callback, as it was with the 2012 MooTools class.
      if (callback) this.addEventListener(name, (event) => callback.call(this, event.detail));
    }
  }

  /** Where the transfer is; see {@link TransferState}. */
  get state(): TransferState {
    return this.#state;
  }

  /** The file being sent. */
  get file(): Blob {
    return this.#options.file;
  }

  /** The current figures, as the next `progress` event would carry them. */
  get progress(): ProgressDetail {
    return this.#figures();
  }

  /**
   * Opens the socket and sends the file. Outcomes are reported by events, never by exceptions, and never
   * before this method returned, so listeners added right after the call hear everything.
   *
   * With a `login`, `AUTH: {"login","password"}` (else, with the `token` option, `AUTH: {"token"}`) is sent first and the server must answer it with code 200
   * within `authTimeout`. A 2012 PHP server never answers `AUTH`: against such a server pass no credentials,
   * or the upload fails with `authTimeout`.
   *
   * @param login - sends `AUTH` first when given
   * @param password - sent with `login` (default `''`)
   * @throws DOMException `InvalidStateError` when the transfer was already started or aborted: a transfer
   *   runs once; create a new one to send again
   */
  start(login?: string, password?: string): void {
    if (this.#state !== 'idle') {
      throw new DOMException(
        `This transfer was already started or aborted (it is ${this.#state}).`,
        'InvalidStateError',
      );
    }
    this.#setState('connecting');
    this.#startedAt = performance.now();
    if (login !== undefined && login !== null) this.#credentials = { login, password: password ?? '' };
    else if (this.#options.token !== undefined) this.#credentials = { token: this.#options.token };
    if (this.#options.offerV2) {
      const record = this.#options.resumeStore.get(this.#fingerprint);
      if (record && record.expires > Date.now()) this.#record = record;
      else if (record) this.#options.resumeStore.remove(this.#fingerprint);
    }
    this.#connect();
  }

  #connect(): void {
    this.#connection += 1;
    const WebSocketCtor =
      this.#options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined);
    if (!WebSocketCtor || !WebSocketFileTransfer.supported(WebSocketCtor)) {
      this.#failSoon(
        'notSupported',
        'This browser cannot upload over a WebSocket (WebSocket or Blob reading is missing).',
      );
      return;
    }
    let socket: WebSocket;
    try {
      socket = new WebSocketCtor(this.#options.url);
    } catch (cause) {
      this.#failSoon('connectionFailed', `Cannot connect to ${this.#options.url}: ${String(cause)}`, cause);
      return;
    }
    this.#attach(socket);
  }

  /**
   * Stops the upload: closes the socket and fires `abort` then `close`; no `success` or `error` follows.
   * Does nothing once the transfer has ended, so it is safe to call at any time and more than once. Before
   * `start()` it only marks the transfer aborted (and fires `abort`, but no `close`).
   */
  abort(): void {
    if (this.#state === 'idle') {
      this.#setState('aborted');
      this.#dispatch('abort', this.#figures());
    } else if (this.#isActive()) {
      const id = this.#v2?.id ?? this.#offeredResume;
      if (id !== null) {
        this.#options.resumeStore.remove(this.#fingerprint);
        // The server deletes the partial upload on ABOR. It handles frames in order, so sending ABOR just
        // before the close is enough; without an open socket, a short-lived one carries it.
        const socket = this.#socket;
        if (socket && socket.readyState === OPEN) this.#trySend(socket, formatAbor({ id }));
        else this.#sendAborAside(id);
      }
      this.#end('aborted', () => this.#dispatch('abort', this.#figures()));
    }
  }

  #sendAborAside(id: string): void {
    const WebSocketCtor =
      this.#options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined);
    if (!WebSocketCtor) return;
    try {
      const socket = new WebSocketCtor(this.#options.url);
      const credentials = this.#credentials;
      const giveUp = setTimeout(() => socket.close(), 5000);
      socket.addEventListener('open', () => {
        if (credentials) this.#trySend(socket, formatAuth(credentials));
        this.#trySend(socket, formatAbor({ id }));
      });
      socket.addEventListener('message', (event: MessageEvent) => {
        if (typeof event.data === 'string' && event.data.includes('"ABOR"')) {
          clearTimeout(giveUp);
          socket.close(NORMAL_CLOSURE);
        }
      });
      socket.addEventListener('error', () => clearTimeout(giveUp));
    } catch {
      // Best effort: the server expires the partial upload anyway.
    }
  }

  #trySend(socket: WebSocket, data: string): void {
    try {
      socket.send(data);
    } catch {
      // Best effort, as above.
    }
  }

  /**
   * Adds a listener; typed for this class's events (see {@link WebSocketFileTransferEventMap}).
   *
   * @param type - the event name
   * @param listener - called with the event
   * @param options - as for `EventTarget.addEventListener`
   */
  override addEventListener<K extends keyof WebSocketFileTransferEventMap>(
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
   * Removes a listener added with {@link WebSocketFileTransfer.addEventListener}.
   *
   * @param type - the event name
   * @param listener - the listener to remove
   * @param options - as for `EventTarget.removeEventListener`
   */
  override removeEventListener<K extends keyof WebSocketFileTransferEventMap>(
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

  #attach(socket: WebSocket): void {
    this.#socket = socket;
    socket.binaryType = 'arraybuffer';
    const onOpen = (): void => this.#handleOpen();
    const onMessage = (event: MessageEvent): void => this.#handleMessage(event);
    const onError = (): void => this.#handleSocketError();
    const onClose = (event: CloseEvent): void => this.#handleSocketClose(event);
    socket.addEventListener('open', onOpen);
    socket.addEventListener('message', onMessage);
    socket.addEventListener('error', onError);
    socket.addEventListener('close', onClose);
    // Once the transfer ended, the socket may still report an error or a close (the 2012 PHP server's masked
    // close frame does, right after the last answer): detaching is what makes those harmless.
    this.#detachSocket = () => {
      socket.removeEventListener('open', onOpen);
      socket.removeEventListener('message', onMessage);
      socket.removeEventListener('error', onError);
      socket.removeEventListener('close', onClose);
    };
  }

  #handleOpen(): void {
    if (this.#state !== 'connecting') return;
    // `open` means "the upload began talking to the server": once, not on every reconnection.
    if (!this.#opened) {
      this.#opened = true;
      this.#dispatch('open', { file: this.#options.file });
    }
    if (this.#state !== 'connecting') return; // an `open` listener aborted
    if (this.#credentials) {
      this.#setState('authenticating');
      if (this.#send(formatAuth(this.#credentials))) this.#expect('AUTH', this.#options.authTimeout);
    } else {
      this.#sendStor();
    }
  }

  #sendStor(): void {
    if (this.#state !== 'storing') this.#setState('storing');
    const { file, type, parameters, offerV2 } = this.#options;
    const named = file as Partial<File>;
    const filename = named.name ? named.name : 'blob';
    let stor: string;
    if (offerV2) {
      // `type` stays the fallback a v1 server uses; the offer rides in a field v1 servers ignore.
      this.#offeredResume = this.#v2?.id ?? this.#record?.id ?? null;
      const ext: Record<string, unknown> = {
        binary: true,
        window: this.#options.window,
        chunk: this.#options.v2ChunkSize,
        resume: this.#offeredResume,
        checksum: this.#options.checksum ? ['sha256'] : [],
        fin: true,
        mime: file.type,
      };
      if (typeof named.lastModified === 'number') ext.lastModified = named.lastModified;
      stor = formatStor({ filename, size: file.size, type, parameters, v: PROTOCOL_V2, ext });
    } else {
      stor = formatStor({ filename, size: file.size, type, parameters });
    }
    if (!this.#send(stor)) return;
    this.#expect('STOR', this.#options.answerTimeout);
    // Read the first chunk while the server prepares: a v1 answer sends it, a v2 answer cuts its own chunks
    // from the block it loaded (see FileSource.withChunks).
    if (this.#v2 === null) this.#prefetch();
  }

  #handleMessage(event: MessageEvent): void {
    if (!this.#isActive()) return;
    if (typeof event.data !== 'string') {
      this.#fail('badAnswer', 'The server sent a binary frame; a v1 server answers with JSON text only.');
      return;
    }
    const parsed = parseAnswer(event.data);
    if (!parsed.ok) {
      this.#fail('badAnswer', parsed.error.message);
      return;
    }
    const answer = parsed.value;
    const expected = this.#awaiting;
    if (expected === null) {
      this.#fail('badAnswer', `The server sent a ${answer.type} answer when none was due.`, { answer });
      return;
    }
    this.#clearTimer();
    this.#awaiting = null;
    if (answer.code !== Status.ok && (answer.type === expected || answer.type === 'ERROR')) {
      if (this.#handleRefusal(expected, answer)) return;
      const code: UploadErrorCode =
        expected === 'AUTH'
          ? 'authRejected'
          : answer.code === Status.checksumMismatch && expected === 'FIN'
            ? 'checksumMismatch'
            : 'serverRefused';
      const message = answer.message || `The server answered ${expected} with code ${answer.code}.`;
      this.#fail(code, message, { answer, status: answer.code });
      return;
    }
    if (answer.type !== expected) {
      this.#fail('badAnswer', `The server sent a ${answer.type} answer where a ${expected} answer was due.`, {
        answer,
      });
      return;
    }
    switch (expected) {
      case 'AUTH':
        this.#sendStor();
        break;
      case 'STOR':
        this.#handleStorAnswer(answer);
        break;
      case 'DATA':
        this.#handleAck(answer);
        break;
      case 'FIN':
        this.#options.resumeStore.remove(this.#fingerprint);
        if (typeof answer.id === 'string' && typeof answer.filename === 'string') {
          this.#stored = { id: answer.id, filename: answer.filename };
        }
        this.#succeed();
        break;
      default:
        this.#fail('badAnswer', `Unexpected ${answer.type} answer.`, { answer });
    }
  }

  /** Handles the refusals a v2 upload survives; returns false for those that end it. */
  #handleRefusal(expected: AnswerType, answer: Answer): boolean {
    if (expected === 'STOR' && answer.code === Status.notFound && this.#offeredResume !== null) {
      // Unknown or expired on the server: forget it and start afresh, once, on the same connection.
      this.#options.resumeStore.remove(this.#fingerprint);
      this.#record = null;
      this.#v2 = null;
      this.#hashStates.clear();
      this.#hasher?.reset();
      this.#sendStor();
      return true;
    }
    if (expected === 'FIN' && answer.code === Status.checksumMismatch) {
      this.#options.resumeStore.remove(this.#fingerprint);
      return false;
    }
    const resumable = this.#v2 !== null || this.#offeredResume !== null;
    if (resumable && RETRYABLE.includes(answer.code)) return this.#retry(answer.retryAfter);
    return false;
  }

  #handleStorAnswer(answer: Answer): void {
    const parsed = parseStorAnswer(answer);
    if (!parsed.ok) {
      this.#fail('badAnswer', parsed.error.message, { answer });
      return;
    }
    if (parsed.value === null) {
      if (this.#v2 !== null) {
        this.#fail('badAnswer', 'The server answered a resume with a v1 STOR answer.', { answer });
        return;
      }
      this.#offeredResume = null;
      this.#handleStored();
      return;
    }
    void this.#handleStoredV2(parsed.value);
  }

  async #handleStoredV2(stored: StorAnswerV2): Promise<void> {
    const size = this.#source.size;
    if (stored.offset > size) {
      this.#fail('badAnswer', `The server holds ${stored.offset} bytes of a ${size}-byte file.`);
      return;
    }
    if (this.#v2 !== null && stored.id !== this.#v2.id) this.#hashStates.clear();
    const grant = stored.ext;
    this.#v2 = { id: stored.id, grant };
    this.#window = Math.min(grant.window, this.#options.window);
    const chunkSize = Math.min(this.#options.v2ChunkSize, grant.maxChunk);
    this.#source = this.#source.withChunks(chunkSize, grant.binary ? 'binary' : this.#options.type);
    // The server's offset is the truth, whatever this side believes it sent.
    if (stored.offset > this.#loaded) this.#attempt = 0;
    this.#nextChunks = [];
    this.#inFlight = [];
    this.#readOffset = stored.offset;
    this.#sent = stored.offset;
    this.#loaded = stored.offset;
    const connection = this.#connection;
    if (grant.checksum === 'sha256') {
      try {
        await this.#seekHash(stored.offset);
      } catch (cause) {
        if (this.#isActive()) this.#fail('readFailed', `Cannot read the file: ${String(cause)}`, { cause });
        return;
      }
      if (connection !== this.#connection || this.#state !== 'storing') return;
    }
    this.#saveRecord();
    if (stored.offset >= size) {
      if (grant.fin) this.#sendFin();
      else this.#succeed();
      return;
    }
    this.#setState('sending');
    void this.#pump();
  }

  /**
   * Brings the running SHA-256 to `offset`: from the nearest saved state at or before it (a chunk sent
   * earlier, or the resume record after a reload), hashing the bytes in between from the file.
   */
  async #seekHash(offset: number): Promise<void> {
    this.#hasher ??= await Sha256.create();
    const hasher = this.#hasher;
    let from = 0;
    let state: Uint8Array | undefined;
    for (const [at, saved] of this.#hashStates) {
      if (at <= offset && at >= from) {
        from = at;
        state = saved;
      }
    }
    const record = this.#record;
    if (record?.hashState && record.id === this.#v2?.id && record.offset <= offset && record.offset > from) {
      from = record.offset;
      state = decodeBase64(record.hashState);
    }
    if (state) hasher.load(state, from);
    else hasher.reset();
    for (const at of [...this.#hashStates.keys()]) if (at > offset) this.#hashStates.delete(at);
    // Read the way chunks are read: one stream over the range, not an arrayBuffer() per block.
    const reader = new SequentialReader(this.#options.file);
    try {
      for (let at = from; at < offset; at += REHASH_BLOCK) {
        hasher.update(await reader.read(at, Math.min(at + REHASH_BLOCK, offset)));
      }
    } finally {
      reader.close();
    }
    this.#hashStates.set(offset, hasher.save());
  }

  #saveRecord(): void {
    const v2 = this.#v2;
    if (!v2) return;
    const state = this.#hashStates.get(this.#loaded);
    const expires = Date.parse(v2.grant.expires);
    this.#record = {
      id: v2.id,
      offset: this.#loaded,
      hashState: state ? encodeBase64(state) : null,
      expires: Number.isFinite(expires) ? expires : Date.now() + 60 * 60 * 1000,
    };
    this.#options.resumeStore.set(this.#fingerprint, this.#record);
  }

  #sendFin(): void {
    const v2 = this.#v2!;
    this.#setState('finishing');
    const checksum = v2.grant.checksum === 'sha256' && this.#hasher ? this.#hasher.checksum() : undefined;
    if (!this.#send(formatFin({ size: this.#source.size, ...(checksum ? { checksum } : {}) }))) return;
    this.#expect('FIN', this.#options.answerTimeout);
  }

  /**
   * Schedules a reconnection after a drop or a "not now" answer: v2 only. Returns false when retrying is not
   * possible (v1, or the delays used up), so the caller fails instead.
   */
  #retry(retryAfter?: number): boolean {
    if (this.#v2 === null && this.#offeredResume === null) return false;
    const delay = retryDelay(this.#options.retryDelays, this.#attempt, retryAfter);
    if (delay === null) return false;
    this.#attempt += 1;
    this.#releaseSocket();
    this.#clearTimer();
    this.#awaiting = null;
    this.#nextChunks = [];
    this.#inFlight = [];
    this.#setState('retrying');
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#whenOnline(() => {
        if (this.#state !== 'retrying') return;
        this.#setState('connecting');
        this.#connect();
      });
    }, delay);
    return true;
  }

  /** Runs `then` now, or when the browser says it is back online. */
  #whenOnline(then: () => void): void {
    const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
    const target = globalThis as unknown as Partial<EventTarget>;
    if (nav?.onLine !== false || typeof target.addEventListener !== 'function') {
      then();
      return;
    }
    const onOnline = (): void => {
      this.#stopWaitingOnline?.();
      then();
    };
    target.addEventListener('online', onOnline);
    this.#stopWaitingOnline = () => {
      target.removeEventListener!('online', onOnline);
      this.#stopWaitingOnline = null;
    };
  }

  #releaseSocket(): void {
    this.#detachSocket?.();
    this.#detachSocket = null;
    const socket = this.#socket;
    this.#socket = null;
    if (socket && (socket.readyState === CONNECTING || socket.readyState === OPEN)) {
      try {
        socket.close(NORMAL_CLOSURE);
      } catch {
        // Nothing left to release either way.
      }
    }
  }

  #handleStored(): void {
    // The server commits an empty file on STOR: nothing to send, and a 2012 client sent nothing either.
    if (this.#source.size === 0) {
      this.#succeed();
      return;
    }
    this.#setState('sending');
    void this.#pump();
  }

  #handleAck(answer: Answer): void {
    // The acknowledged length is the length of the chunk we sent, never the answer's bytesRead: the 2012 PHP
    // server reports a UTF-8 character count there, about three quarters of the real byte count.
    const length = this.#inFlight.shift() ?? 0;
    if (this.#v2) {
      const expected = this.#loaded + length;
      if (answer.offset !== expected) {
        this.#fail('badAnswer', `The server acknowledged offset ${answer.offset}; ${expected} was due.`, {
          answer,
        });
        return;
      }
      this.#loaded = expected;
      this.#attempt = 0;
      for (const at of [...this.#hashStates.keys()]) if (at < expected) this.#hashStates.delete(at);
      this.#saveRecord();
    } else {
      this.#loaded += length;
    }
    // With a window above one, later chunks are still on the wire: their answers are due, on a fresh timer.
    if (this.#inFlight.length > 0) this.#expect('DATA', this.#options.answerTimeout);
    this.#dispatch('progress', this.#figures());
    if (this.#state !== 'sending') return; // a `progress` listener aborted
    if (this.#loaded < this.#source.size) void this.#pump();
    else if (this.#v2?.grant.fin) this.#sendFin();
    else this.#succeed();
  }

  /** Sends chunks until the window is full or the file is sent; acks call it again. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    const connection = this.#connection;
    try {
      while (
        this.#state === 'sending' &&
        this.#inFlight.length < this.#window &&
        this.#sent < this.#source.size
      ) {
        this.#prefetch();
        const next = this.#nextChunks.shift()!;
        const chunk = await next;
        if (this.#state !== 'sending' || connection !== this.#connection) return;
        const hasher = this.#hasher;
        if (hasher && this.#v2?.grant.checksum && hasher.offset !== chunk.start) {
          throw new Error('checksum out of step with the data');
        }
        if (!this.#send(chunk.payload)) return;
        if (hasher && this.#v2?.grant.checksum) {
          // Hashed in order, right after the send, so the browser transmits while this thread hashes; the
          // state after each chunk is kept until the chunk is acknowledged.
          hasher.update(chunk.bytes);
          this.#hashStates.set(chunk.end, hasher.save());
        }
        this.#inFlight.push(chunk.end - chunk.start);
        this.#sent += chunk.end - chunk.start;
        this.#expect('DATA', this.#options.answerTimeout);
        this.#prefetch();
      }
    } catch (cause) {
      if (this.#isActive()) {
        this.#fail('readFailed', `Cannot read the file: ${String(cause)}`, { cause });
      }
    } finally {
      this.#pumping = false;
    }
  }

  #prefetch(): void {
    const ahead = this.#v2 ? Math.max(1, Math.ceil(READ_AHEAD / this.#source.chunkSize)) : 1;
    while (this.#nextChunks.length < ahead && this.#readOffset < this.#source.size) {
      const chunk = this.#source.read(this.#readOffset);
      // A read that fails after an abort is never awaited; this keeps it from surfacing as unhandled.
      chunk.catch(() => undefined);
      this.#nextChunks.push(chunk);
      this.#readOffset = Math.min(this.#readOffset + this.#source.chunkSize, this.#source.size);
    }
  }

  #send(data: string | ArrayBuffer): boolean {
    try {
      this.#socket!.send(data);
      return true;
    } catch (cause) {
      this.#fail('connectionClosed', `Cannot send on the connection: ${String(cause)}`, { cause });
      return false;
    }
  }

  #expect(type: AnswerType, timeout: number): void {
    this.#awaiting = type;
    this.#clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (type === 'AUTH') {
        this.#fail(
          'authTimeout',
          `The server did not answer AUTH within ${timeout} ms. A 2012 server never answers AUTH: do not pass ` +
            'credentials to such a server.',
        );
      } else if (!this.#retry()) {
        this.#fail('answerTimeout', `The server did not answer ${type} within ${timeout} ms.`);
      }
    }, timeout);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #handleSocketError(): void {
    if (this.#isActive() && this.#retry()) return;
    if (this.#state === 'connecting') {
      this.#fail('connectionFailed', `Cannot connect to ${this.#options.url}.`);
    } else if (this.#isActive()) {
      this.#fail('connectionClosed', 'The connection broke before the upload completed.');
    }
  }

  #handleSocketClose(event: CloseEvent): void {
    const closed: Omit<CloseDetail, 'file'> = {
      code: event.code,
      reason: event.reason,
      wasClean: event.wasClean,
    };
    const reason = event.reason ? `: ${event.reason}` : '';
    if (this.#isActive() && this.#retry()) return;
    if (this.#state === 'connecting') {
      this.#fail(
        'connectionFailed',
        `Cannot connect to ${this.#options.url} (close code ${event.code}${reason}).`,
        {
          closeCode: event.code,
          closed,
        },
      );
    } else if (this.#isActive()) {
      this.#fail(
        'connectionClosed',
        `The server closed the connection (code ${event.code}${reason}) before the upload completed.`,
        { closeCode: event.code, closed },
      );
    }
  }

  #succeed(): void {
    const stored = this.#stored;
    this.#end('complete', () =>
      this.#dispatch('success', { ...this.#figures(), ...(stored ? { stored } : {}) }),
    );
  }

  #fail(code: UploadErrorCode, message: string, init: FailInit = {}): void {
    const { closed, ...errorInit } = init;
    const error = new UploadError(code, message, errorInit);
    this.#end('failed', () => this.#dispatch('error', { error, file: this.#options.file }), closed);
  }

  /** Fails after start() returned, so that listeners added right after start() hear it. */
  #failSoon(code: UploadErrorCode, message: string, cause?: unknown): void {
    queueMicrotask(() => {
      if (this.#state === 'connecting') this.#fail(code, message, { cause });
    });
  }

  /**
   * The one way a started transfer ends: final state, timers cleared, socket released, then the outcome
   * event and `close`. The socket is released before listeners run, so a throwing listener cannot leave it open.
   */
  #end(
    state: 'complete' | 'failed' | 'aborted',
    dispatchOutcome: () => void,
    closed?: Omit<CloseDetail, 'file'>,
  ): void {
    this.#setState(state);
    this.#clearTimer();
    clearTimeout(this.#retryTimer);
    this.#stopWaitingOnline?.();
    this.#awaiting = null;
    this.#nextChunks = [];
    this.#source.close();
    this.#detachSocket?.();
    this.#detachSocket = null;
    const socket = this.#socket;
    this.#socket = null;
    let closedHere = false;
    if (socket && (socket.readyState === CONNECTING || socket.readyState === OPEN)) {
      closedHere = true;
      try {
        socket.close(NORMAL_CLOSURE);
      } catch {
        // Closing can only fail on arguments we control; there is nothing left to release either way.
      }
    }
    const detail: CloseDetail = {
      ...(closed ??
        (closedHere
          ? { code: NORMAL_CLOSURE, reason: '', wasClean: true }
          : { code: ABNORMAL_CLOSURE, reason: '', wasClean: false })),
      file: this.#options.file,
    };
    dispatchOutcome();
    this.#dispatch('close', detail);
  }

  #figures(): ProgressDetail {
    const total = this.#source.size;
    const loaded = this.#loaded;
    const elapsedTime = this.#startedAt === 0 ? 0 : (performance.now() - this.#startedAt) / 1000;
    const speed = elapsedTime > 0 ? loaded / elapsedTime : 0;
    const done = loaded >= total && (total > 0 || this.#state === 'complete');
    return {
      loaded,
      sent: this.#sent,
      total,
      percentage: total === 0 ? (done ? 100 : 0) : (loaded / total) * 100,
      speed,
      elapsedTime,
      remainingTime: done ? 0 : speed > 0 ? (total - loaded) / speed : Infinity,
      file: this.#options.file,
    };
  }

  #isActive(): boolean {
    const state = this.#state;
    return (
      state === 'connecting' ||
      state === 'authenticating' ||
      state === 'storing' ||
      state === 'sending' ||
      state === 'finishing' ||
      state === 'retrying'
    );
  }

  #setState(next: TransferState): void {
    if (!TRANSITIONS[this.#state].includes(next)) {
      // A bug in this class, not a caller's mistake: fail loudly rather than corrupt the conversation.
      throw new Error(`WebSocketFileTransfer: illegal state change ${this.#state} → ${next}.`);
    }
    this.#state = next;
  }

  #dispatch<K extends keyof WebSocketFileTransferEventMap>(
    type: K,
    detail: WebSocketFileTransferEventMap[K]['detail'],
  ): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
