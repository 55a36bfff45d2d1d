import type { Answer } from '../protocol/index.ts';

/**
 * Stable reasons an upload fails. They never change once published: the element uses them as i18n keys and
 * callers branch on them, so a new reason gets a new code rather than a new meaning for an old one.
 *
 * | code | when |
 * |---|---|
 * | `connectionFailed` | the socket could not be opened (error or close before `open`, or a bad URL) |
 * | `connectionClosed` | the socket closed or broke after `open` and before the upload completed |
 * | `authTimeout` | no answer to `AUTH` within `authTimeout` (a 2012 PHP server never answers `AUTH`) |
 * | `answerTimeout` | no answer to `STOR` or to a chunk within `answerTimeout` |
 * | `authRejected` | the server answered `AUTH` with a code other than 200 |
 * | `serverRefused` | the server answered `STOR` or a chunk with a code other than 200 |
 * | `badAnswer` | a malformed answer, an answer of the wrong type, an unsolicited answer, or a binary frame |
 * | `checksumMismatch` | v2: the server answered FIN with 422 — the stored bytes did not match the file's SHA-256, and the server deleted them |
 * | `readFailed` | the file could not be read (for example it changed or vanished on disk) |
 * | `aborted` | reserved for wrappers that turn {@link WebSocketFileTransfer.abort} into a rejection; the transfer itself reports an abort with its `abort` event, never with `error` |
 * | `notSupported` | the browser lacks WebSocket, `Blob.prototype.slice` or `Blob.prototype.arrayBuffer` |
 * | `tokenUnavailable` | the token provider threw, gave no token, or did not answer within `authTimeout` |
 * | `prepareRefused` | the queue's `prepare` hook refused the file (the message is the hook's) |
 */
export type UploadErrorCode =
  | 'connectionFailed'
  | 'connectionClosed'
  | 'authTimeout'
  | 'answerTimeout'
  | 'authRejected'
  | 'serverRefused'
  | 'badAnswer'
  | 'checksumMismatch'
  | 'readFailed'
  | 'aborted'
  | 'notSupported'
  | 'tokenUnavailable'
  | 'prepareRefused';

/** What an {@link UploadError} may carry besides its code and message. */
export interface UploadErrorInit {
  /** The wire code the server answered with, when the failure is the server's answer. */
  status?: number;
  /** The server's answer, when there was one (parsed, or as far as it could be parsed). */
  answer?: Answer;
  /** The WebSocket close code, when the failure is a closed connection. */
  closeCode?: number;
  /** The lower-level error that caused this one. */
  cause?: unknown;
}

/**
 * The one error class of the transfer core. Branch on {@link UploadError.code}, never on the message: the
 * message is for people (and, for `serverRefused`/`authRejected`, is the server's own `message`).
 */
export class UploadError extends Error {
  /** A stable camelCase reason; see {@link UploadErrorCode} for the table. */
  readonly code: UploadErrorCode;
  /** The wire code (for example 401, 413, 500) when the server sent one. */
  readonly status?: number;
  /** The server's answer that caused the failure, when there was one. */
  readonly answer?: Answer;
  /** The WebSocket close code, for `connectionClosed` and `connectionFailed` when the browser gave one. */
  readonly closeCode?: number;

  /**
   * @param code - the stable reason
   * @param message - a human sentence saying what went wrong
   * @param init - wire status, answer, close code and cause, when known
   */
  constructor(code: UploadErrorCode, message: string, init: UploadErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'UploadError';
    this.code = code;
    if (init.status !== undefined) this.status = init.status;
    if (init.answer !== undefined) this.answer = init.answer;
    if (init.closeCode !== undefined) this.closeCode = init.closeCode;
  }
}
