/**
 * The data phase of a transfer: from the STOR answer to the FIN answer. It sends chunks while the window
 * allows, reads the DATA acks, sends damaged blocks again (block-resends.ts), decides what comes next once
 * the server holds a given number of bytes (more chunks, FIN, early FIN under `reuse`, or success) and
 * which answer is due. The transfer keeps the state field, the socket and the outcome events: it gives a
 * host that changes its state, sends, arms the answer deadline and reports.
 */
import { formatFin, readCredit, type Answer, type AnswerType } from '../protocol/index.ts';
import type { Agreement } from './agreement.ts';
import { BlockResends } from './block-resends.ts';
import type { ChunkPump } from './chunk-pump.ts';
import { ackFailure, storedFile, type Failure } from './conversation.ts';
import type { OutgoingFrame } from './connection.ts';
import type { Chunk } from './file-source.ts';
import type { TransferState } from './transfer-state.ts';

/** What the data phase needs of the transfer. */
export interface DataPhaseHost {
  /** Terms, upload id, integrity and resume record. */
  readonly agreement: Agreement;
  /** The file, read-ahead, send window and send loop. */
  readonly sender: ChunkPump;
  state(): TransferState;
  setState(next: TransferState): void;
  /** @returns a check that stays true while the connection of now is the current one and the upload runs */
  current(): () => boolean;
  /** @returns false when sending failed (the transfer reported it) */
  send(frame: OutgoingFrame): boolean;
  /** Arms the answer deadline for an answer of this type (within `answerTimeout`). */
  expect(type: AnswerType): void;
  fail(failure: Failure): void;
  /** The file could not be read: the upload fails. */
  readFailed(cause: unknown): void;
  /** The server holds more than before: the retry count starts over. */
  progressed(): void;
  /** Fires `progress`. */
  progress(): void;
  /** FIN went out under `reuse`: the next upload's STOR may follow on this socket. */
  handOver(): void;
  /** The whole file is stored; `stored` is what the FIN answer named, if anything. */
  succeed(stored: { id: string; filename: string } | null): void;
}

/** Chunks, acks, blocks sent again and FIN, for one transfer. */
export class DataPhase {
  readonly #host: DataPhaseHost;
  readonly #resends: BlockResends;

  /** @param host - the transfer's side */
  constructor(host: DataPhaseHost) {
    this.#host = host;
    this.#resends = new BlockResends({
      integrity: () => host.agreement.integrity,
      chunkSize: () => host.sender.source.chunkSize,
      current: () => host.current(),
      send: (frame) => host.send(frame),
      readFailed: (cause) => host.readFailed(cause),
      sent: () => this.#expectAcks(),
    });
  }

  /** What comes next once the server holds `loaded` bytes: more chunks, FIN (when agreed), or success. */
  continue(loaded: number): void {
    const host = this.#host;
    if (loaded < host.sender.source.size) {
      if (host.state() !== 'sending') host.setState('sending');
      void this.#pump();
    } else if (host.agreement.terms.fin) {
      // FIN only once every damaged block sent again is verified; the BLK answer continues.
      if (!host.agreement.integrity.unsettled) void this.#sendFin();
    } else host.succeed(null);
  }

  /** A DATA ack: the window moves, credit is granted, named blocks are sent again, then what comes next. */
  acknowledged(answer: Answer): void {
    const { agreement, sender } = this.#host;
    const ack = sender.window.acknowledge(answer.offset);
    if (!ack.ok) return this.#host.fail(ackFailure(answer, ack.expected));
    const credit = readCredit(answer.credit);
    if (credit !== null) sender.window.grant(credit);
    const loaded = sender.window.loaded;
    if (agreement.acknowledged(loaded)) this.#host.progressed();
    if (Array.isArray(answer.resend)) void this.#resends.resend(answer.resend as number[]);
    // With a window above one, later chunks are still on the wire: their answers are due, on a fresh timer.
    this.#expectAcks();
    this.#host.progress();
    if (this.#host.state() === 'sending') this.continue(loaded); // else a `progress` listener aborted
  }

  /** The STOR answer took the early data: its acks (or FIN's answer) are due, and sending goes on. */
  granted(): void {
    this.#expectAcks();
    if (this.#host.state() === 'sending') void this.#pump();
  }

  /** A BLK answer: a block sent again is verified (or sent once more); once none is due, what comes next. */
  blockAnswered(answer: Answer): void {
    this.#expectAcks();
    if (this.#resends.answered(answer) && this.#host.state() === 'sending')
      this.continue(this.#host.sender.window.loaded);
  }

  /** The FIN answer: the upload is committed, its resume record is of no more use. */
  finAnswered(answer: Answer): void {
    this.#host.agreement.forgetRecord();
    this.#host.succeed(storedFile(answer));
  }

  async #sendFin(): Promise<void> {
    const host = this.#host;
    host.setState('finishing');
    const current = host.current();
    const checksum = await host.agreement.integrity.checksum().catch(() => undefined);
    if (!current()) return;
    if (!host.send(formatFin({ size: host.sender.source.size, ...(checksum ? { checksum } : {}) }))) return;
    host.expect(host.sender.window.inFlight > 0 ? 'DATA' : 'FIN');
    // With reuse agreed, the next upload's STOR may follow on this socket while the FIN answer is due.
    if (host.agreement.terms.reuse) host.handOver();
  }

  /** Arms the answer deadline for what is still due: DATA acks, else a BLK answer. */
  #expectAcks(): void {
    const host = this.#host;
    if (host.sender.window.inFlight > 0) host.expect('DATA');
    else if (host.agreement.integrity.unsettled) host.expect('BLK');
    // FIN went out before the last acks (under `reuse`): its answer is next.
    else if (host.state() === 'finishing') host.expect('FIN');
  }

  /** Sends chunks until the window is full or the file is sent; acks call it again. */
  async #pump(): Promise<void> {
    const host = this.#host;
    const { agreement, sender } = host;
    const current = host.current();
    const sink = {
      sending: () => current() && host.state() === 'sending',
      // Block integrity: the block's SUM goes before its first chunk (hashed ahead, see block-hasher.ts).
      before: (chunk: Chunk) => agreement.integrity.before(chunk),
      send: (chunk: Chunk, before: string[] | null) => {
        if (before?.some((frame) => !host.send(frame)) || !host.send(chunk.payload)) return false;
        host.expect('DATA');
        return true;
      },
    };
    await sender.run(sink).catch((cause: unknown) => host.readFailed(cause));
    // Under `reuse` or `early` the server handles frames in order: FIN may follow the last chunk before its
    // ack (and the next upload's STOR that FIN), so the FIN answer comes half a round trip after the last
    // byte arrived. Not while a block's verdict is due: a damaged block must be sent again before FIN. Under
    // `early` alone (one upload per socket) only without block checks: a verdict in a later ack may still
    // name a damaged block, which must be sent again before FIN.
    const { reuse, early: inOrderOnly, integrity } = agreement.terms;
    const inOrder = reuse || (inOrderOnly && integrity !== 'sha256-blocks');
    const early = inOrder && sender.allSent && !agreement.integrity.unsettled;
    if (current() && host.state() === 'sending' && early) void this.#sendFin();
  }
}
