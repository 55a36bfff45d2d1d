import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import {
  formatAnswer,
  looksLikeCommand,
  parseCommand,
  parseStorOffer,
  PROTOCOL_V2,
  Status,
  type AborCommand,
  type Answer,
  type AnswerType,
  type AuthCommand,
  type FinCommand,
  type StorCommand,
  type StorGrant,
  type TransferType,
} from '../protocol/index.ts';
import { decodeBase64Frame } from './base64-frames.ts';
import { RefusalError, storageFailure, type Refusal } from './limits.ts';
import { sanitizeFilename } from './naming.ts';
import type { ResolvedOptions } from './options.ts';
import { claimUpload, releaseUpload, takeOver, type UploadHolder } from './upload-holders.ts';
import type { CompletedUpload, PartialUpload, UploadStore } from './stores/store.ts';

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
  /** Asked before an AUTH's credentials are checked: a refusal (429 while throttled) is answered instead. */
  authAttempt?(login: string | undefined): Refusal | undefined;
  /** An AUTH's credentials were checked: accepted, refused, or undefined when the hook could not decide. */
  authResult?(login: string | undefined, accepted: boolean | undefined): void;
  /** The client was already let in at the HTTP upgrade: no AUTH needed. */
  readonly preAuthenticated?: boolean;
}

/**
 * Per-connection states. One field, so that no two flags can contradict each other:
 * `ready` (AUTH or STOR expected) → `receiving` (data frames) → `ready` (file stored) … → `closed`.
 */
type SessionState = 'ready' | 'receiving' | 'closed';

/** What a v2 STOR agreed, for the rest of the upload. */
interface Agreed {
  grant: StorGrant;
}

interface Receiving {
  partial: PartialUpload;
  /** Present when the STOR negotiated protocol v2. */
  v2: Agreed | undefined;
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
  // 409 "held by another connection": try again later. 422: the data was inconsistent with its checksum.
  409: 1013,
  413: 1009,
  422: 1007,
  429: 1013,
  500: 1011,
  503: 1013,
  507: 1011,
};
// Messages waiting for the disk beyond this many stop the socket from reading: a client that ignores
// stop-and-wait cannot make the server buffer without bound.
const MAX_BACKLOG = 4;
// Bytes of received messages waiting for the disk (the one being written included) from which the socket
// stops reading. The rest of a client's window waits in the kernel's TCP receive buffer, outside the
// process: 50 uploads with 16 × 1 MiB windows would otherwise hold 800 MiB here. With 1 MiB chunks the
// socket pauses while each chunk is written; the kernel keeps receiving meanwhile, so the next chunk is
// there when reading resumes, and the process holds one chunk per connection (plus the one `ws` is
// assembling) instead of two or three. Smaller chunks still pipeline up to 1 MiB.
const MAX_PENDING_BYTES = 1024 * 1024;
// How often a session start may trigger a sweep of expired partial uploads, per store.
const SWEEP_INTERVAL = 60_000;
const lastSweep = new WeakMap<UploadStore, number>();

/**
 * An upload committed on FIN, remembered so that a client whose FIN answer was lost learns it succeeded: per
 * store in memory, and through the store's `remember` (the file store keeps it on disk) across restarts.
 */
type Completed = CompletedUpload;
const completedUploads = new WeakMap<UploadStore, Map<string, Completed>>();
// Bounds the memory that remembering costs; the oldest entries go first.
const MAX_COMPLETED = 10_000;
// What a client that found its upload held by another connection is told to wait before it retries.
const HELD_RETRY_AFTER = 1000;
// How long a connection taken over gets to receive its close frame before its socket is destroyed.
const EVICT_GRACE = 200;

/**
 * One client connection. Protocol v1: optional AUTH, STOR, then one DATA answer per chunk, each sent after
 * the chunk is written; the last answer only after the file is committed. Protocol v2 (offered inside STOR,
 * see docs/protocol.md): a window of chunks, acks with the offset, resume by id, FIN with a SHA-256 checked
 * before the commit, ABOR. Messages are handled one at a time, in order.
 */
