import type { UploadError } from './errors.ts';

/** The `detail` of the `open` event: the socket is open and the conversation begins. */
export interface OpenDetail {
  /** The file being sent. */
  file: Blob;
}

/**
 * The figures of a transfer: the `detail` of `progress`, `success`, `cancel` (and `abort`) and `pause`. Bytes *acknowledged* by the
 * server are the truth (bars use them); bytes *sent* may run ahead of them.
 */
export interface ProgressDetail {
  /** Bytes the server acknowledged: the sum of the lengths of the chunks answered with code 200. */
  loaded: number;
  /** Bytes sent so far; always `>= loaded`. */
  sent: number;
  /** The file's size in bytes. */
  total: number;
  /** `loaded / total` as a number from 0 to 100 (100 for an empty file once it succeeded). */
  percentage: number;
  /** Acknowledged bytes per second since `start()`. */
  speed: number;
  /** Seconds (with fractions) since `start()`. */
  elapsedTime: number;
  /** Estimated seconds left at the current speed: 0 when done, `Infinity` before any speed is known. */
  remainingTime: number;
  /** The file being sent. */
  file: Blob;
  /**
   * On `success` under protocol v2: the server's upload id and the name it stored the file under (it may
   * differ from the file's: sanitised, or `name (1).ext` beside an existing file). Absent under v1.
   */
  stored?: { id: string; filename: string };
}

/** The `detail` of the `cancel` event (and of `abort`, its 2012 name): the figures when it was stopped. */
export type CancelDetail = ProgressDetail;

/** @deprecated the `detail` of `abort`, the 2012 name of the `cancel` event: use {@link CancelDetail}. */
export type AbortDetail = CancelDetail;

/** The `detail` of the `error` event. */
export interface ErrorDetail {
  /** Why the upload failed; branch on its `.code`. */
  error: UploadError;
  /** The file that was being sent. */
  file: Blob;
}

/** The `detail` of the `retrying` event: a resumable (v2) upload lost its conversation and will reconnect. */
export interface RetryingDetail {
  /** What stopped the conversation: no answer in time, a socket error or close, a "not now" refusal. */
  cause: 'timeout' | 'socketError' | 'socketClosed' | 'refused';
  /** 1 for the first retry since the server's offset last advanced. */
  attempt: number;
  /** Milliseconds before the reconnection (then it also waits for the browser to be online). */
  delay: number;
  /** The file being sent. */
  file: Blob;
}

/**
 * The `detail` of the `warning` event: the upload goes on, but without something that was asked for.
 * `integrityUnavailable`: `checksum` is on but this context has no WebCrypto (`crypto.subtle` is missing
 * outside a secure context), so no verification is offered; `integrityNotGranted`: the server did not agree
 * to check blocks (a v1 server, or an older v2 one). Either way the upload is not verified end to end.
 */
export interface WarningDetail {
  code: 'integrityUnavailable' | 'integrityNotGranted';
  message: string;
  /** The file being sent. */
  file: Blob;
}

/** The `detail` of the `close` event, the last event of every started transfer. */
export interface CloseDetail {
  /** The WebSocket close code: the server's when it closed first, else 1000 (the transfer closed it). */
  code: number;
  /** The close reason, possibly empty. */
  reason: string;
  /** Whether the connection closed cleanly. */
  wasClean: boolean;
  /** The file that was being sent. */
  file: Blob;
}

/**
 * The events a {@link WebSocketFileTransfer} dispatches, all `CustomEvent`s. Per started transfer: `open` (if
 * the socket opened), any number of `progress` (and, under v2, `retrying` whenever it reconnects), exactly
 * one of `success`, `error`, `cancel` or (v2) `pause`, then `close`. A cancel fires `cancel` and right after
 * it `abort`, the same event under its 2012 name (for the `abort` callback and listeners written for it).
 */
export interface WebSocketFileTransferEventMap {
  open: CustomEvent<OpenDetail>;
  progress: CustomEvent<ProgressDetail>;
  success: CustomEvent<ProgressDetail>;
  error: CustomEvent<ErrorDetail>;
  cancel: CustomEvent<CancelDetail>;
  /** The 2012 name of `cancel`: fired right after it, with the same detail. */
  abort: CustomEvent<CancelDetail>;
  retrying: CustomEvent<RetryingDetail>;
  pause: CustomEvent<ProgressDetail>;
  warning: CustomEvent<WarningDetail>;
  close: CustomEvent<CloseDetail>;
}
