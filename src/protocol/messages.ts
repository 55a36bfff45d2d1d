/**
 * The messages of the WebSocketFileTransfer wire protocol, version 1 (2012) as peers really send them.
 * The normative text is docs/protocol.md.
 */
import type { BlkCommand, SumCommand } from './blocks.ts';

/** How chunks travel: base64 text frames (the 2012 default) or binary frames. */
export type TransferType = 'base64' | 'binary';

/** Names of the text commands a client sends. */
export type CommandName = 'AUTH' | 'STOR' | 'FIN' | 'ABOR' | 'SUM' | 'BLK';

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
  /**
   * The folder the file came from, relative to the folder the user picked or dropped (`photos/2024`,
   * segments separated by `/`); absent for a single file. A server sanitises every segment; a v1 server
   * ignores the field.
   */
  path?: string;
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
  /**
   * `sha256:` then the base64 SHA-256 of the whole file, or (block integrity) `sha256-blocks:` then the
   * content hash; absent when no checksum was agreed.
   */
  checksum?: string;
}

/** `ABOR: {"id": "..."}` (v2): the client gives up; the server deletes the partial upload. */
export interface AborCommand {
  command: 'ABOR';
  /** The upload to delete; absent means the one this connection is sending. */
  id?: string;
}

/** Any command a client sends as a text frame. */
export type ClientCommand = AuthCommand | StorCommand | FinCommand | AborCommand | SumCommand | BlkCommand;

/** The protocol version a v2 peer puts in `STOR` and in its `STOR` answer. */
export const PROTOCOL_V2 = 2;

/**
 * The checksum algorithms v2 defines: `sha256-blocks` (per-block SHA-256, checked as blocks complete; see
 * blocks.ts) and `sha256` (the whole file's SHA-256, checked on FIN; still granted to older v2 clients).
 */
export type ChecksumAlgorithm = 'sha256' | 'sha256-blocks';

// The v2 negotiation (StorOffer, StorGrant, StorAnswerV2 and the functions over them) is in terms.ts.

/** The `type` of a server answer: which command or data frame it answers. */
export type AnswerType = 'AUTH' | 'STOR' | 'DATA' | 'FIN' | 'ABOR' | 'BLK' | 'ERROR' | 'ALIVE';

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
