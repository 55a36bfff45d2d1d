import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { Status } from '../protocol/index.ts';
import type { AuthAttempt, AuthThrottle } from './auth-throttle.ts';
import { checkFreeSpace, type ClientLimits } from './limits.ts';
import type { RefusalDetail } from './refusal.ts';
import { startHeartbeat } from './heartbeat.ts';
import type { UploadLog } from './logging.ts';
import type { UploadMetrics } from './metrics.ts';
import { sanitizeFilename } from './naming.ts';
import type { AcceptDecision, ResolvedOptions } from './options.ts';
import type {
  Admission,
  ResumeKind,
  SessionEvents,
  StoredFile,
  UploadAnnouncement,
} from './session-events.ts';
import type { UnfinishedUploads } from './unfinished-uploads.ts';

/** What the server shares with every connection's guard. */
export interface GuardContext {
  options: ResolvedOptions;
  limits: ClientLimits;
  /** Failed authentications per address and login (shared with the upgrade check). */
  authThrottle: AuthThrottle;
  metrics: UploadMetrics;
  log: UploadLog;
  /** Resumable uploads each address left unfinished, when the store keeps them (it can resume). */
  unfinished: UnfinishedUploads | undefined;
  /** Folder whose disk the free-space floor is measured on; undefined when there is no disk to measure. */
  diskDir: string | undefined;
  /** Forwards to the server's public events. */
  emitStored(file: StoredFile): void;
  emitFailed(info: { code: number; message: string; filename?: string }): void;
}

interface ActiveUpload {
  id: string;
  filename: string;
  size: number;
  startedAt: number;
  /** Set when the session answered with an error: the close that follows is then not a mere drop. */
  failure?: {
    code: number;
    message: string;
  };
  /** v2: whether it started a resumable upload or resumed one. */
  resume?: ResumeKind;
  /** Deleted (an ABOR, a refusal that discards it): nothing is kept on disk for a resume. */
  discarded?: boolean;
}

/**
 * The server-side policy around one connection's {@link UploadSession}: it admits each upload (limits,
 * `accept` hook, disk floor), holds the connection's upload slot until the upload is stored or gone, closes
 * a client that is not let in within `authTimeout`, and writes the upload's log lines and metrics. The
 * session calls it through {@link SessionEvents}, so the state machine itself stays about the protocol.
 */
export class ConnectionGuard implements SessionEvents {
  readonly preAuthenticated: boolean;
  readonly #context: GuardContext;
  readonly #socket: WebSocket;
  readonly #request: IncomingMessage;
  readonly #ip: string;
  readonly #authRequired: boolean;
  #user: string | undefined;
  #active: ActiveUpload | undefined;
  #authTimer: NodeJS.Timeout | undefined;
  /** The AUTH being checked, as the throttle let it through. */
  #authAttempt: AuthAttempt | undefined;

  /**
   * @param context - what the server shares
   * @param socket - the connection
   * @param request - its upgrade request
   * @param ip - the client address its connection slot was taken for
   * @param upgradeUser - when the upgrade already let the client in: its user (or `''` for none)
   */
  constructor(
    context: GuardContext,
    socket: WebSocket,
    request: IncomingMessage,
    ip: string,
    upgradeUser: string | undefined,
  ) {
    this.#context = context;
    this.#socket = socket;
    this.#request = request;
    this.#ip = ip;
    this.preAuthenticated = upgradeUser !== undefined;
    this.#user = upgradeUser || undefined;
    const { authenticate, authorizeUpgrade, authTimeout } = context.options;
    this.#authRequired =
      !this.preAuthenticated && (authenticate !== undefined || authorizeUpgrade !== undefined);
    this.#authTimer = setTimeout(() => {
      context.log.refused({ ip, code: Status.unauthorized, reason: 'authTimeout' });
      socket.close(1008, this.#authRequired ? 'Authentication timeout' : 'No upload started in time');
    }, authTimeout);
    this.#authTimer.unref();
    socket.on('message', (data: Buffer) => context.metrics.received(data.byteLength));
    startHeartbeat(socket, context.options.heartbeatInterval, () =>
      context.log.refused({ ip, code: 1006, reason: 'heartbeat' }),
    );
    socket.once('close', () => this.#handleClose());
  }

  /** @inheritdoc */
  authAttempt(login: string | undefined): RefusalDetail | undefined {
    this.#authAttempt?.done(undefined);
    const attempt = this.#context.authThrottle.begin(this.#ip, login);
    if ('done' in attempt) {
      this.#authAttempt = attempt;
      return undefined;
    }
    this.#context.log.refused({ ip: this.#ip, code: attempt.code, reason: 'authThrottled' });
    return attempt;
  }

  /** @inheritdoc */
  authResult(_login: string | undefined, accepted: boolean | undefined): void {
    this.#authAttempt?.done(accepted);
    this.#authAttempt = undefined;
  }

