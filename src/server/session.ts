import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import {
  formatAnswer,
  isBase64,
  looksLikeCommand,
  parseCommand,
  Status,
  type Answer,
  type AnswerType,
  type AuthCommand,
  type StorCommand,
  type TransferType,
} from '../protocol/index.ts';
import { storageFailure } from './limits.ts';
import { sanitizeFilename } from './naming.ts';
import type { ResolvedOptions } from './options.ts';
import type { PartialUpload, UploadStore } from './stores/store.ts';

/** What the server learns when a file is in its final place. */
export interface StoredFile {
  /** Final name inside the upload folder. */
  filename: string;
  /** The name the client asked for. */
  requestedName: string;
  size: number;
  parameters: unknown;
  /** Milliseconds from STOR to commit. */
  duration: number;
}

/** A STOR as the server's admission checks (limits, `accept` hook, disk floor) see it. */
export interface UploadAnnouncement {
  filename: string;
  requestedName: string;
  size: number;
  mime?: string;
  parameters: unknown;
}

/** The server's answer to a STOR: go ahead (into a sub-folder), or the refusal to send. */
export type Admission =
  { ok: true; folder?: string } | { ok: false; code: number; message: string; retryAfter?: number };

/** Hooks a session reports through; the server turns them into events, limits, logs and metrics. */
export interface SessionEvents {
  stored(file: StoredFile): void;
  failed(info: { code: number; message: string; filename?: string }): void;
  /** Asked for every STOR before storage is touched. */
  admit?(upload: UploadAnnouncement): Admission | Promise<Admission>;
  /** AUTH was accepted, for this user (the hook's `user`, else the login). */
  authenticated?(user: string | undefined): void;
  /** The client was already let in at the HTTP upgrade: no AUTH needed. */
  readonly preAuthenticated?: boolean;
}

/**
 * Per-connection states. One field, so that no two flags can contradict each other:
 * `ready` (AUTH or STOR expected) → `receiving` (data frames) → `ready` (file stored) … → `closed`.
 */
type SessionState = 'ready' | 'receiving' | 'closed';

interface Receiving {
  partial: PartialUpload;
  type: TransferType;
  size: number;
  received: number;
  filename: string;
  requestedName: string;
  parameters: unknown;
  startedAt: number;
}

// WebSocket close codes per wire code (see docs/protocol.md).
const CLOSE_CODE: Partial<Record<number, number>> = {
  400: 1002,
  401: 1008,
  403: 1008,
  413: 1009,
  429: 1013,
  500: 1011,
  503: 1013,
  507: 1011,
};
// Messages waiting for the disk beyond this many stop the socket from reading: a client that ignores
// stop-and-wait cannot make the server buffer without bound.
const MAX_BACKLOG = 4;

/**
 * One client connection speaking protocol v1: optional AUTH, STOR, then one DATA answer per chunk, each sent
 * after the chunk is written; the last answer only after the file is committed. Messages are handled one at a
 * time, in order.
 */
export class UploadSession {
  #state: SessionState = 'ready';
  #authenticated = false;
  // The 2012 client sends one empty data frame for an empty file (it reads and sends a 0-byte "last block").
  #emptyFrameDue = false;
  #upload: Receiving | undefined;
  #queue: Promise<void> = Promise.resolve();
  #backlog = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #socket: WebSocket;
  readonly #request: IncomingMessage;
  readonly #options: ResolvedOptions;
  readonly #store: UploadStore;
  readonly #events: SessionEvents;

