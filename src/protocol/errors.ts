/**
 * Wire status codes. They are HTTP-like on purpose: every peer, old or new, reads `code === 200` as success
 * and anything else as failure with a human `message`.
 */
export const Status = {
  ok: 200,
  badRequest: 400,
  unauthorized: 401,
  forbidden: 403,
  notFound: 404,
  conflict: 409,
  tooLarge: 413,
  checksumMismatch: 422,
  tooMany: 429,
  serverError: 500,
  unavailable: 503,
  insufficientStorage: 507,
} as const;

/** One of the numeric codes in {@link Status}. */
export type StatusCode = (typeof Status)[keyof typeof Status];

/**
 * Stable camelCase reasons for a malformed message. They double as i18n keys on the client and as the
 * `reason` field of a server's error answer log line.
 */
export type ProtocolErrorCode =
  'emptyMessage' | 'messageTooLong' | 'unknownCommand' | 'badJson' | 'badField' | 'badBase64' | 'badAnswer';

/**
 * A message that cannot be understood. Parsers return it inside a {@link ParseResult} instead of throwing,
 * so that hostile input never escapes as an exception.
 */
export class ProtocolError extends Error {
  /** The numeric wire code to answer with (400 unless the input was too long: 413). */
  readonly status: StatusCode;
  /** A stable camelCase reason. */
  readonly code: ProtocolErrorCode;

  /**
   * @param code - the stable reason
   * @param message - a human sentence naming what was wrong
   * @param status - the wire code (defaults to 400)
   */
  constructor(code: ProtocolErrorCode, message: string, status: StatusCode = Status.badRequest) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
    this.status = status;
  }
}

/** The outcome of a parser: a value, or the reason the input was refused. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

/** @internal */
export const ok = <T>(value: T): ParseResult<T> => ({ ok: true, value });

/** @internal */
export const fail = <T>(
  code: ProtocolErrorCode,
  message: string,
  status: StatusCode = Status.badRequest,
): ParseResult<T> => ({ ok: false, error: new ProtocolError(code, message, status) });

/**
 * WebSocket close codes (RFC 6455 §7.4) this protocol uses. docs/protocol.md §5 says when each is sent and
 * which ones a v2 client reconnects after.
 */
export const CloseCode = {
  /** The client, after success or abort. */
  normal: 1000,
  /** Server shutdown or idle timeout: come back later. */
  goingAway: 1001,
  protocolError: 1002,
  /** The data was inconsistent with its checksum. */
  inconsistentData: 1007,
  /** Policy: not let in, not allowed. Also the close for any wire code the table below does not name. */
  policy: 1008,
  tooBig: 1009,
  serverError: 1011,
  tryAgainLater: 1013,
} as const;

/** The close code a server closes with after answering with a wire code (docs/protocol.md §5). */
const CLOSE_CODE_FOR_STATUS: Readonly<Partial<Record<number, number>>> = {
  [Status.badRequest]: CloseCode.protocolError,
  [Status.unauthorized]: CloseCode.policy,
  [Status.forbidden]: CloseCode.policy,
  // 409 "held by another connection": try again later.
  [Status.conflict]: CloseCode.tryAgainLater,
  [Status.tooLarge]: CloseCode.tooBig,
  [Status.checksumMismatch]: CloseCode.inconsistentData,
  [Status.tooMany]: CloseCode.tryAgainLater,
  [Status.serverError]: CloseCode.serverError,
  [Status.unavailable]: CloseCode.tryAgainLater,
  [Status.insufficientStorage]: CloseCode.serverError,
};

/**
 * @param status - the wire code of the error answer that ends the connection
 * @returns the WebSocket close code to close with (1008, policy, for a code the table does not name)
 */
export function closeCodeFor(status: number): number {
  return CLOSE_CODE_FOR_STATUS[status] ?? CloseCode.policy;
}
