/**
 * WebSocketFileTransfer: the coordinator of one upload. It owns the state field and the order of the
 * conversation, and delegates each job: frames and answers (conversation.ts), terms, id, integrity and resume
 * record (agreement.ts), chunks and send window (chunk-pump.ts), STOR and its answer, early data included
 * (stor-exchange.ts), the data phase from the STOR answer to the FIN answer: chunks, acks, blocks sent again,
 * FIN (data-phase.ts), socket (connection.ts), timers and retry decision (waits.ts, retry.ts), host globals
 * (environment.ts). A feature not agreed is a null object.
 */
import { formatAbor, Status, type Answer, type AnswerType } from '../protocol/index.ts';
import { Agreement } from './agreement.ts';
import { ChunkPump } from './chunk-pump.ts';
import { canUpload, closeDetail, sendAbor, type ClosedHow, type OutgoingFrame } from './connection.ts';
import {
  connectionFailure,
  readAnswer,
  refusalFailure,
  timeoutFailure,
  type Failure,
} from './conversation.ts';
import { DataPhase } from './data-phase.ts';
import { Credentials } from './credentials.ts';
import { browserEnvironment, type TransferEnvironment } from './environment.ts';
import { UploadError } from './errors.ts';
import type { CloseDetail, ProgressDetail, WebSocketFileTransferEventMap } from './events.ts';
import { bindCallbacks, resolveOptions, type ResolvedOptions } from './options.ts';
import type { WebSocketFileTransferOptions } from './options.ts';
import type { RetryCause, RetryRefusal } from './retry.ts';
import {
  assertTransition,
  isActive,
  pauseError,
  startedError,
  progressFigures,
  type PauseRefusal,
  type StoppedState,
  type TransferState,
} from './transfer-state.ts';
import { LivenessWatch } from './liveness.ts';
import { StorExchange } from './stor-exchange.ts';
import { TransferLink } from './transfer-link.ts';
import { TypedEventTarget } from './typed-event-target.ts';
import { AnswerDeadline, ReconnectWait } from './waits.ts';

export type { PauseRefusal, TransferState } from './transfer-state.ts';

/**
 * Sends one file to an upload server over one WebSocket, speaking protocol v1 (the 2012 protocol: optional
 * `AUTH`, `STOR`, one chunk per answer) or v2 when the server grants it: `new …({ url, file }).start()`.
 *
 * Events are `CustomEvent`s; each callback option of the same name receives the event's `detail` (order:
 * see {@link WebSocketFileTransferEventMap}). A socket error or close after `success` is not reported: the
 * 2012 PHP server masks its close frame, which browsers report as an error right after the last answer.
 *
 * @fires open - {@link OpenDetail}: the socket opened
 * @fires progress - {@link ProgressDetail}: the server acknowledged a chunk
 * @fires success - {@link ProgressDetail}: the server acknowledged the whole file
 * @fires error - {@link ErrorDetail}: the upload failed; `detail.error` is an {@link UploadError}
 * @fires cancel - {@link CancelDetail}: {@link WebSocketFileTransfer.cancel} stopped the upload
 * @fires abort - {@link CancelDetail}: the same, under its 2012 name, right after `cancel`
 * @fires retrying - {@link RetryingDetail}: (v2) the connection was lost; the transfer reconnects
 * @fires pause - {@link ProgressDetail}: (v2) {@link WebSocketFileTransfer.pause} stopped it, resumable
 * @fires close - {@link CloseDetail}: the transfer ended and released its socket (always last)
 */
export class WebSocketFileTransfer extends TypedEventTarget<WebSocketFileTransferEventMap> {
  /** Whether this browser (or `WebSocketCtor`) can run a transfer: WebSocket, `Blob` `slice` and `arrayBuffer`. */
  static supported(WebSocketCtor: unknown = globalThis.WebSocket): boolean {
    return canUpload(WebSocketCtor);
  }

