/**
 * Acks that cover several chunks (`coalesce`, docs/protocol.md §3.10): once a client agreed, the DATA ack of
 * a written chunk is held back and merged with the next ones, and goes when the bytes it covers reach the
 * agreed size, when another answer is about to be sent (answers stay in order), or {@link ACK_DELAY} ms
 * after the first chunk it covers, whichever comes first. An ack that carries more than the offset (blocks to send again, a new credit)
 * and the last chunk's ack are never held: the session sends them at once, after what is held.
 *
 * Measured (issue 11): one ack per chunk was one text message per MiB through the server's socket, the
 * browser's network service and the page, each waking the page's send loop for one more chunk.
 */
import type { Answer } from '../protocol/index.ts';

/**
 * The longest an ack is held (ms): a slow link gets at most this many ms between acks, and a sender that
 * stopped (it waits for acks) waits at most this long. One that sends keeps at least twice the agreed bytes
 * in flight (the grant is at most half of its credit or window), so a fast link reaches the size first.
 */
export const ACK_DELAY = 20;

/** The most bytes the server lets one ack cover (a client offers less: one block, 4 MiB). */
export const MAX_COALESCE = 16 * 1024 * 1024;

/** The fields of a plain DATA ack, the only kind that is held. */
const PLAIN_ACK_FIELDS = new Set(['type', 'code', 'bytesRead', 'offset']);

/**
 * What an ack waits for when it waits for two things (its bytes durable, a checkpoint), or for one, or none.
 * The result is marked handled: a rejection reaches whoever awaits it (the ordered replies, which refuse with
 * 500), not the process's unhandled-rejection handler while earlier answers are still queued.
 *
 * @param first - one wait, or undefined
 * @param second - another, or undefined
 * @returns a promise of both, or the one given, or undefined
 */
export function afterBoth(
  first: Promise<void> | undefined,
  second: Promise<void> | undefined,
): Promise<void> | undefined {
  const both = first && second ? Promise.all([first, second]).then(() => undefined) : (first ?? second);
  both?.catch(() => undefined);
  return both;
}

/** How a held ack is sent: in order with the session's other answers, once `after` settles. */
export type AckSend = (ack: Answer, after?: Promise<void>) => void;

/** One connection's held ack. */
export class AckCoalescer {
  readonly #send: AckSend;
  /** Bytes one ack may cover for the upload being received; 0: every ack goes at once. */
  #limit = 0;
  #held: { ack: Answer; after: Promise<void> | undefined } | null = null;
  #timer: NodeJS.Timeout | undefined;

  /** @param send - sends an ack (the session's ordered answer) */
  constructor(send: AckSend) {
    this.#send = send;
  }

  /**
   * A new upload's terms: acks are merged up to `bytes` (what is held of an earlier upload goes first).
   *
   * @param bytes - the agreed `coalesce`, 0 when not agreed
   */
  agree(bytes: number): void {
    this.flush();
    this.#limit = bytes;
  }

  /**
   * Takes the ack of a written chunk: held (merged with the ones held), or sent when it must go now.
   *
   * @param ack - the chunk's DATA ack
   * @param last - whether the chunk was the file's last (its ack is never held)
   * @param after - what the ack waits for before it is sent (durable bytes), if anything
   */
  acknowledge(ack: Answer, last: boolean, after?: Promise<void>): void {
    const plain = Object.keys(ack).every((field) => PLAIN_ACK_FIELDS.has(field));
    if (this.#limit === 0 || last || !plain) {
      this.flush();
      this.#send(ack, after);
      return;
    }
    const held = this.#held;
    const bytesRead = (held ? (held.ack.bytesRead ?? 0) : 0) + (ack.bytesRead ?? 0);
    // The latest offset covers the chunks before it; the ack waits for what each of them waits for.
    this.#held = { ack: { ...ack, bytesRead }, after: afterBoth(held?.after, after) };
    if (bytesRead >= this.#limit) return this.flush();
    this.#armTimer();
  }

  /** Sends what is held, if anything: before any other answer, and when the idle delay ran out. */
  flush(): void {
    const held = this.#held;
    if (!held) return;
    this.#held = null;
    this.#clearTimer();
    this.#send(held.ack, held.after);
  }

  /** Forgets what is held (the connection closed, or a refusal ends it: a resume says where it stands). */
  drop(): void {
    this.#held = null;
    this.#clearTimer();
  }

  #clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #armTimer(): void {
    // From the first chunk held: no ack waits longer than ACK_DELAY, however slowly chunks come.
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, ACK_DELAY);
    this.#timer.unref();
  }
}
