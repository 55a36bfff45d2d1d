/**
 * One client connection of the upload server: reads its messages one at a time, in order, and dispatches
 * each to the handler of its command. What the connection is doing lives in its state machine
 * (session-state.ts); what an upload agreed in its agreement (agreement.ts, over the protocol's terms);
 * socket reading is paced by backpressure.ts; a resume is looked up (and a held upload taken over) by
 * resume.ts; an AUTH is decided by session-auth.ts; FIN is checked and answered by session-fin.ts; v1 base64
 * frames are decoded in slices by base64-frames.ts; every "no" is a {@link Refusal}, sent in one place.
 *
 * Protocol v1: optional AUTH, STOR, then one DATA answer per chunk, each sent after the chunk is written;
 * the last answer only after the file is committed. Protocol v2 (offered inside STOR, see
 * docs/protocol.md): a window of chunks, acks with the offset, resume by id, FIN with a SHA-256 checked
 * before the commit, ABOR.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import {
  CloseCode,
  formatAnswer,
  looksLikeCommand,
  parseCommand,
  PROTOCOL_V2,
  readOffer,
  Status,
  type AborCommand,
  type Answer,
  type AuthCommand,
  type FinCommand,
  type StorCommand,
  type StorOffer,
} from '../protocol/index.ts';
import { AckCoalescer, afterBoth } from './ack-coalescer.ts';
import { grantPolicy, storedAnswer, v1Agreement, v2Agreement } from './agreement.ts';
import { Backpressure } from './backpressure.ts';
import { SessionCredit } from './credit-grant.ts';
import { EarlyDataDiscard } from './early-data.ts';
import * as integrity from './session-integrity.ts';
import { decodeBase64Frame } from './base64-frames.ts';
import { deleteForAbor, storageFailure } from './limits.ts';
import type { ResolvedOptions } from './options.ts';
import { OrderedReplies } from './ordered-replies.ts';
import { Refusal } from './refusal.ts';
import { findResume } from './resume.ts';
import { admitStor } from './stor-admission.ts';
import { decideAuth } from './session-auth.ts';
import { startKeepAlive } from './keep-alive.ts';
import { answerFin } from './session-fin.ts';
import { CLOSED, READY, SessionStateMachine, type ReceivingUpload } from './session-state.ts';
import type { CompletedUpload, PartialUpload } from './stores/store.ts';
import type { UploadHolder } from './upload-holders.ts';
import type { SessionEvents, SessionServices } from './session-events.ts';

/** One client connection. */
export class UploadSession {
  readonly #machine = new SessionStateMachine();
  #authenticated = false;
  /** Who the authenticate hook accepted; resumable uploads are bound to it. */
  #owner: string | null = null;
  #queue: Promise<void> = Promise.resolve();
  /** The byte credit of the upload being received (credit-grant.ts). */
  readonly #credit: SessionCredit;
  /** Early data of the last STOR that was not taken at offset 0, being dropped (early-data.ts). */
  readonly #early = new EarlyDataDiscard();
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #backpressure: Backpressure;
  /** Answers in order, acks waiting for their bytes to be durable (ordered-replies.ts). */
  readonly #replies = new OrderedReplies();
  /** DATA acks held back to cover several chunks, when agreed (ack-coalescer.ts). */
  readonly #acks = new AckCoalescer((ack, after) => this.#answer(ack, after));
  readonly #socket: WebSocket;
  readonly #request: IncomingMessage;
  readonly #options: ResolvedOptions;
  /** The store, the upload records and the upload holders, shared with the server's other sessions. */
  readonly #services: SessionServices;
  readonly #isClosed = (): boolean => this.#machine.closed;
  /** This connection as the holder of its resumable upload: how a newer resume of it closes this one. */
  readonly #holder: UploadHolder = { evict: () => this.#evict() };
  readonly #events: SessionEvents;