  /** @inheritdoc */
  authenticated(user: string | undefined): void {
    this.#user = user;
    clearTimeout(this.#authTimer);
  }

  /** @inheritdoc */
  async admit(upload: UploadAnnouncement, resume?: ResumeKind): Promise<Admission> {
    // A STOR answered at all means the client was let in (or no check is configured).
    clearTimeout(this.#authTimer);
    const { options, limits, metrics, log } = this.#context;
    if (options.accept) {
      const refusal = await this.#ask(upload);
      if (refusal) return refusal;
    }
    if (this.#socket.readyState !== this.#socket.OPEN)
      return { ok: false, code: Status.unavailable, message: 'The connection is closing.' };
    const space = this.#context.diskDir
      ? await checkFreeSpace(this.#context.diskDir, options.minFreeSpace, upload.size)
      : undefined;
    if (space) return { ok: false, ...space };
    if (this.#socket.readyState !== this.#socket.OPEN)
      return { ok: false, code: Status.unavailable, message: 'The connection is closing.' };
    // A resume is never refused for this: finishing what was left is what frees the count.
    const left = resume === 'fresh' ? this.#context.unfinished?.check(this.#ip, Date.now()) : undefined;
    if (left) return { ok: false, ...left };
    // Taken last and synchronously after the awaits: a slot is never held by a refused upload.
    const busy = limits.startUpload(this.#ip);
    if (busy) return { ok: false, ...busy };
    this.#active = {
      id: randomBytes(8).toString('hex'),
      filename: upload.filename,
      size: upload.size,
      startedAt: Date.now(),
      ...(resume ? { resume } : {}),
    };
    metrics.uploadStarted();
    log.started({ ...this.#fields(), filename: upload.filename, size: upload.size });
    const folder = options.userFolders && this.#user ? sanitizeFilename(this.#user) : undefined;
    return folder ? { ok: true, folder } : { ok: true };
  }

  /** @inheritdoc */
  stored(file: StoredFile): void {
    const active = this.#active;
    this.#active = undefined;
    if (active) {
      this.#context.limits.endUpload(this.#ip);
      if (active.resume === 'resumed') this.#context.unfinished?.finished(this.#ip);
      this.#context.metrics.uploadCompleted();
      this.#context.log.stored({
        ...this.#fields(active),
        filename: file.filename,
        size: file.size,
        durationMs: Date.now() - active.startedAt,
      });
    }
    this.#context.emitStored(file);
  }

  /** @inheritdoc */
  failed(info: { code: number; message: string; filename?: string }): void {
    this.#context.metrics.error(info.code);
    if (this.#active) this.#active.failure = { code: info.code, message: info.message };
    this.#context.emitFailed(info);
  }

  async #ask(upload: UploadAnnouncement): Promise<Admission | undefined> {
    let decision: AcceptDecision;
    try {
      decision = await this.#context.options.accept!({
        ...upload,
        request: this.#request,
        ...(this.#user ? { user: this.#user } : {}),
      });
    } catch {
      // A hook that throws has a bug; refusing is the safe side, and the server stays up.
      return { ok: false, code: Status.serverError, message: 'The accept check failed.' };
    }
    if (decision === true) return undefined;
    if (decision && typeof decision === 'object' && [403, 413, 415, 422].includes(decision.code)) {
      return { ok: false, code: decision.code, message: decision.message ?? 'File refused.' };
    }
    return { ok: false, code: Status.forbidden, message: 'File refused.' };
  }

  #fields(active = this.#active) {
    return { id: active?.id ?? '-', ip: this.#ip, ...(this.#user ? { user: this.#user } : {}) };
  }

  /** @inheritdoc */
  discarded(aborted: boolean): void {
    const active = this.#active;
    if (!active) return;
    active.discarded = true;
    // An ABOR ends the upload now (the connection may carry another one); a refusal's close ends it there.
    if (aborted) {
      this.#active = undefined;
      this.#endUnstored(active, 'aborted by the client');
    }
  }

  #handleClose(): void {
    clearTimeout(this.#authTimer);
    this.#authAttempt?.done(undefined);
    const active = this.#active;
    this.#active = undefined;
    if (active) this.#endUnstored(active, 'connection closed before the upload was complete');
    this.#context.limits.disconnect(this.#ip);
  }

  /** An upload that ended without being stored: its slot freed, counted, logged. */
  #endUnstored(active: ActiveUpload, reason: string): void {
    const { limits, metrics, log, options } = this.#context;
    limits.endUpload(this.#ip);
    // Kept on disk for its resume until it expires: counted against the address meanwhile.
    const now = Date.now();
    if (active.resume === 'fresh' && !active.discarded)
      this.#context.unfinished?.left(this.#ip, now + options.partialExpiry, now);
    metrics.uploadFailed();
    log.failed({
      ...this.#fields(active),
      filename: active.filename,
      size: active.size,
      durationMs: now - active.startedAt,
      ...(active.failure ? { code: active.failure.code } : {}),
      reason: active.failure?.message ?? reason,
    });
  }
}
