/**
 * The send window (flow control): which chunks are on the wire and not yet acknowledged, how many may be, and
 * the byte counts that follow from it (`sent`, `loaded`). It only counts; the transfer reads the file and
 * talks to the socket. v1 is a window of one (stop-and-wait); a v2 grant sets a larger one, counted in chunks,
 * or a byte credit (credit.ts), counted in bytes. When `coalesce` was agreed, one ack may count several chunks.
 */
import type { ByteCredit } from './credit.ts';

/** Counts chunks in flight against the agreed window. */
export class SendWindow {
  #limit = 1;
  /** Whether acks carry the server's offset, which must then match (v2). */
  #checkOffsets = false;
  /** Bytes one ack may cover (`coalesce` agreed; 0: one ack per chunk): its offset then says how many. */
  #coalesce = 0;
  /** Bytes the server may hold acks back for (`hold`, set after an early-data answer; 0: none). */
  #hold = 0;
  /** Lengths of the chunks sent and not yet acknowledged, oldest first: an ack counts the oldest one. */
  #inFlight: number[] = [];
  #inFlightBytes = 0;
  #sent = 0;
  #loaded = 0;
  /** The byte allowance when a credit was granted; null: the chunk limit applies. */
  #credit: ByteCredit | null = null;

  /** Chunks allowed in flight. */
  get limit(): number {
    return this.#limit;
  }

  /** Chunks sent and not yet acknowledged. */
  get inFlight(): number {
    return this.#inFlight.length;
  }

  /** Bytes sent and not yet acknowledged. */
  get inFlightBytes(): number {
    return this.#inFlightBytes;
  }

  /** The byte credit in force, or null when the window counts chunks. */
  get credit(): ByteCredit | null {
    return this.#credit;
  }

  /** Whether another chunk may be sent now (by the chunk limit; see {@link fits} under a credit). */
  get open(): boolean {
    return this.#inFlight.length < this.#limit;
  }

  /**
   * Whether a chunk of `length` bytes may be sent now. Under a credit one chunk may always go when nothing is
   * in flight, so a credit smaller than a chunk slows the upload down but never stalls it.
   *
   * @param length - the next chunk's length
   */
  fits(length: number): boolean {
    if (this.#credit === null) return this.open;
    // The server acks once per `coalesce` bytes: below twice that in flight (within the server's credit) the
    // sender would wait for an ack the server holds back until its idle delay.
    const floor = Math.min(this.#credit.granted, Math.max(2 * this.#coalesce, this.#hold));
    const allowance = Math.max(this.#credit.allowance, floor);
    return this.#inFlightBytes === 0 || this.#inFlightBytes + length <= allowance;
  }

  /**
   * The server changed its credit (an ack carried one); ignored when no credit was agreed.
   *
   * @param bytes - the new credit
   */
  grant(bytes: number): void {
    this.#credit?.grant(bytes);
  }

  /** Bytes sent; always `>= loaded`. */
  get sent(): number {
    return this.#sent;
  }

  /** Bytes the server acknowledged. */
  get loaded(): number {
    return this.#loaded;
  }

  /**
   * Starts over from what the server holds (a STOR answer): nothing in flight.
   *
   * @param offset - bytes the server holds
   * @param limit - chunks allowed in flight
   * @param checkOffsets - whether acks carry an offset to check (v2)
   * @param credit - the byte allowance when a credit was granted, else null (the chunk limit applies)
   */
  restart(offset: number, limit: number, checkOffsets: boolean, credit: ByteCredit | null = null): void {
    this.#limit = Math.max(1, limit);
    this.#checkOffsets = checkOffsets;
    this.#coalesce = 0;
    this.#hold = 0;
    this.#credit = credit;
    this.#inFlight = [];
    this.#inFlightBytes = 0;
    this.#sent = offset;
    this.#loaded = offset;
  }

  /**
   * The grant agreed `coalesce` (or not): from now on an ack's offset may cover several chunks in flight.
   *
   * @param bytes - the most bytes one ack may cover, 0 when not agreed
   */
  coalesce(bytes: number): void {
    this.#coalesce = this.#checkOffsets ? bytes : 0;
  }

  /**
   * The grant's `hold` when the sender started before the answer (early data): below it in flight the
   * sender would wait for acks the server holds back (a restart passes it to the credit instead).
   *
   * @param bytes - the server's hold, 0 for none
   */
  hold(bytes: number): void {
    this.#hold = Math.max(0, bytes);
  }

  /** Forgets the chunks in flight (the connection dropped; they will be sent again). */
  drop(): void {
    this.#inFlight = [];
    this.#inFlightBytes = 0;
    this.#credit?.drop();
  }

  /**
   * Counts a chunk sent.
   *
   * @param length - its length in bytes
   */
  push(length: number): void {
    this.#credit?.sent(this.#loaded);
    this.#inFlight.push(length);
    this.#inFlightBytes += length;
    this.#sent += length;
  }

  /**
   * Counts the acknowledgement of the oldest chunk in flight or, with `coalesce` agreed, of every chunk up to
   * the ack's offset. A length is the one sent, never the answer's `bytesRead`: the 2012 PHP server reports
   * a UTF-8 character count there.
   *
   * @param offset - the ack's `offset` (v2), checked when offsets are
   * @returns the acknowledged length, or the offset that was due when the server's does not match
   */
  acknowledge(offset: number | undefined): { ok: true; length: number } | { ok: false; expected: number } {
    if (this.#coalesce > 0 && offset !== undefined) return this.#acknowledgeUpTo(offset);
    const length = this.#inFlight.shift() ?? 0;
    this.#inFlightBytes -= length;
    const expected = this.#loaded + length;
    if (this.#checkOffsets && offset !== expected) return { ok: false, expected };
    this.#loaded = expected;
    this.#credit?.acknowledged(expected, length);
    return { ok: true, length };
  }

  /**
   * A coalesced ack: the chunks in flight up to `offset`, each counted as if acked on its own (the credit
   * measures per chunk). An offset that is not the end of a chunk in flight is a mismatch; the first chunk's
   * end is what was due.
   */
  #acknowledgeUpTo(offset: number): { ok: true; length: number } | { ok: false; expected: number } {
    let end = this.#loaded;
    let count = 0;
    while (count < this.#inFlight.length && end < offset) end += this.#inFlight[count++]!;
    if (count === 0 || end !== offset)
      return { ok: false, expected: this.#loaded + (this.#inFlight[0] ?? 0) };
    const start = this.#loaded;
    for (const length of this.#inFlight.splice(0, count)) {
      this.#inFlightBytes -= length;
      this.#loaded += length;
      this.#credit?.acknowledged(this.#loaded, length);
    }
    return { ok: true, length: this.#loaded - start };
  }
}
