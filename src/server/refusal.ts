/**
 * The one refusal type of the server: what a session answers when it says no, with everything the answer
 * and the close that may follow need — the answer's type, the wire code, a human message, `retryAfter`, the
 * WebSocket close code (from the protocol's table in src/protocol/errors.ts) and whether the partial upload
 * goes with it. Checks anywhere in the session build one; the session sends it in one place.
 */
import { closeCodeFor, looksLikeCommand, type Answer, type AnswerType } from '../protocol/index.ts';

/** Why something was refused, before it is known which answer carries it (limits, admission, storage). */
export interface RefusalDetail {
  code: number;
  message: string;
  /** Milliseconds the client should wait before it retries (409/429/503). */
  retryAfter?: number;
}

/**
 * Thrown by an access hook that cannot decide now (e.g. the password hashing queue is full): the client is
 * answered with the detail's code and `retryAfter` instead of a 401.
 */
export class RefusalError extends Error {
  readonly refusal: RefusalDetail;

  /** @param refusal - the code, message and retryAfter to answer with */
  constructor(refusal: RefusalDetail) {
    super(refusal.message);
    this.name = 'RefusalError';
    this.refusal = refusal;
  }
}

/** How a refusal ends, besides its answer. */
export interface RefusalOptions {
  /** Milliseconds the client should wait before it retries (409/429/503). */
  retryAfter?: number;
  /** Drop the partial upload even when it could be resumed: its bytes are known to be wrong. */
  discard?: boolean;
  /** Answer only: the connection stays open for the client's next command (an unknown resume id, ABOR). */
  keepOpen?: boolean;
}

/** A no, with its wire code, message and close code. */
export class Refusal {
  /** The answer's `type`: which command or data frame is refused. */
  readonly answerType: AnswerType;
  /** The wire code (never 200). */
  readonly code: number;
  readonly message: string;
  readonly retryAfter: number | undefined;
  /** The partial upload is dropped, not kept for a resume. */
  readonly discard: boolean;
  /** The WebSocket close code that follows the answer, or null when the connection stays open. */
  readonly closeCode: number | null;

  /**
   * @param answerType - which command or data frame is refused
   * @param code - the wire code
   * @param message - a human sentence saying what was wrong
   * @param options - retryAfter, discard, keepOpen
   */
  constructor(answerType: AnswerType, code: number, message: string, options: RefusalOptions = {}) {
    this.answerType = answerType;
    this.code = code;
    this.message = message;
    this.retryAfter = options.retryAfter;
    this.discard = options.discard === true;
    this.closeCode = options.keepOpen === true ? null : closeCodeFor(code);
  }

  /**
   * @param answerType - which command or data frame is refused
   * @param detail - the code, message and retryAfter a limit, the admission or the storage gave
   * @returns the refusal that closes the connection
   */
  static of(answerType: AnswerType, detail: RefusalDetail): Refusal {
    return new Refusal(answerType, detail.code, detail.message, { retryAfter: detail.retryAfter });
  }

  /**
   * Which answer type a malformed command is refused under: its own command's, else DATA or ERROR.
   *
   * @param text - the command frame that did not parse
   * @param receiving - whether an upload's data is arriving (then DATA)
   * @returns the answer type
   */
  static typeFor(text: string, receiving: boolean): AnswerType {
    const word = /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase();
    if (word === 'AUTH' || word === 'STOR' || word === 'FIN' || word === 'ABOR') return word;
    return receiving ? 'DATA' : 'ERROR';
  }

  /**
   * The answer a failure while handling a frame goes under (a store that threw): the frame's command, so
   * that an `ABOR` whose store fails is told apart from a failed chunk; else `DATA` for a chunk, `STOR`
   * before any upload.
   *
   * @param frame - the frame being handled
   * @param isBinary - whether it is a binary frame
   * @param receiving - whether an upload's data is being received
   * @returns the answer type
   */
  static typeForFailure(frame: Buffer, isBinary: boolean, receiving: boolean): AnswerType {
    const head = isBinary ? '' : frame.toString('utf8', 0, 16);
    // Only the start of a frame is looked at, as the session does: a chunk may be megabytes of base64.
    const type =
      !isBinary && (!receiving || looksLikeCommand(head)) ? Refusal.typeFor(head, receiving) : 'DATA';
    if (type === 'ERROR' || type === 'DATA') return receiving ? 'DATA' : 'STOR';
    return type;
  }

  /** The close frame's reason: the message, cut to fit the 123 bytes a close frame allows. */
  get closeReason(): string {
    return this.message.slice(0, 120);
  }

  /** @returns the error answer to send */
  answer(): Answer {
    return {
      type: this.answerType,
      code: this.code,
      message: this.message,
      ...(this.retryAfter !== undefined ? { retryAfter: this.retryAfter } : {}),
    };
  }
}
