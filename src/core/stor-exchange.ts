/**
 * The STOR exchange of a transfer: sending STOR (a resume offered, or early data behind it on a socket that
 * granted `early`, see early-data.ts) and reading its answer, up to where the data phase (data-phase.ts)
 * takes over. It turns a v2 grant into the agreement, the sender's window and credit and the resume record;
 * starts the keep-alive watch and the socket's reuse that every agreed v2 upload turns on; warns once when
 * block integrity was asked for and none was agreed; and starts over once when the server forgot a resume.
 * The transfer keeps the state field, the socket, the timers and the outcome events: it gives a host.
 */
import { Status, type Answer, type StorAnswerV2, type Terms } from '../protocol/index.ts';
import type { Agreement } from './agreement.ts';
import type { ChunkPump } from './chunk-pump.ts';
import type { OutgoingFrame } from './connection.ts';
import { readStorAnswer, silenceFailure, storFrame, type Failure } from './conversation.ts';
import { creditStart } from './credit.ts';
import { answerEarly, EARLY_NOT_TAKEN, planEarly, sendEarly, type EarlyPlan } from './early-data.ts';
import type { WarningDetail } from './events.ts';
import type { ResolvedOptions } from './options.ts';
import type { RetryCause, RetryRefusal } from './retry.ts';
import type { TransferState } from './transfer-state.ts';

/** What the STOR exchange needs of the transfer. */
export interface StorExchangeHost {
  /** The checked options: the STOR frame's fields, `offerV2`, `v2ChunkSize`, `windowGiven`. */
  readonly options: ResolvedOptions;
  /** Terms, upload id, integrity and resume record. */
  readonly agreement: Agreement;
  /** The file, read-ahead, send window and send loop. */
  readonly sender: ChunkPump;
  state(): TransferState;
  setState(next: TransferState): void;
  /**
   * The terms early data goes under: those the previous upload on this socket was granted, else, on a fresh
   * socket, those the page remembers the server granted with `early` (early-memory.ts), else null.
   */
  knownTerms(): Terms | null;
  /** The server answered a STOR with these terms: the page's memory of its `early` grant follows them. */
  rememberTerms(terms: Terms | null): void;
  /**
   * Starts over on a fresh socket, at once and without counting a retry (early data the page's memory sent
   * was not taken: the next STOR sends none); false when the upload already did too often.
   */
  startOver(): boolean;
  /** @returns false when sending failed (the transfer reported it) */
  send(frame: OutgoingFrame): boolean;
  /** Arms the answer deadline for the STOR answer (within `answerTimeout`). */
  expectAnswer(): void;
  fail(failure: Failure): void;
  /** Asks the retry decision; on true the transfer dropped the connection and reconnects. */
  retry(cause: RetryCause, refusal?: RetryRefusal): boolean;
  /** The server holds more than before: the retry count starts over. */
  progressed(): void;
  /** Watches the connection's silence under the granted keep-alive period (null: nothing granted). */
  watchSilence(alive: number | null, silent: (bound: number) => void): void;
  /** The server granted `reuse`: the socket may carry the next upload. */
  grantReuse(terms: Terms): void;
  /** Fires `warning`. */
  warn(warning: Omit<WarningDetail, 'file'>): void;
  /** The data phase goes on from `loaded` bytes the server holds (DataPhase.continue). */
  continueData(loaded: number): void;
  /** The STOR answer took the early data: its acks are due and sending goes on (DataPhase.granted). */
  earlyTaken(): void;
}

/** STOR and its answer, for one transfer: sent again on each connection. */
export class StorExchange {
  readonly #host: StorExchangeHost;

  /** @param host - the transfer's side */
  constructor(host: StorExchangeHost) {
    this.#host = host;
  }

  /** Sends STOR (with early data when the socket allows it) and arms the deadline for its answer. */
  send(): void {
    const host = this.#host;
    const { agreement, options, sender } = host;
    if (host.state() !== 'storing') host.setState('storing');
    const resume = options.offerV2 ? agreement.offerResume() : null;
    const fresh = resume === null && agreement.uploadId === null;
    const known = options.offerV2 ? host.knownTerms() : null;
    const early = planEarly(known, sender.source.size, options.v2ChunkSize, fresh);
    agreement.endEarly();
    if (!host.send(storFrame(options, resume, agreement.offersIntegrity, early?.bytes))) return;
    host.expectAnswer();
    if (early) {
      sendEarly(early, agreement, sender, options.windowGiven);
      return host.continueData(0);
    }
    // Read the first chunk while the server prepares: a v1 answer sends it, a v2 answer cuts its own chunks
    // from the block it loaded (see FileSource.withChunks).
    if (fresh) sender.readFirst();
  }