  constructor(
    socket: WebSocket,
    request: IncomingMessage,
    options: ResolvedOptions,
    services: SessionServices,
    events: SessionEvents,
  ) {
    this.#socket = socket;
    this.#request = request;
    this.#options = options;
    this.#services = services;
    this.#events = events;
    this.#backpressure = new Backpressure(socket);
    this.#credit = new SessionCredit(services.credits);
    this.#authenticated = events.preAuthenticated === true;
    socket.on('message', (data: Buffer, isBinary: boolean) => this.#enqueue(data, isBinary));
    socket.on('close', () => this.#handleClose());
    // ws reports protocol violations (oversized frames, bad UTF-8) here and closes the socket itself.
    socket.on('error', () => undefined);
    this.#armIdleTimer();
    this.#services.records.sweep(Date.now());
  }

  #enqueue(data: Buffer, isBinary: boolean): void {
    this.#armIdleTimer();
    this.#backpressure.arrived(data.byteLength);
    this.#queue = this.#queue
      .then(() => (this.#machine.closed ? undefined : this.#handleMessage(data, isBinary)))
      .catch((error: unknown) => {
        const type = Refusal.typeForFailure(data, isBinary, this.#machine.upload !== undefined);
        return this.#refuse(Refusal.of(type, storageFailure(error)));
      })
      .finally(() => this.#backpressure.handled(data.byteLength));
  }

  async #handleMessage(data: Buffer, isBinary: boolean): Promise<void> {
    const { state } = this.#machine;
    if (state.name === 'ready' && state.emptyFrameDue) {
      this.#machine.to(READY);
      if (data.byteLength === 0) return this.#answer({ type: 'DATA', code: Status.ok, bytesRead: 0 });
    }
    const early = this.#early.active ? this.#early.take(isBinary, data, data.byteLength) : 'read';
    if (early !== 'read') return early === 'drop' ? undefined : this.#refuse(early);
    if (isBinary) return this.#handleBinary(data);
    const upload = this.#machine.upload;
    // A data frame may be megabytes: only its start is looked at to tell it from a command.
    if (upload && !looksLikeCommand(data.toString('utf8', 0, 16))) return this.#handleBase64(upload, data);
    const text = data.toString('utf8');
    const parsed = parseCommand(text, this.#options.maxCommandLength, this.#options.maxJsonDepth);
    if (!parsed.ok) {
      const type = Refusal.typeFor(text, upload !== undefined);
      return this.#refuse(new Refusal(type, parsed.error.status, parsed.error.message));
    }
    const command = parsed.value;
    if (command.command === 'ABOR') return this.#handleAbor(command);
    if (command.command === 'FIN') return this.#handleFin(command);
    if (command.command === 'SUM' || command.command === 'BLK') {
      const [received, maxChunk] = [upload?.received ?? 0, upload?.agreement.terms.maxChunk ?? 0];
      const refusal = integrity.takeBlockCommand(upload?.blocks ?? null, command, received, maxChunk);
      return refusal ? this.#refuse(refusal) : undefined;
    }
    if (upload) {
      const message = `${command.command} arrived in the middle of the data.`;
      return this.#refuse(new Refusal('DATA', Status.badRequest, message));
    }
    if (command.command === 'AUTH') return this.#handleAuth(command);
    await this.#handleStor(command);
    this.#early.storHandled(command, this.#machine.receivingFromZero);
  }

  async #handleAuth(auth: AuthCommand): Promise<void> {
    const { authenticate } = this.#options;
    // The 2012 client sends AUTH whenever its caller passes credentials: without a check configured, accept.
    if (!authenticate)
      return this.#answer({ type: 'AUTH', code: Status.ok, message: 'No authentication required' });
    const outcome = await decideAuth(auth, authenticate, this.#request, this.#events, this.#isClosed);
    if (outcome.kind === 'closed') return;
    if (outcome.kind === 'refused') return this.#refuse(outcome.refusal);
    this.#authenticated = true;
    this.#owner = outcome.owner;
    this.#events.authenticated?.(outcome.user);
    this.#answer({ type: 'AUTH', code: Status.ok, message: 'Authenticated' });
  }

  async #handleStor(stor: StorCommand): Promise<void> {
    if (this.#options.authenticate && !this.#authenticated) {
      const message = 'Authentication required: send AUTH first.';
      return this.#refuse(new Refusal('STOR', Status.unauthorized, message));
    }
    if (stor.size > this.#options.maxFileSize) {
      const message = `File too large: the limit is ${this.#options.maxFileSize} bytes.`;
      return this.#refuse(new Refusal('STOR', Status.tooLarge, message));
    }
    // v2 is offered inside STOR; without an offer the upload gets the v1 terms.
    let offer: StorOffer | null = null;
    if (stor.v !== undefined && stor.v >= PROTOCOL_V2 && stor.ext) {
      const read = readOffer(stor.ext);
      if (!read.ok) return this.#refuse(new Refusal('STOR', read.error.status, read.error.message));
      offer = read.value;
    }
    let partial: PartialUpload | undefined;
    if (offer?.resume) {
      const request = { id: offer.resume, size: stor.size, owner: this.#owner, closed: this.#isClosed };
      const found = await findResume(this.#services, request);
      if (found.kind === 'closed') return;
      if (found.kind === 'refused') return this.#refuse(found.refusal);
      if (found.kind === 'stored') return this.#answerStored(offer.resume, found.record, offer);
      partial = found.partial;
      this.#services.holders.claim(partial.id, this.#holder);
    }
    // Limits, the accept hook and the disk floor apply to a resumed upload as to a fresh one.
    const admitted = await admitStor(stor, offer, this.#options, this.#events);
    if (this.#machine.closed || !admitted.ok) {
      await partial?.release();
      if (this.#machine.closed || admitted.ok) return;
      return this.#refuse(admitted.refusal);
    }
    const { filename, folder, mime } = admitted;
    if (!partial) {
      const resumable = offer && this.#services.store.open;
      partial = await this.#services.store.create({
        filename,
        size: stor.size,
        ...(folder !== undefined ? { folder } : {}),
        ...(mime ? { type: mime } : {}),
        ...(resumable ? { resumable: { owner: this.#owner, ttl: this.#options.partialExpiry } } : {}),
        // Without an agreed checksum the store may skip its running hash.
        sha256: offer?.checksum.includes('sha256') ?? false,
      });
      if (this.#machine.closed) return offer ? partial.release() : partial.discard();
      if (offer) this.#services.holders.hold(partial, this.#holder);
    }
    const credit = this.#credit.start(offer?.credit === true);
    const policy = grantPolicy(
      this.#options,
      partial.expiresAt,
      integrity.canCheckBlocks(partial),
      credit,
      this.#services.store.minCredit,
    );
    const agreement = offer ? v2Agreement(offer, policy) : v1Agreement(stor.type);
    // Block integrity continues at the end of the verified blocks: anything held past them goes.
    const blocks = await integrity.openBlocks(partial, agreement.terms, stor.size);
    integrity.gateOnBlocks(partial, blocks);
    if (this.#machine.closed) return;
    this.#backpressure.agreeWindow(agreement.terms.window);
    this.#acks.agree(agreement.terms.coalesce);
    const upload: ReceivingUpload = {
      partial,
      agreement,
      size: stor.size,
      received: partial.offset,
      requestedName: stor.filename,
      parameters: stor.parameters,
      startedAt: Date.now(),
      blocks,
    };
    this.#machine.to({ name: 'receiving', upload });
    // Complete as soon as announced (an empty file, a resume that holds everything) unless FIN is agreed.
    if (upload.received === upload.size && !agreement.terms.fin) await this.#commit(upload);
    if (this.#machine.closed) return;
    if (upload.size === 0 && agreement.emptyFrameForEmptyFile) {
      this.#machine.to({ name: 'ready', emptyFrameDue: true });
    }
    this.#answer(agreement.accepted(partial.id, partial.offset));
    if (agreement.terms.alive !== null) startKeepAlive(this.#socket, agreement.terms.alive);
  }

  /** A resume of an upload that was committed: the client lost the FIN answer; let it send FIN again. */
  #answerStored(id: string, record: CompletedUpload, offer: StorOffer): void {
    this.#machine.to({ name: 'finished', id, record });
    this.#answer(storedAnswer(id, record, offer, grantPolicy(this.#options, record.expiresAt, true)));
    if (offer.alive === true) startKeepAlive(this.#socket, this.#options.aliveInterval);
  }

  async #handleFin(fin: FinCommand): Promise<void> {
    const { records } = this.#services;
    const side = { machine: this.#machine, records, partialExpiry: this.#options.partialExpiry };
    // A store that fails at the commit is refused as FIN, the command that failed; the partial is kept.
    const failed = (error: unknown) => Refusal.of('FIN', storageFailure(error));
    return this.#reply(await answerFin(fin, { ...side, commit: (u) => this.#commit(u) }).catch(failed));
  }

  async #handleAbor(abor: AborCommand): Promise<void> {
    const upload = this.#machine.upload;
    if (upload && (abor.id === undefined || abor.id === upload.partial.id)) {
      this.#machine.to(READY);
      this.#credit.end();
      this.#events.discarded?.(true);
      return this.#reply(await deleteForAbor(upload.partial));
    }
    if (upload) {
      const message = 'ABOR of another upload in the middle of the data.';
      return this.#refuse(new Refusal('ABOR', Status.badRequest, message));
    }
    const found = abor.id === undefined ? undefined : await this.#services.store.open?.(abor.id);
    if (this.#machine.closed) return;
    if (!found) return this.#answer({ type: 'ABOR', code: Status.notFound, message: 'Unknown upload id.' });
    if (found.owner !== null && found.owner !== this.#owner) {
      return this.#answer({ type: 'ABOR', code: Status.forbidden, message: 'Not your upload.' });
    }
    if (found.held) {
      return this.#answer({ type: 'ABOR', code: Status.conflict, message: 'In use by another connection.' });
    }
    return this.#reply(await deleteForAbor(found));
  }

  async #handleBinary(data: Buffer): Promise<void> {
    const upload = this.#machine.upload;
    if (!upload) return this.#refuse(new Refusal('DATA', Status.badRequest, 'Data arrived before STOR.'));
    if (upload.agreement.terms.encoding !== 'binary') {
      const message = 'Binary frame received, but STOR declared type "base64".';
      return this.#refuse(new Refusal('DATA', Status.badRequest, message));
    }
    // A frame of a block sent again after BLK: written in place; the block's verdict answers the last one.
    if (upload.blocks?.patching)
      return this.#reply(await integrity.patchFrame(upload.partial, upload.blocks, data));
    return this.#handleChunk(upload, data);
  }

  async #handleBase64(upload: ReceivingUpload, frame: Buffer): Promise<void> {
    if (upload.agreement.terms.encoding !== 'base64') {
      const message = 'Text frame received, but STOR declared type "binary".';
      return this.#refuse(new Refusal('DATA', Status.badRequest, message));
    }
    // Checked and decoded in slices, yielding between them (base64-frames.ts).
    const chunk = await decodeBase64Frame(frame);
    if (this.#machine.closed) return;
    if (!chunk) {
      return this.#refuse(new Refusal('DATA', Status.badRequest, 'The data frame is not valid base64.'));
    }
    return this.#handleChunk(upload, chunk);
  }

  async #handleChunk(upload: ReceivingUpload, chunk: Buffer): Promise<void> {
    const { terms } = upload.agreement;
    if (chunk.byteLength === 0)
      return this.#refuse(new Refusal('DATA', Status.badRequest, 'Empty data frame.'));
    // v1 sets no chunk limit (Infinity): ws's maxPayload bounds its frames.
    if (chunk.byteLength > terms.maxChunk) {
      const message = `Chunk larger than maxChunk (${terms.maxChunk}).`;
      return this.#refuse(new Refusal('DATA', Status.tooLarge, message));
    }
    if (upload.received + chunk.byteLength > upload.size) {
      const message = `More bytes than declared: STOR said ${upload.size}, received ${upload.received + chunk.byteLength}.`;
      return this.#refuse(new Refusal('DATA', Status.tooLarge, message));
    }
    await upload.partial.write(chunk);
    const verdicts = upload.blocks?.appended(chunk, upload.received) ?? [];
    upload.received += chunk.byteLength;
    const checkpoint = upload.blocks && (await integrity.checkpointVerified(upload.partial, upload.blocks));
    // With FIN agreed the commit waits for FIN and its checksum; otherwise the last chunk completes the file.
    if (upload.received === upload.size && !terms.fin) await this.#commit(upload);
    if (this.#machine.closed) return;
    // When the budget's share moved (uploads started or ended), the client learns it with this ack.
    const ack = { ...upload.agreement.ack(chunk.byteLength, upload.received), ...this.#credit.ackField() };
    // A store that fills parts in memory says when the bytes are durable: the ack waits for that.
    const reply = integrity.ackWithVerdicts(ack, verdicts);
    if (reply instanceof Refusal) return this.#refuse(reply);
    const after = afterBoth(checkpoint ?? undefined, upload.partial.durable?.(upload.received));
    this.#acks.acknowledge(reply, upload.received === upload.size, after);
  }

  /** Sends what a check decided: an answer (after `after`), a refusal, or nothing (null, or closed). */
  #reply(reply: Answer | Refusal | null, after?: Promise<void>): Promise<void> | void {
    if (!reply || this.#machine.closed) return;
    return reply instanceof Refusal ? this.#refuse(reply) : this.#answer(reply, after);
  }

  async #commit(upload: ReceivingUpload): Promise<string> {
    // Closed meanwhile (idle timeout, a failure): the upload was let go of and must not be committed now.
    if (this.#machine.upload !== upload) throw new Error('The connection closed before the commit.');
    const filename = await upload.partial.commit();
    this.#credit.end();
    if (!this.#machine.closed) this.#machine.to(READY);
    this.#events.stored({
      filename,
      requestedName: upload.requestedName,
      size: upload.size,
      parameters: upload.parameters,
      duration: Date.now() - upload.startedAt,
    });
    return filename;
  }

  #answer(answer: Answer, after?: Promise<void>): void {
    this.#acks.flush(); // answers stay in order: an ack held back goes first (it comes back here)
    // After the socket closed queued work still runs (a written chunk stays written); nothing is sent.
    const send = () => {
      if (!this.#machine.closed && this.#socket.readyState === this.#socket.OPEN) {
        this.#socket.send(formatAnswer(answer));
      }
    };
    const failed = (error: unknown) => void this.#refuse(Refusal.of('DATA', storageFailure(error)));
    this.#replies.send(send, after, failed);
  }

  /**
   * Sends a refusal. One that closes the connection also reports the failure and lets go of the partial
   * upload: kept for a resume when the terms say it is resumable (a 500 or a bad frame does not make the
   * bytes already stored wrong), unless the refusal says to discard it.
   */
  async #refuse(refusal: Refusal): Promise<void> {
    if (this.#machine.closed) return;
    if (refusal.closeCode === null) return this.#answer(refusal.answer());
    // One that closes goes at once: acks still waiting for their bytes are never sent (a resume says where).
    this.#acks.drop();
    this.#replies.drop();
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.send(formatAnswer(refusal.answer()));
    const filename = this.#machine.upload?.partial.filename;
    this.#events.failed({ code: refusal.code, message: refusal.message, ...(filename ? { filename } : {}) });
    if (refusal.discard) this.#events.discarded?.(false);
    this.#socket.close(refusal.closeCode, refusal.closeReason);
    await this.#close(refusal.discard);
  }

  #handleClose(): void {
    // Not resumable (v1, or nothing started): drop at once, as v1 always did; a shutdown waits for that.
    if (!this.#machine.upload?.agreement.terms.resumable) {
      void this.#close();
      return;
    }
    // Resumable: after the messages that arrived before the close, so that an ABOR sent just before closing
    // still deletes and chunks already received are still written for the resume.
    this.#queue = this.#queue.then(() => this.#close()).catch(() => undefined);
  }

  /** Ends the session: a resumable upload is kept for a resume, any other one dropped. */
  async #close(discard = false): Promise<void> {
    if (this.#machine.closed) return;
    const upload = this.#machine.upload;
    this.#machine.to(CLOSED);
    this.#acks.drop();
    this.#credit.end();
    this.#services.holders.release(this.#holder);
    clearTimeout(this.#idleTimer);
    if (!upload) return;
    if (upload.blocks) upload.partial.verifiedOffset = upload.blocks.verifiedOffset;
    // A store that cannot let go (its delete or record fails) must not end the process: what it left is
    // in .partial, where the sweep or a resume finds it.
    const keep = upload.agreement.terms.resumable && !discard;
    await (keep ? upload.partial.release() : upload.partial.discard()).catch(() => undefined);
  }

  /**
   * A newer connection took the upload over: answer nothing more, let go of the upload once the messages
   * already received are written, and close (destroying the socket soon: the peer is often dead).
   */
  #evict(): void {
    if (this.#machine.closed) return;
    this.#socket.close(CloseCode.policy, 'Taken over by a newer connection');
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
      if (this.#machine.closed) return;
      this.#socket.close(CloseCode.goingAway, 'Idle timeout');
      void this.#close();
    }, this.#options.idleTimeout);
    this.#idleTimer.unref();
  }
}

// How long a connection taken over gets to receive its close frame before its socket is destroyed.
const EVICT_GRACE = 200;