  constructor(
    socket: WebSocket,
    request: IncomingMessage,
    options: ResolvedOptions,
    store: UploadStore,
    events: SessionEvents,
  ) {
    this.#socket = socket;
    this.#request = request;
    this.#options = options;
    this.#store = store;
    this.#events = events;
    this.#authenticated = events.preAuthenticated === true;
    socket.on('message', (data: Buffer, isBinary: boolean) => this.#enqueue(data, isBinary));
    socket.on('close', () => this.#handleClose());
    // ws reports protocol violations (oversized frames, bad UTF-8) here and closes the socket itself.
    socket.on('error', () => undefined);
    this.#armIdleTimer();
  }

  // Read through a getter so that TypeScript does not narrow the state across an await.
  get #closed(): boolean {
    return this.#state === 'closed';
  }

  #enqueue(data: Buffer, isBinary: boolean): void {
    this.#armIdleTimer();
    if (++this.#backlog > MAX_BACKLOG) this.#socket.pause();
    this.#queue = this.#queue
      .then(() => (this.#closed ? undefined : this.#handleMessage(data, isBinary)))
      .catch((error: unknown) => {
        const failure = storageFailure(error);
        return this.#fail(this.#state === 'receiving' ? 'DATA' : 'STOR', failure.code, failure.message);
      })
      .finally(() => {
        if (--this.#backlog <= MAX_BACKLOG && this.#socket.isPaused) this.#socket.resume();
      });
  }

  async #handleMessage(data: Buffer, isBinary: boolean): Promise<void> {
    const emptyFrameDue = this.#emptyFrameDue;
    this.#emptyFrameDue = false;
    if (emptyFrameDue && data.byteLength === 0) {
      return this.#answer({ type: 'DATA', code: Status.ok, bytesRead: 0 });
    }
    if (isBinary) return this.#handleBinary(data);
    const text = data.toString('utf8');
    if (this.#state === 'receiving' && !looksLikeCommand(text)) return this.#handleBase64(text);
    const parsed = parseCommand(text, this.#options.maxCommandLength);
    if (!parsed.ok) {
      return this.#fail(answerTypeFor(text, this.#state), parsed.error.status, parsed.error.message);
    }
    if (this.#state === 'receiving') {
      return this.#fail(
        'DATA',
        Status.badRequest,
        `${parsed.value.command} arrived in the middle of the data.`,
      );
    }
    return parsed.value.command === 'AUTH' ? this.#handleAuth(parsed.value) : this.#handleStor(parsed.value);
  }

  async #handleAuth(auth: AuthCommand): Promise<void> {
    const { authenticate } = this.#options;
    // The 2012 client sends AUTH whenever its caller passes credentials: without a check configured, accept.
    if (!authenticate)
      return this.#answer({ type: 'AUTH', code: Status.ok, message: 'No authentication required' });
    let decision: unknown;
    try {
      const { login, password, token } = auth;
      decision = await authenticate({ login, password, token }, this.#request);
    } catch {
      decision = false;
    }
    if (this.#closed) return;
    const user = (decision as { user?: unknown } | null)?.user;
    // Only an explicit yes lets a client in: a hook that returns a truthy non-answer has a bug.
    if (decision !== true && typeof user !== 'string') {
      return this.#fail('AUTH', Status.unauthorized, 'Authentication failed.');
    }
    this.#authenticated = true;
    this.#events.authenticated?.(typeof user === 'string' ? user : auth.login);
    this.#answer({ type: 'AUTH', code: Status.ok, message: 'Authenticated' });
  }

  async #handleStor(stor: StorCommand): Promise<void> {
    if (this.#options.authenticate && !this.#authenticated) {
      return this.#fail('STOR', Status.unauthorized, 'Authentication required: send AUTH first.');
    }
    if (stor.size > this.#options.maxFileSize) {
      return this.#fail(
        'STOR',
        Status.tooLarge,
        `File too large: the limit is ${this.#options.maxFileSize} bytes.`,
      );
    }
    const filename = sanitizeFilename(stor.filename);
    const mime = typeof stor.ext?.mime === 'string' ? stor.ext.mime : undefined;
    const { parameters, size } = stor;
    const admission = (await this.#events.admit?.({
      filename,
      requestedName: stor.filename,
      size,
      mime,
      parameters,
    })) ?? { ok: true };
    if (this.#closed) return;
    if (!admission.ok) return this.#fail('STOR', admission.code, admission.message, admission.retryAfter);
    const partial = await this.#store.create({ filename, size, folder: admission.folder });
    if (this.#closed) return partial.discard();
    this.#upload = {
      partial,
      type: stor.type,
      size: stor.size,
      received: 0,
      filename,
      requestedName: stor.filename,
      parameters: stor.parameters,
      startedAt: Date.now(),
    };
    this.#state = 'receiving';
    // An empty file is complete as soon as it is announced: commit before answering, as for the last chunk.
    if (stor.size === 0) await this.#commit();
    if (this.#closed) return;
    this.#emptyFrameDue = stor.size === 0;
    this.#answer({ type: 'STOR', code: Status.ok, message: 'Upload initialized. Wait for data' });
  }

  async #handleBinary(data: Buffer): Promise<void> {
    const upload = this.#upload;
    if (this.#state !== 'receiving' || !upload) {
      return this.#fail('DATA', Status.badRequest, 'Data arrived before STOR.');
    }
    if (upload.type !== 'binary') {
      return this.#fail('DATA', Status.badRequest, 'Binary frame received, but STOR declared type "base64".');
    }
    return this.#handleChunk(data);
  }

  async #handleBase64(text: string): Promise<void> {
    const upload = this.#upload!;
    if (upload.type !== 'base64') {
      return this.#fail('DATA', Status.badRequest, 'Text frame received, but STOR declared type "binary".');
    }
    if (!isBase64(text)) return this.#fail('DATA', Status.badRequest, 'The data frame is not valid base64.');
    return this.#handleChunk(Buffer.from(text, 'base64'));
  }

  async #handleChunk(chunk: Buffer): Promise<void> {
    const upload = this.#upload!;
    if (chunk.byteLength === 0) return this.#fail('DATA', Status.badRequest, 'Empty data frame.');
    if (upload.received + chunk.byteLength > upload.size) {
      return this.#fail(
        'DATA',
        Status.tooLarge,
        `More bytes than declared: STOR said ${upload.size}, received ${upload.received + chunk.byteLength}.`,
      );
    }
    await upload.partial.write(chunk);
    upload.received += chunk.byteLength;
    if (upload.received === upload.size) await this.#commit();
    if (this.#closed) return;
    this.#answer({ type: 'DATA', code: Status.ok, bytesRead: chunk.byteLength });
  }