  /** A STOR answer of 2xx: v1 (send from 0), v2 (from the server's offset), or the answer to early data. */
  answered(answer: Answer): void {
    const { agreement, sender } = this.#host;
    const grant = readStorAnswer(answer, agreement.uploadId !== null, sender.source.size);
    if ('code' in grant) return this.#host.fail(grant);
    const early = agreement.early;
    if (early) return this.#earlyAnswered(early, grant.stored);
    if (grant.stored) return this.#storedV2(grant.stored);
    this.#host.rememberTerms(null);
    agreement.declineResume();
    this.#warnUnverified();
    // The server commits an empty file on STOR: nothing to send, and a 2012 client sent nothing either.
    this.#host.continueData(0);
  }

  /**
   * A refused STOR: when it was a resume the server does not know (404), forgets it and sends STOR afresh,
   * once, on the same connection.
   *
   * @returns true when the upload goes on, false when the refusal is for the transfer to handle
   */
  refused(answer: Answer): boolean {
    const { agreement } = this.#host;
    if (answer.code !== Status.notFound || agreement.offeredResume === null) return false;
    agreement.startOver();
    this.send();
    return true;
  }

  /** The STOR answer to early data: taken (go on under its credit), or dropped (start over, fresh socket). */
  #earlyAnswered(plan: EarlyPlan, stored: StorAnswerV2 | null): void {
    const host = this.#host;
    const terms = answerEarly(plan, stored, host.agreement, host.sender);
    // Not taken: the server dropped the early bytes (§3.9); resume on a fresh socket from what it holds,
    // and send no early data there (the page forgets the grant it remembered for this server).
    if (!terms) {
      host.rememberTerms(null);
      // A v1 answer (a 2012 server where the page remembered a v2 one): the fresh socket speaks 2012 again.
      if (!stored) {
        host.agreement.startOver();
        host.sender.restartV1(host.options.chunkSize, host.options.type);
      }
      if (!host.startOver() && !host.retry('refused', { status: Status.conflict }))
        host.fail(EARLY_NOT_TAKEN);
      return;
    }
    this.#termsAgreed(terms);
    // The window the early data went under: from now on one ack may cover several of its chunks.
    host.sender.window.coalesce(terms.coalesce);
    // And the server's hold, which the sender started without (a caller's `window` is the caller's).
    host.sender.window.hold(host.options.windowGiven ? 0 : terms.hold);
    host.earlyTaken();
  }

  /** What every agreed v2 upload turns on: the keep-alive watch and, when granted, the socket's reuse. */
  #termsAgreed(terms: Terms): void {
    const host = this.#host;
    // Dead without a close (black-holed): silence past the keep-alive's bound is a drop, resumed as one.
    host.watchSilence(terms.alive, (bound) => {
      if (!host.retry('timeout')) host.fail(silenceFailure(bound));
    });
    if (terms.reuse) host.grantReuse(terms);
    host.rememberTerms(terms);
  }

  /** A v2 grant: the sender restarts at the server's offset under the granted terms. */
  #storedV2(stored: StorAnswerV2): void {
    const { agreement, options, sender } = this.#host;
    const terms = agreement.accept(stored);
    this.#termsAgreed(terms);
    this.#warnUnverified();
    // The server's offset is the truth, whatever this side believes it sent.
    if (stored.offset > sender.window.loaded) this.#host.progressed();
    const chunkSize = Math.min(options.v2ChunkSize, terms.maxChunk);
    const { reads } = agreement.integrity;
    const start = creditStart(terms.window * chunkSize, options.windowGiven);
    // The server's hold raises the sender's own bound, not a window its caller set (that one is the caller's).
    const floor = options.windowGiven ? 0 : terms.hold;
    sender.restart(stored.offset, terms.window, chunkSize, terms.encoding, terms.credit, reads, start, floor);
    // After the restart, which resets the window to one ack per chunk.
    sender.window.coalesce(terms.coalesce);
    agreement.save(stored.offset);
    this.#host.continueData(stored.offset);
  }

  /** `checksum` asked for block integrity, and none was agreed (not granted, or no WebCrypto): said once. */
  #warnUnverified(): void {
    const warning = this.#host.agreement.unverifiedWarning();
    if (warning) this.#host.warn(warning);
  }
}
