/**
 * Damaged blocks sent again (block integrity, docs/protocol.md "Block integrity"): the server names a
 * damaged block in a DATA ack's `resend`; the block is read anew from the file and sent after `BLK`, outside
 * the send window, until a BLK answer says it is verified. The transfer gives a host with the integrity, the
 * socket and a way to tell that the connection it was asked on is still the current one.
 */
import type { Answer } from '../protocol/index.ts';
import type { Integrity } from './integrity.ts';

/** What sending blocks again needs of the transfer. */
export interface ResendHost {
  /** The integrity agreed now. */
  integrity(): Integrity;
  /** Bytes per frame. */
  chunkSize(): number;
  /** @returns a check that stays true while the connection of now is the current one and the upload runs */
  current(): () => boolean;
  /** @returns false when sending failed (the transfer reported it) */
  send(frame: string | ArrayBuffer): boolean;
  /** The file could not be read: the upload fails. */
  readFailed(cause: unknown): void;
  /** Frames went out: arm the answer deadline for what is due. */
  sent(): void;
}

/** Sends damaged blocks again and reads the server's verdicts on them. */
export class BlockResends {
  readonly #host: ResendHost;

  /** @param host - the transfer's side */
  constructor(host: ResendHost) {
    this.#host = host;
  }

  /**
   * Sends the blocks the server found damaged (and any still due) again.
   *
   * @param blocks - from the ack's `resend`
   */
  async resend(blocks: readonly number[]): Promise<void> {
    const host = this.#host;
    const integrity = host.integrity();
    integrity.damaged(blocks);
    const current = host.current();
    let frames: (string | ArrayBuffer)[];
    try {
      frames = await integrity.resendFrames(host.chunkSize());
    } catch (cause) {
      if (current()) host.readFailed(cause);
      return;
    }
    if (!current()) return;
    for (const frame of frames) if (!host.send(frame)) return;
    host.sent();
  }

  /**
   * A BLK answer: the block is verified, or damaged again and sent once more.
   *
   * @param answer - the BLK answer with code 200
   * @returns true when no damaged block is left (FIN may follow)
   */
  answered(answer: Answer): boolean {
    const integrity = this.#host.integrity();
    integrity.answered(Number(answer.block), answer.verified === true);
    if (!integrity.unsettled) return true;
    void this.resend([]);
    return false;
  }
}
