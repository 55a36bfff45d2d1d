/**
 * Early data, the client's side (docs/protocol.md §3.9): on a socket whose previous upload the server
 * granted `early`, a fresh upload sends its first bytes right after its STOR, before the answer — under the
 * terms of that previous upload, announcing how many in the STOR's `ext.early` — and, when they are the whole
 * file, its FIN too. A small file on a shared socket so waits for no round trip of its own, and a large one
 * saves the STOR's. Only then: a fresh socket, a v1 server or a server that did not grant it never see a byte
 * before they answered (the 2012 servers must never see unexpected data), and neither does a resume (its
 * offset is the server's to say). The STOR answer confirms the terms; another offset, or other terms, and the
 * server dropped those bytes: the upload starts over on a fresh socket from what the server holds.
 */
import type { StorAnswerV2, Terms } from '../protocol/index.ts';
import type { Agreement } from './agreement.ts';
import type { ChunkPump } from './chunk-pump.ts';
import type { Failure } from './conversation.ts';
import { creditStart, INITIAL_CREDIT } from './credit.ts';

/** What a transfer reports when a server answered early data with neither offset 0 nor a resumable id. */
export const EARLY_NOT_TAKEN: Failure = {
  code: 'badAnswer',
  message: 'The server did not take the early data, and the upload cannot resume.',
  init: {},
};

/** What a STOR sends before its answer. */
export interface EarlyPlan {
  /** The previous upload's terms on this socket: the ones the early bytes are sent under. */
  readonly terms: Terms;
  readonly chunkSize: number;
  /** Bytes sent before the answer: whole chunks, or the whole file. */
  readonly bytes: number;
}

/**
 * How much of a fresh upload to send before its STOR answer, or null for nothing.
 *
 * @param known - the terms of the previous upload on this socket (null: a fresh socket, or no `early`)
 * @param size - the file's size
 * @param chunkSize - the chunk size the client would use
 * @param fresh - no resume is offered and no upload id is known (the server starts at offset 0)
 * @returns the plan, or null
 */
export function planEarly(
  known: Terms | null,
  size: number,
  chunkSize: number,
  fresh: boolean,
): EarlyPlan | null {
  if (!known?.early || !fresh || known.encoding !== 'binary' || size === 0) return null;
  const chunk = Math.min(chunkSize, known.maxChunk);
  // What may be unacknowledged before anything is measured: the credit the server last granted, at most the
  // initial credit; whole chunks of it (at least one), so the send window stops exactly there.
  const allowance = Math.min(known.credit ?? known.window * chunk, INITIAL_CREDIT);
  const bytes = Math.min(size, Math.max(chunk, Math.floor(allowance / chunk) * chunk));
  return { terms: known, chunkSize: chunk, bytes };
}

/**
 * Starts the early data: the agreement takes the socket's terms (no id yet), the sender restarts at 0 under a
 * credit of exactly the announced bytes, so nothing more goes before the answer grants its own.
 *
 * @param plan - from {@link planEarly}
 * @param agreement - the upload's agreement
 * @param sender - the upload's sender
 * @param windowGiven - whether the caller set `window` (where the credit starts, see credit.ts)
 */
export function sendEarly(
  plan: EarlyPlan,
  agreement: Agreement,
  sender: ChunkPump,
  windowGiven: boolean,
): void {
  agreement.acceptEarly(plan);
  const { window, encoding } = plan.terms;
  const start = creditStart(window * plan.chunkSize, windowGiven);
  sender.restart(0, window, plan.chunkSize, encoding, plan.bytes, agreement.integrity.reads, start);
}

/**
 * Takes the STOR answer to early data into the agreement (its id and terms, when v2); when it took the early
 * bytes, the sender's credit becomes the granted one and the resume record is written.
 *
 * @param plan - what was sent before the answer
 * @param stored - the v2 STOR answer, or null for a v1 answer
 * @param agreement - the upload's agreement
 * @param sender - the upload's sender
 * @returns the terms when the answer took the early bytes, else null (the server dropped them)
 */
export function answerEarly(
  plan: EarlyPlan,
  stored: StorAnswerV2 | null,
  agreement: Agreement,
  sender: ChunkPump,
): Terms | null {
  const terms = stored ? agreement.accept(stored) : null;
  agreement.endEarly();
  if (!terms || !earlyTaken(plan, stored, terms)) return null;
  if (terms.credit !== null) sender.window.grant(terms.credit);
  agreement.save(0);
  return terms;
}

/**
 * Whether the STOR answer took the early bytes: offset 0, and terms the bytes were sent under (the same
 * encoding, integrity and block, chunks within `maxChunk`).
 *
 * @param plan - what was sent before the answer
 * @param stored - the v2 STOR answer, or null for a v1 answer
 * @param terms - the terms the answer grants
 */
export function earlyTaken(plan: EarlyPlan, stored: StorAnswerV2 | null, terms: Terms | null): boolean {
  if (stored === null || terms === null || stored.offset !== 0) return false;
  const sent = plan.terms;
  return (
    terms.encoding === sent.encoding &&
    terms.integrity === sent.integrity &&
    terms.block === sent.block &&
    terms.maxChunk >= plan.chunkSize
  );
}