export class UploadSession {
  #state: SessionState = 'ready';
  #authenticated = false;
  /** Who the authenticate hook accepted; resumable uploads are bound to it. */
  #owner: string | null = null;
  #maxBacklog = MAX_BACKLOG;
  /** Set by a resume of an upload already committed: only its FIN is expected. */
  #finished: { id: string; entry: Completed } | undefined;
  /** Set when the socket closed: queued work still runs (a written chunk stays written), answers are not sent. */
  #socketClosed = false;
  // The 2012 client sends one empty data frame for an empty file (it reads and sends a 0-byte "last block").
  #emptyFrameDue = false;
  #upload: Receiving | undefined;
  #queue: Promise<void> = Promise.resolve();
  #backlog = 0;
  #pendingBytes = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  /** The resumable upload this connection holds, as registered for a takeover (upload-holders.ts). */
  #claimed: string | undefined;
  /** How a newer connection resuming the same upload closes this one. */
  readonly #holder: UploadHolder = { evict: () => this.#evict() };
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
    this.#sweep();
  }

  /** Deletes expired partial uploads now and then; riding on connections needs no timer of its own. */
  #sweep(): void {
    const now = Date.now();
    if (!this.#store.expire || now - (lastSweep.get(this.#store) ?? 0) < SWEEP_INTERVAL) return;
    lastSweep.set(this.#store, now);
    this.#store.expire(now).catch(() => undefined);
  }

  // Read through a getter so that TypeScript does not narrow the state across an await.
  get #closed(): boolean {
    return this.#state === 'closed';
  }

  #enqueue(data: Buffer, isBinary: boolean): void {
    this.#armIdleTimer();
    this.#pendingBytes += data.byteLength;
    if (++this.#backlog > this.#maxBacklog || this.#pendingBytes >= MAX_PENDING_BYTES) this.#socket.pause();
    this.#queue = this.#queue
      .then(() => (this.#closed ? undefined : this.#handleMessage(data, isBinary)))
      .catch((error: unknown) => {
        const failure = storageFailure(error);
        return this.#fail(this.#state === 'receiving' ? 'DATA' : 'STOR', failure.code, failure.message);
      })
      .finally(() => {
        this.#pendingBytes -= data.byteLength;
        const drained = --this.#backlog <= this.#maxBacklog && this.#pendingBytes < MAX_PENDING_BYTES;
        if (drained && this.#socket.isPaused) this.#socket.resume();
      });
  }

  async #handleMessage(data: Buffer, isBinary: boolean): Promise<void> {
    const emptyFrameDue = this.#emptyFrameDue;
    this.#emptyFrameDue = false;
    if (emptyFrameDue && data.byteLength === 0) {
      return this.#answer({ type: 'DATA', code: Status.ok, bytesRead: 0 });
    }
    if (isBinary) return this.#handleBinary(data);
    // A data frame may be megabytes: only its start is looked at to tell it from a command.
    if (this.#state === 'receiving' && !looksLikeCommand(data.toString('utf8', 0, 16))) {
      return this.#handleBase64(data);
    }
    const text = data.toString('utf8');
    const parsed = parseCommand(text, this.#options.maxCommandLength, this.#options.maxJsonDepth);
    if (!parsed.ok) {
      return this.#fail(answerTypeFor(text, this.#state), parsed.error.status, parsed.error.message);
    }
    const command = parsed.value;
    if (command.command === 'ABOR') return this.#handleAbor(command);
    if (command.command === 'FIN') return this.#handleFin(command);
    if (this.#state === 'receiving') {
      return this.#fail('DATA', Status.badRequest, `${command.command} arrived in the middle of the data.`);
    }
    return command.command === 'AUTH' ? this.#handleAuth(command) : this.#handleStor(command);
  }

  async #handleAuth(auth: AuthCommand): Promise<void> {
    const { authenticate } = this.#options;
    // The 2012 client sends AUTH whenever its caller passes credentials: without a check configured, accept.
    if (!authenticate)
      return this.#answer({ type: 'AUTH', code: Status.ok, message: 'No authentication required' });
    const throttled = this.#events.authAttempt?.(auth.login);
    if (throttled) return this.#fail('AUTH', throttled.code, throttled.message, throttled.retryAfter);
    let decision: unknown;
    try {
      const { login, password, token } = auth;
      decision = await authenticate({ login, password, token }, this.#request);
    } catch (error) {
      // A hook that cannot decide now (its queue is full) says when to come back; any other throw is a no.
      if (error instanceof RefusalError) {
        this.#events.authResult?.(auth.login, undefined);
        const { code, message, retryAfter } = error.refusal;
        return this.#fail('AUTH', code, message, retryAfter);
      }
      decision = false;
    }
    const user = (decision as { user?: unknown } | null)?.user;
    // Only an explicit yes lets a client in: a hook that returns a truthy non-answer has a bug.
    const accepted = decision === true || typeof user === 'string';
    this.#events.authResult?.(auth.login, accepted);
    if (this.#closed) return;
    if (!accepted) return this.#fail('AUTH', Status.unauthorized, 'Authentication failed.');
    this.#authenticated = true;
    // The identity resumable uploads are bound to: the hook's user, else the login; a token only as its hash.
    this.#owner =
      typeof user === 'string'
        ? `user:${user}`
        : auth.login !== undefined
          ? `login:${auth.login}`
          : `token:${createHash('sha256')
              .update(auth.token ?? '')
              .digest('base64url')}`;
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
    if (stor.v !== undefined && stor.v >= PROTOCOL_V2 && stor.ext) return this.#handleStorV2(stor, stor.ext);
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
    // v1 has no checksum: no running hash (the file store still keeps one for content naming).
    const partial = await this.#store.create({ filename, size, folder: admission.folder, sha256: false });
    if (this.#closed) return partial.discard();
    this.#upload = {
      partial,
      v2: undefined,
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

  async #handleStorV2(stor: StorCommand, ext: Record<string, unknown>): Promise<void> {
    const offer = parseStorOffer(ext);
    if (!offer.ok) return this.#fail('STOR', offer.error.status, offer.error.message);
    const { resume } = offer.value;
    let partial: PartialUpload | undefined;
    if (resume !== null) {
      const found = await this.#store.open?.(resume);
      if (this.#closed) return;
      let completed = found ? undefined : this.#completed().get(resume);
      if (!found && !completed) {
        completed = await this.#store.recall?.(resume).catch(() => undefined);
        if (this.#closed) return;
      }
      if (completed && completed.size === stor.size && completed.expiresAt > Date.now()) {
        return this.#answerFinished(resume, completed, offer.value.window);
      }
      // Unknown, expired and "a different file under the same id" look alike: the client starts afresh.
      // The connection stays open for that fresh STOR.
      if (!found || found.size !== stor.size) {
        return this.#answer({
          type: 'STOR',
          code: Status.notFound,
          message: 'Unknown or expired upload id.',
        });
      }
      if (found.owner !== null && found.owner !== this.#owner) {
        return this.#fail('STOR', Status.forbidden, 'This upload belongs to another user.');
      }
      // The owner resuming: the newer connection wins, the old one (often dead without a FIN) is closed.
      if (found.held) await takeOver(this.#store, found, () => this.#closed);
      if (this.#closed) return;
      if (found.held) {
        return this.#fail(
          'STOR',
          Status.conflict,
          'This upload is in use by another connection.',
          HELD_RETRY_AFTER,
        );
      }
      // Held before the admission's awaits, so that a second connection cannot take it meanwhile.
      found.hold();
      this.#claim(found.id);
      partial = found;
    }
    // Limits, the accept hook and the disk floor apply to a resumed upload as to a fresh one.
    const filename = sanitizeFilename(stor.filename);
    const admission = (await this.#events.admit?.({
      filename,
      requestedName: stor.filename,
      size: stor.size,
      mime: offer.value.mime,
      parameters: stor.parameters,
    })) ?? { ok: true };
    if (this.#closed || !admission.ok) {
      await partial?.release();
      if (this.#closed || admission.ok) return;
      return this.#fail('STOR', admission.code, admission.message, admission.retryAfter);
    }
    if (!partial) {
      partial = await this.#store.create({
        filename,
        size: stor.size,
        ...(admission.folder !== undefined ? { folder: admission.folder } : {}),
        resumable: this.#store.open ? { owner: this.#owner, ttl: this.#options.partialExpiry } : undefined,
        sha256: offer.value.checksum.includes('sha256'),
      });
      if (this.#closed) return partial.release();
      partial.hold();
      this.#claim(partial.id);
    }
    const { maxWindow, maxChunk, maxPayload } = this.#options;
    const grant: StorGrant = {
      binary: offer.value.binary,
      window: Math.min(offer.value.window, maxWindow),
      maxChunk: Math.min(maxChunk, maxPayload),
      checksum: offer.value.checksum.includes('sha256') ? 'sha256' : null,
      fin: offer.value.fin,
      expires: new Date(
        Number.isFinite(partial.expiresAt) ? partial.expiresAt : Date.now() + this.#options.partialExpiry,
      ).toISOString(),
    };
    // A pipelining client has `window` chunks on the way by design: only more than that is abuse.
    this.#maxBacklog = Math.max(MAX_BACKLOG, grant.window + 2);
    this.#upload = {
      partial,
      v2: { grant },
      type: grant.binary ? 'binary' : 'base64',
      size: stor.size,
      received: partial.offset,
      filename: partial.filename,
      requestedName: stor.filename,
      parameters: stor.parameters,
      startedAt: Date.now(),
    };
    this.#state = 'receiving';
    if (partial.offset === stor.size && !grant.fin) await this.#commit();
    if (this.#closed) return;
    this.#answer({
      type: 'STOR',
      code: Status.ok,
      message: 'Upload initialized. Wait for data',
      v: PROTOCOL_V2,
      id: partial.id,
      offset: partial.offset,
      ext: grant,
    });
  }

  #completed(): Map<string, Completed> {
    let map = completedUploads.get(this.#store);
    if (!map) completedUploads.set(this.#store, (map = new Map()));
    return map;
  }

  #remember(id: string, entry: Completed): void {
    const map = this.#completed();
    map.set(id, entry);
    for (const key of map.keys()) {
      if (map.size <= MAX_COMPLETED) break;
      map.delete(key);
    }
  }

  /** A resume of an upload that was committed: the client lost the FIN answer; let it send FIN again. */
  #answerFinished(id: string, entry: Completed, window: number): void {
    if (entry.owner !== null && entry.owner !== this.#owner) {
      void this.#fail('STOR', Status.forbidden, 'This upload belongs to another user.');
      return;
    }
    this.#finished = { id, entry };
    this.#answer({
      type: 'STOR',
      code: Status.ok,
      message: 'Upload already stored. Send FIN',
      v: PROTOCOL_V2,
      id,
      offset: entry.size,
      ext: {
        binary: true,
        window: Math.max(1, Math.min(window, this.#options.maxWindow)),
        maxChunk: Math.min(this.#options.maxChunk, this.#options.maxPayload),
        checksum: entry.checksum ? 'sha256' : null,
        fin: true,
        expires: new Date(entry.expiresAt).toISOString(),
      },
    });
  }

  async #handleFin(fin: FinCommand): Promise<void> {
    const finished = this.#finished;
    if (finished && this.#state === 'ready') {
      this.#finished = undefined;
      const { entry, id } = finished;
      if (fin.size !== entry.size || (entry.checksum !== undefined && fin.checksum !== entry.checksum)) {
        return this.#fail(
          'FIN',
          Status.checksumMismatch,
          'This upload was stored with another size or checksum.',
        );
      }
      return this.#answer({
        type: 'FIN',
        code: Status.ok,
        message: 'Stored',
        id,
        size: entry.size,
        ...(entry.checksum ? { checksum: entry.checksum } : {}),
        filename: entry.filename,
      });
    }
    const upload = this.#upload;
    if (this.#state !== 'receiving' || !upload?.v2?.grant.fin) {
      return this.#fail('FIN', Status.badRequest, 'FIN without an upload that agreed to it.');
    }
    if (fin.size !== upload.size || upload.received !== upload.size) {
      return this.#fail(
        'FIN',
        Status.checksumMismatch,
        `Size mismatch: STOR said ${upload.size}, FIN says ${fin.size}, the server holds ${upload.received}.`,
        undefined,
        true,
      );
    }
    let checksum: string | undefined;
    if (upload.v2.grant.checksum === 'sha256') {
      if (fin.checksum === undefined) return this.#fail('FIN', Status.badRequest, 'FIN needs the checksum.');
      checksum = `sha256:${Buffer.from(await upload.partial.sha256()).toString('base64')}`;
      if (checksum !== fin.checksum) {
        return this.#fail(
          'FIN',
          Status.checksumMismatch,
          'Checksum mismatch: the file was damaged on the way.',
          undefined,
          true,
        );
      }
    }
    const id = upload.partial.id;
    const owner = upload.partial.owner;
    const filename = await this.#commit();
    const record: Completed = {
      size: upload.size,
      filename,
      checksum,
      owner,
      expiresAt: Date.now() + this.#options.partialExpiry,
    };
    this.#remember(id, record);
    // Kept before the answer, so that an answer lost in a crash is still recoverable after the restart. A
    // record that cannot be kept (full disk) costs only that: the file itself is committed and answered.
    await this.#store.remember?.(id, record).catch(() => undefined);
    if (this.#closed) return;
    this.#answer({
      type: 'FIN',
      code: Status.ok,
      message: 'Stored',
      id,
      size: upload.size,
      ...(checksum ? { checksum } : {}),
      filename,
    });
  }

  async #handleAbor(abor: AborCommand): Promise<void> {
    const upload = this.#upload;
    if (upload && (abor.id === undefined || abor.id === upload.partial.id)) {
      this.#upload = undefined;
      this.#state = 'ready';
      await upload.partial.discard();
      return this.#answer({ type: 'ABOR', code: Status.ok, message: 'Deleted' });
    }
    if (this.#state === 'receiving') {
      return this.#fail('ABOR', Status.badRequest, 'ABOR of another upload in the middle of the data.');
    }
    const found = abor.id === undefined ? undefined : await this.#store.open?.(abor.id);
    if (this.#closed) return;
    if (!found) return this.#answer({ type: 'ABOR', code: Status.notFound, message: 'Unknown upload id.' });
    if (found.owner !== null && found.owner !== this.#owner) {
      return this.#answer({ type: 'ABOR', code: Status.forbidden, message: 'Not your upload.' });
    }
    if (found.held) {
      return this.#answer({ type: 'ABOR', code: Status.conflict, message: 'In use by another connection.' });
    }
    await found.discard();
    this.#answer({ type: 'ABOR', code: Status.ok, message: 'Deleted' });
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

  async #handleBase64(frame: Buffer): Promise<void> {
    const upload = this.#upload!;
    if (upload.type !== 'base64') {
      return this.#fail('DATA', Status.badRequest, 'Text frame received, but STOR declared type "binary".');
    }
    // Checked and decoded in slices, yielding between them (base64-frames.ts).
    const chunk = await decodeBase64Frame(frame);
    if (this.#closed) return;
    if (!chunk) return this.#fail('DATA', Status.badRequest, 'The data frame is not valid base64.');
    return this.#handleChunk(chunk);
  }

  async #handleChunk(chunk: Buffer): Promise<void> {
    const upload = this.#upload!;
    if (chunk.byteLength === 0) return this.#fail('DATA', Status.badRequest, 'Empty data frame.');
    if (upload.v2 && chunk.byteLength > upload.v2.grant.maxChunk) {
      return this.#fail('DATA', Status.tooLarge, `Chunk larger than maxChunk (${upload.v2.grant.maxChunk}).`);
    }
    if (upload.received + chunk.byteLength > upload.size) {
      return this.#fail(
        'DATA',
        Status.tooLarge,
        `More bytes than declared: STOR said ${upload.size}, received ${upload.received + chunk.byteLength}.`,
      );
    }
    await upload.partial.write(chunk);
    upload.received += chunk.byteLength;
    // With FIN agreed the commit waits for FIN and its checksum; otherwise the last chunk completes the file.
    if (upload.received === upload.size && !upload.v2?.grant.fin) await this.#commit();
    if (this.#closed) return;
    if (upload.v2) {
      this.#answer({ type: 'DATA', code: Status.ok, bytesRead: chunk.byteLength, offset: upload.received });
    } else {
      this.#answer({ type: 'DATA', code: Status.ok, bytesRead: chunk.byteLength });
    }
  }

  async #commit(): Promise<string> {
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
    return filename;
  }

  #answer(answer: Answer): void {
    if (this.#state !== 'closed' && !this.#socketClosed) this.#socket.send(formatAnswer(answer));
  }

  /**
   * Answers with an error, closes, and drops the partial upload — unless it is a v2 upload that may be
   * resumed (a 500 or a bad frame does not make the bytes already stored wrong). `discard` forces the drop.
   */
  async #fail(
    type: AnswerType,
    code: number,
    message: string,
    retryAfter?: number,
    discard = false,
  ): Promise<void> {
    if (this.#closed) return;
    this.#answer({ type, code, message, ...(retryAfter !== undefined ? { retryAfter } : {}) });
    const filename = this.#upload?.filename;
    this.#events.failed({ code, message, ...(filename ? { filename } : {}) });
    this.#socket.close(CLOSE_CODE[code] ?? 1008, message.slice(0, 120));
    if (discard) {
      const upload = this.#upload;
      this.#upload = undefined;
      await upload?.partial.discard();
    }
    await this.#close();
  }

  #handleClose(): void {
    this.#socketClosed = true;
    // v1 (or nothing started): drop at once, as v1 always did; a shutdown waits for that discard.
    if (!this.#upload?.v2) {
      void this.#close();
      return;
    }
    // v2: after the messages that arrived before the close, so that an ABOR sent just before closing still
    // deletes and chunks already received are still written for the resume.
    this.#queue = this.#queue.then(() => this.#close()).catch(() => undefined);
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#state = 'closed';
    if (this.#claimed !== undefined) releaseUpload(this.#store, this.#claimed, this.#holder);
    clearTimeout(this.#idleTimer);
    const upload = this.#upload;
    this.#upload = undefined;
    if (!upload) return;
    // A v2 upload is kept for a resume; a v1 one is dropped, so nothing looks like a finished file.
    if (upload.v2) await upload.partial.release();
    else await upload.partial.discard();
  }

  #claim(id: string): void {
    this.#claimed = id;
    claimUpload(this.#store, id, this.#holder);
  }

  /**
   * A newer connection took the upload over: answer nothing more, let go of the upload once the messages
   * already received are written, and close (destroying the socket soon: the peer is often dead).
   */
  #evict(): void {
    if (this.#socketClosed) return;
    this.#socket.close(1008, 'Taken over by a newer connection');
    setTimeout(() => this.#socket.terminate(), EVICT_GRACE).unref();
    this.#handleClose();
  }

  /** Restarts the idle countdown; per message, so the one timer is refreshed rather than replaced. */
  #armIdleTimer(): void {
    if (this.#idleTimer) {
      this.#idleTimer.refresh();
      return;
    }
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
  if (word === 'AUTH' || word === 'STOR' || word === 'FIN' || word === 'ABOR') return word;
  return state === 'receiving' ? 'DATA' : 'ERROR';
}
