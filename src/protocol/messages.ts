/**
 * The messages of the WebSocketFileTransfer wire protocol, version 1 (2012) as peers really send them.
 * The normative text is docs/protocol.md.
 */

/** How chunks travel: base64 text frames (the 2012 default) or binary frames. */
export type TransferType = 'base64' | 'binary';

/** Names of the text commands a client sends. */
export type CommandName = 'AUTH' | 'STOR' | 'FIN' | 'ABOR';

/** `AUTH: {"login": "...", "password": "..."}` or `AUTH: {"token": "..."}`: optional, first. */
export interface AuthCommand {
  command: 'AUTH';
  login?: string;
  password?: string;
  token?: string;
}

/** `STOR: {"filename": "...", "size": N, "type": "base64" | "binary", "parameters": ...}`. */
export interface StorCommand {
  command: 'STOR';
  /** The name the client gave; the server sanitises it before use. */
  filename: string;
  /** Declared size in bytes: a non-negative safe integer. */
  size: number;
  /** Chunk encoding; the 2012 client's default was base64. */
  type: TransferType;
  /** Whatever the page passed along (the 2012 client sent an array); stored as given. */
  parameters: unknown;
  /** Protocol version the client offers; absent means 1. */
  v?: number;
  /** Extensions offered by a newer client; a v1 server ignores them. Kept raw for the negotiation layer. */
  ext?: Record<string, unknown>;
}

/** `FIN: {"size": N, "checksum": "sha256:<base64>"}` (v2, when `fin` was agreed): the client sent everything. */
export interface FinCommand {
  command: 'FIN';
  /** The file's size in bytes, as the client counts it. */
  size: number;
  /** `sha256:` then the base64 SHA-256 of the whole file; absent when no checksum was agreed. */
  checksum?: string;
}

/** `ABOR: {"id": "..."}` (v2): the client gives up; the server deletes the partial upload. */
export interface AborCommand {
  command: 'ABOR';
  /** The upload to delete; absent means the one this connection is sending. */
  id?: string;
}

/** Any command a client sends as a text frame. */
export type ClientCommand = AuthCommand | StorCommand | FinCommand | AborCommand;

/** The protocol version a v2 peer puts in `STOR` and in its `STOR` answer. */
export const PROTOCOL_V2 = 2;

/** The only checksum algorithm v2 defines. */
export type ChecksumAlgorithm = 'sha256';

/**
 * The extensions a v2 client offers in `STOR`'s `ext` field. Every field is optional; an absent field is
 * not offered. A v1 server ignores the whole object.
 */
export interface StorOffer {
  /** Send chunks as binary frames instead of base64 text. */
  binary: boolean;
  /** Chunks the client would like to keep unacknowledged at once (1 = stop-and-wait). */
  window: number;
  /** The chunk size the client would like to use, in bytes. */
  chunk: number;
  /** An upload id from an earlier STOR answer, to continue that upload; null or absent starts fresh. */
  resume: string | null;
  /** Checksum algorithms the client can compute, best first. */
  checksum: ChecksumAlgorithm[];
  /** The client will send FIN after the last chunk and wait for its answer. */
  fin: boolean;
  /** The file's MIME type, informational. */
  mime?: string;
  /** The file's lastModified (ms since the epoch), informational. */
  lastModified?: number;
}

/** What a v2 server grants in its `STOR` answer's `ext` field: the subset of the offer it takes. */
export interface StorGrant {
  /** Chunks travel as binary frames (else base64 text, as `type` said). */
  binary: boolean;
  /** At most this many chunks unacknowledged. */
  window: number;
  /** No chunk may be larger than this many bytes. */
  maxChunk: number;
  /** The checksum the server will check on FIN, or null for none. */
  checksum: ChecksumAlgorithm | null;
  /** The server expects FIN and answers it once the file is durably in place. */
  fin: boolean;
  /** When the partial upload is deleted if nobody continues it (ISO 8601). */
  expires: string;
}

/** A v2 `STOR` answer, after {@link parseStorAnswer} checked it. */
export interface StorAnswerV2 {
  v: number;
  /** The upload id: an unguessable capability token the client keeps to resume. */
  id: string;
  /** Bytes the server already holds: the client continues from here, whatever it believes it sent. */
  offset: number;
  ext: StorGrant;
}

/** The `type` of a server answer: which command or data frame it answers. */
export type AnswerType = 'AUTH' | 'STOR' | 'DATA' | 'FIN' | 'ABOR' | 'ERROR';

/**
 * A server answer: `{"type":"STOR","code":200,"message":"..."}`, `{"type":"DATA","code":200,"bytesRead":n}`.
 * Extra fields (v2) pass through untouched.
 */
export interface Answer {
  type: AnswerType;
  code: number;
  message?: string;
  /** Bytes of the answered chunk. The 2012 PHP server sent a UTF-8 character count here: do not trust it. */
  bytesRead?: number;
  /** Milliseconds to wait before retrying (409/429/503). */
  retryAfter?: number;
  /** v2 DATA ack: bytes the server holds after writing the answered chunk. */
  offset?: number;
  [extra: string]: unknown;
}
