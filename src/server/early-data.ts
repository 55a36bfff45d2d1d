/**
 * Early data that the server does not take (docs/protocol.md §3.9). A client that knows the server takes
 * early data may send the first bytes of a fresh upload right after its STOR, before the answer, announcing
 * how many in the STOR's `ext.early`; when they are the whole file, its FIN follows them. The server reads
 * frames in order, so when it answers that STOR with 200 and offset 0 the early bytes are simply the upload's
 * first chunks. In every other case — a refusal that keeps the connection open, or an answer with another
 * offset (a resume) — those frames are not this upload's data at offset 0, and the session drops exactly
 * them: the announced bytes of binary frames, the SUM commands among them, and the FIN after them when they
 * were the whole file. The first frame that is not early data (any other command) ends the dropping: a client
 * that heard the refusal stops its early data and goes on with its next command.
 */
import { PROTOCOL_V2, Status, type StorCommand } from '../protocol/index.ts';
import { Refusal } from './refusal.ts';

/** What the session does with a frame: drop it (early data not taken), or read it as usual. */
export type EarlyVerdict = 'drop' | 'read' | Refusal;

/** The early data of the last STOR, while some of it is still to be dropped. */
export class EarlyDataDiscard {
  /** Bytes of binary frames still to drop. */
  #bytes = 0;
  /** The FIN that follows them is to be dropped too (they were the whole file). */
  #fin = false;

  /** Whether frames are being dropped now. */
  get active(): boolean {
    return this.#bytes > 0 || this.#fin;
  }

  /**
   * A STOR was handled: unless it was accepted at offset 0, its early data is to be dropped.
   *
   * @param stor - the STOR command
   * @param acceptedAtZero - whether it was answered 200 with offset 0 (the early bytes are its first chunks)
   */
  storHandled(stor: StorCommand, acceptedAtZero: boolean): void {
    const early = stor.v !== undefined && stor.v >= PROTOCOL_V2 ? stor.ext?.early : undefined;
    const bytes = typeof early === 'number' && Number.isSafeInteger(early) && early > 0 ? early : 0;
    this.#bytes = acceptedAtZero ? 0 : Math.min(bytes, stor.size);
    this.#fin = this.#bytes > 0 && this.#bytes === stor.size;
  }

  /**
   * Looks at a frame before the session reads it.
   *
   * @param isBinary - whether it is a binary frame
   * @param data - the frame (only the first bytes of a text frame are read: which command it is)
   * @param length - its length in bytes
   * @returns 'drop' for early data not taken, 'read' for anything else, or a refusal when a binary frame
   *   runs past the bytes the STOR announced
   */
  take(isBinary: boolean, data: Buffer, length: number): EarlyVerdict {
    if (!this.active) return 'read';
    const head = isBinary ? '' : data.toString('utf8', 0, 16);
    if (isBinary && this.#bytes > 0) {
      if (length > this.#bytes) {
        this.#bytes = 0;
        this.#fin = false;
        const message = 'Early data ran past the bytes the STOR announced in "early".';
        return new Refusal('DATA', Status.badRequest, message);
      }
      this.#bytes -= length;
      return 'drop';
    }
    const command = /^\s*([A-Za-z]+)/.exec(head)?.[1]?.toUpperCase();
    if (!isBinary && command === 'SUM' && this.#bytes > 0) return 'drop';
    if (!isBinary && command === 'FIN' && this.#bytes === 0 && this.#fin) {
      this.#fin = false;
      return 'drop';
    }
    // Anything else: the client stopped its early data (it heard the answer); read it as usual.
    this.#bytes = 0;
    this.#fin = false;
    return 'read';
  }
}