  async #commit(): Promise<void> {
    const upload = this.#upload!;
    const filename = await upload.partial.commit();
    this.#upload = undefined;
    if (this.#state !== 'closed') this.#state = 'ready';
    this.#events.stored({
      filename,
      requestedName: upload.requestedName,
      size: upload.size,
      parameters: upload.parameters,
      duration: Date.now() - upload.startedAt,
    });
  }

  #answer(answer: Answer): void {
    if (this.#state !== 'closed') this.#socket.send(formatAnswer(answer));
  }

  /** Answers with an error, closes, and drops any partial upload: v1 has no resume. */
  async #fail(type: AnswerType, code: number, message: string, retryAfter?: number): Promise<void> {
    if (this.#closed) return;
    this.#answer({ type, code, message, retryAfter });
    const filename = this.#upload?.filename;
    this.#events.failed({ code, message, ...(filename ? { filename } : {}) });
    this.#socket.close(CLOSE_CODE[code] ?? 1008, message.slice(0, 120));
    await this.#close();
  }

  #handleClose(): void {
    void this.#close();
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#state = 'closed';
    clearTimeout(this.#idleTimer);
    const upload = this.#upload;
    this.#upload = undefined;
    // A dropped connection must not leave anything that looks like a finished file.
    await upload?.partial.discard();
  }

  #armIdleTimer(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#closed) return;
      this.#socket.close(1001, 'Idle timeout');
      void this.#close();
    }, this.#options.idleTimeout);
    this.#idleTimer.unref();
  }
}

function answerTypeFor(text: string, state: SessionState): AnswerType {
  const word = /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase();
  if (word === 'AUTH' || word === 'STOR') return word;
  return state === 'receiving' ? 'DATA' : 'ERROR';
}