  readonly #options: ResolvedOptions;
  readonly #env: TransferEnvironment;
  /** Terms, upload id, integrity and resume record: v1 until a v2 STOR answer grants more. */
  readonly #agreement: Agreement;
  /** The file, read-ahead, send window and send loop. */
  readonly #sender: ChunkPump;
  /** The connection (own or shared) and its generation. */
  readonly #link: TransferLink;
  readonly #reconnect: ReconnectWait;
  readonly #deadline: AnswerDeadline;
  readonly #liveness: LivenessWatch;
  /** Chunks, acks, blocks sent again and FIN, from the STOR answer to the FIN answer. */
  readonly #data: DataPhase;
  /** STOR (early data included) and its answer, up to the data phase. */
  readonly #stor: StorExchange;
  #opened = false;
  #state: TransferState = 'idle';
  #credentials = new Credentials(undefined, undefined);
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
    const resolved = (this.#options = resolveOptions(options));
    this.#env = browserEnvironment(resolved.WebSocket);
    this.#deadline = new AnswerDeadline(this.#env);
    this.#liveness = new LivenessWatch(this.#env);
    this.#reconnect = new ReconnectWait(this.#env, {
      delays: resolved.retryDelays,
      hook: resolved.shouldRetry,
    });
    this.#sender = new ChunkPump(resolved.file, resolved.chunkSize, resolved.type);
    this.#agreement = new Agreement(resolved);
    this.#data = new DataPhase({
      agreement: this.#agreement,
      sender: this.#sender,
      state: () => this.#state,
      setState: (next) => this.#setState(next),
      current: () => this.#stillCurrent(),
      send: (frame) => this.#send(frame),
      // Until the STOR answer came, early data's acks wait behind it: that answer stays due.
      expect: (type) => this.#expect(this.#agreement.early ? 'STOR' : type, resolved.answerTimeout),
      fail: (failure) => this.#failWith(failure),
      readFailed: (cause) => this.#readFailed(cause),
      progressed: () => this.#reconnect.progressed(),
      progress: () => this.emit('progress', this.#figures()),
      handOver: () => this.#link.connection?.handOver(),
      succeed: (stored) => this.#succeed(stored),
    });
    this.#stor = new StorExchange({
      options: resolved,
      agreement: this.#agreement,
      sender: this.#sender,
      state: () => this.#state,
      setState: (next) => this.#setState(next),
      knownTerms: () => this.#link.connection?.knownTerms ?? null,
      send: (frame) => this.#send(frame),
      expectAnswer: () => this.#expect('STOR', resolved.answerTimeout),
      fail: (failure) => this.#failWith(failure),
      retry: (cause, refusal) => this.#retry(cause, refusal),
      progressed: () => this.#reconnect.progressed(),
      watchSilence: (alive, silent) => this.#liveness.start(alive, silent),
      grantReuse: (terms) => this.#link.connection?.grantReuse(terms),
      warn: (warning) => this.emit('warning', { ...warning, file: this.file }),
      continueData: (loaded) => this.#data.continue(loaded),
      earlyTaken: () => this.#data.granted(),
    });
    this.#link = new TransferLink(this.#env, resolved.url, resolved.connections, {
      open: () => this.#handleOpen(),
      message: (event) => this.#handleMessage(event),
      error: () => this.#handleBroken('socketError'),
      close: (event) => this.#handleBroken('socketClosed', event),
    });
    bindCallbacks(this, resolved.callbacks);
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
   * With a `login` (else the `token` option), `AUTH` goes first and must be answered 200 within `authTimeout`;
   * a 2012 PHP server never answers it, so pass no credentials there.
   *
   * @param login - sends `AUTH` first when given
   * @param password - sent with `login` (default `''`)
   * @throws DOMException `InvalidStateError` when the transfer was already started or aborted: a transfer
   *   runs once; create a new one to send again
   */
  start(login?: string, password?: string): void {
    if (this.#state !== 'idle') throw startedError(this.#state);
    this.#setState('connecting');
    this.#startedAt = this.#env.now();
    this.#credentials = new Credentials(login, password, this.#options.token);
    if (this.#options.offerV2) this.#agreement.loadRecord(Date.now());
    this.#connect();
  }

  /**
   * Cancels: ABOR (the server deletes a v2 partial upload), socket closed, `cancel` (then `abort`, its 2012
   * name) then `close`, never `success` or `error` after; safe any time (before `start()` and once paused,
   * no `close`: there is no conversation to end). The state keeps its 2012 name, `aborted`.
   */
  cancel(): void {
    const state = this.#state;
    if (state === 'idle' || state === 'paused') {
      // No conversation to end (a paused one already fired `close`); a paused upload's copy is deleted.
      if (state === 'paused') this.#abandon();
      this.#setState('aborted');
      this.#emitCancel();
    } else if (isActive(state)) {
      this.#abandon();
      this.#end('aborted', () => this.#emitCancel());
    }
  }

  /** `cancel`, then `abort`: the same figures under the 2012 name, for the `abort` callback and listeners. */
  #emitCancel(): void {
    const figures = this.#figures();
    this.emit('cancel', figures);
    this.emit('abort', figures);
  }

  /** @deprecated the 2012 name of {@link WebSocketFileTransfer.cancel}, kept for 2012 callers. */
  abort(): void {
    this.cancel();
  }

  /** Why {@link WebSocketFileTransfer.pause} would refuse now, or null when it would pause. */
  get pauseRefusal(): PauseRefusal | null {
    return this.#agreement.pauseRefusal(this.#state);
  }

  /**
   * Pauses: stops sending, closes the socket without ABOR (the server keeps the partial upload, the resume
   * record stays), fires `pause` then `close`; a new transfer of the file resumes it, as after a reload.
   * @throws DOMException naming the {@link PauseRefusal} when `pauseRefusal` is not null (v1 cannot resume)
   */
  pause(): void {
    const refusal = this.pauseRefusal;
    if (refusal !== null) throw pauseError(refusal);
    this.#end('paused', () => this.emit('pause', this.#figures()));
  }

  /** ABOR just before the close (the server handles frames in order), else on a side connection; record forgotten. */
  #abandon(): void {
    const id = this.#agreement.abandon();
    const auth = this.#credentials.lastFrame;
    if (id !== null) sendAbor(this.#link.connection, this.#env, this.#options.url, formatAbor({ id }), auth);
    // Early data under way, no id yet: `ABOR: {}` after its chunks deletes this connection's upload.
    else if (this.#agreement.early) this.#link.connection?.trySend(formatAbor());
  }

  #connect(): void {
    // A pool shares sockets per identity: the AUTH frame, or one key for a token provider (asked per socket).
    const identity = this.#credentials.present ? (this.#credentials.lastFrame ?? 'token provider') : '';
    const failed = this.#link.connect(identity);
    // Failed after start() returned, so that listeners added right after start() hear it.
    if (failed) queueMicrotask(() => this.#state === 'connecting' && this.#failWith(failed));
  }

  #handleOpen(): void {
    if (this.#state !== 'connecting') return;
    // `open` means "the upload began talking to the server": once, not on every reconnection.
    if (!this.#opened) {
      this.#opened = true;
      this.emit('open', { file: this.#options.file });
    }
    if (this.#state !== 'connecting') return; // an `open` listener aborted
    // A shared socket that already carried this identity's AUTH needs none again.
    if (!this.#credentials.present || this.#link.connection?.authenticated) return this.#stor.send();
    this.#setState('authenticating');
    void this.#authenticate();
  }

  /** Sends AUTH; a token provider is asked on every connection, since a token may expire meanwhile. */
  async #authenticate(): Promise<void> {
    const generation = this.#link.generation;
    const auth = await this.#credentials.next(this.#env, this.#options.authTimeout);
    if (generation !== this.#link.generation || this.#state !== 'authenticating') return;
    if (!auth.ok) return this.#failWith(auth.failure);
    if (this.#send(auth.frame)) this.#expect('AUTH', this.#options.authTimeout);
  }

  #handleMessage(event: MessageEvent): void {
    if (!isActive(this.#state) || this.#liveness.heard(event.data)) return;
    const reading = readAnswer(event.data, this.#deadline.due, this.#agreement.integrity.unsettled);
    if (reading.kind === 'invalid') return this.#failWith(reading.failure);
    this.#deadline.settle();
    const { answer, expected } = reading;
    if (reading.kind === 'refusal') {
      if (!this.#handleRefusal(expected, answer)) this.#failWith(refusalFailure(expected, answer));
      return;
    }
    switch (expected) {
      case 'AUTH':
        this.#link.connection?.authenticate();
        return this.#stor.send();
      case 'STOR':
        return this.#stor.answered(answer);
      case 'DATA':
        return this.#data.acknowledged(answer);
      case 'BLK':
        return this.#data.blockAnswered(answer);
      case 'FIN':
        return this.#data.finAnswered(answer);
      default:
        this.#failWith({ code: 'badAnswer', message: `Unexpected ${answer.type} answer.`, init: { answer } });
    }
  }

  /** Handles the refusals an upload survives; returns false for those that end it. */
  #handleRefusal(expected: AnswerType, answer: Answer): boolean {
    // A resume unknown or expired on the server: forgotten, STOR sent afresh on the same connection.
    if (expected === 'STOR' && this.#stor.refused(answer)) return true;
    // Damaged for good (a block, or the whole file): the upload is discarded on the server, nothing to resume.
    if (answer.code === Status.checksumMismatch) {
      this.#agreement.forgetRecord();
      return false;
    }
    return this.#retry('refused', { status: answer.code, retryAfter: answer.retryAfter });
  }

  /** @returns a check that stays true while this connection is the current one and the upload runs */
  #stillCurrent(): () => boolean {
    const generation = this.#link.generation;
    return () => generation === this.#link.generation && isActive(this.#state);
  }

  #send(data: OutgoingFrame): boolean {
    try {
      this.#link.send(data);
      return true;
    } catch (cause) {
      const message = `Cannot send on the connection: ${String(cause)}`;
      this.#failWith({ code: 'connectionClosed', message, init: { cause } });
      return false;
    }
  }

  #expect(type: AnswerType, timeout: number): void {
    this.#deadline.expect(type, timeout, () => {
      // AUTH is never retried: a 2012 server never answers it, and would not on another connection either.
      if (type === 'AUTH' || !this.#retry('timeout')) this.#failWith(timeoutFailure(type, timeout));
    });
  }

  /**
   * Asks the one retry decision; on retry, drops the connection, schedules the reconnection (once online),
   * then fires `retrying` (after scheduling, so a listener that aborts cancels the wait). False: fail instead.
   */
  #retry(cause: RetryCause, refusal: RetryRefusal = {}): boolean {
    const delay = this.#reconnect.decide({ cause, resumable: this.#agreement.resumable, ...refusal });
    if (delay === null) return false;
    this.#dropConnection();
    this.#reconnect.schedule(delay, () => {
      if (this.#state !== 'retrying') return;
      this.#setState('connecting');
      this.#connect();
    });
    this.emit('retrying', { cause, attempt: this.#reconnect.attempts, delay, file: this.file });
    return true;
  }

  #handleBroken(cause: 'socketError' | 'socketClosed', event?: CloseEvent): void {
    if (!isActive(this.#state)) return;
    // A shared socket closed under this upload's unanswered STOR: another upload's end, so a fresh socket.
    if (this.#link.mayRejoin()) {
      this.#dropConnection();
      this.#setState('connecting');
      return this.#connect();
    }
    if (this.#retry(cause)) return;
    this.#failWith(connectionFailure(this.#state === 'connecting', this.#options.url, event));
  }

  /** Lets go of the connection, its deadline and what was in flight: the transfer waits to reconnect. */
  #dropConnection(): void {
    this.#liveness.stop();
    this.#link.release();
    this.#deadline.settle();
    this.#sender.drop();
    this.#setState('retrying');
  }

  #succeed(stored: { id: string; filename: string } | null): void {
    this.#end('complete', () => this.emit('success', { ...this.#figures(), ...(stored ? { stored } : {}) }));
  }

  #failWith({ code, message, init = {} }: Failure): void {
    const { closed, ...errorInit } = init;
    const error = new UploadError(code, message, errorInit);
    this.#end('failed', () => this.emit('error', { error, file: this.#options.file }), closed);
  }

  #readFailed(cause: unknown): void {
    const message = `Cannot read the file: ${String(cause)}`;
    if (isActive(this.#state)) this.#failWith({ code: 'readFailed', message, init: { cause } });
  }

  /**
   * The one way a started transfer ends: final state, timers cleared, socket released, then the outcome
   * event and `close`. The socket is released before listeners run, so a throwing listener cannot leave it open.
   */
  #end(state: StoppedState, dispatchOutcome: () => void, closed?: ClosedHow): void {
    this.#setState(state);
    this.#deadline.settle();
    this.#liveness.stop();
    this.#reconnect.cancel();
    this.#sender.close();
    const closedHere = this.#link.release(state === 'complete');
    const detail: CloseDetail = { ...closeDetail(closedHere, closed), file: this.#options.file };
    dispatchOutcome();
    this.emit('close', detail);
  }

  #figures(): ProgressDetail {
    const elapsedTime = this.#startedAt === 0 ? 0 : (this.#env.now() - this.#startedAt) / 1000;
    const { loaded, sent } = this.#sender.window;
    const [total, complete, file] = [this.#sender.source.size, this.#state === 'complete', this.file];
    return progressFigures({ loaded, sent, total, elapsedTime, complete, file });
  }

  #setState(next: TransferState): void {
    assertTransition(this.#state, next);
    this.#state = next;
  }
}
