/**
 * The client's side of the conversation as pure functions: the `STOR` frame it sends, how it reads a frame
 * from the server against the answer that is due, which error a refusal or a broken connection becomes.
 * No socket and no state here: the transfer asks and acts.
 */
import {
  buildOffer,
  formatStor,
  offerExt,
  parseAnswer,
  PROTOCOL_V2,
  readGrant,
  Status,
  type Answer,
  type AnswerType,
  type StorAnswerV2,
} from '../protocol/index.ts';
import type { ClosedHow } from './connection.ts';
import type { UploadErrorCode, UploadErrorInit } from './errors.ts';
import type { WarningDetail } from './events.ts';
import type { ResolvedOptions } from './options.ts';

/** A failure the transfer reports: code, message and what the error carries. */
export interface Failure {
  code: UploadErrorCode;
  message: string;
  init: UploadErrorInit & { closed?: ClosedHow };
}

/**
 * The `STOR` frame: the 2012 one byte for byte without `offerV2`; else with the v2 offer in `ext` (a field
 * v1 servers ignore; `type` stays the fallback a v1 server uses).
 *
 * @param options - the transfer's options
 * @param resume - the upload id to continue, or null
 * @param checksum - offer block integrity (`checksum` is on and WebCrypto is there)
 * @param early - bytes sent right behind this STOR, before its answer (early-data.ts; 0: none)
 * @returns the text frame
 */
export function storFrame(
  options: ResolvedOptions,
  resume: string | null,
  checksum: boolean,
  early = 0,
): string {
  const { file, type, parameters, path } = options;
  const named = file as Partial<File>;
  const filename = named.name ? named.name : 'blob';
  const base = { filename, size: file.size, type, parameters, ...(path !== undefined ? { path } : {}) };
  if (!options.offerV2) return formatStor(base);
  const offer = buildOffer({
    window: options.window,
    chunk: options.v2ChunkSize,
    resume,
    checksum,
    reuse: options.connections !== null,
    early,
    mime: file.type,
    ...(typeof named.lastModified === 'number' ? { lastModified: named.lastModified } : {}),
  });
  return formatStor({ ...base, v: PROTOCOL_V2, ext: offerExt(offer) });
}

/**
 * What a FIN answer says about the stored file, when it says it (the reference server does).
 *
 * @param answer - the FIN answer with code 200
 * @returns the upload id and the final name, or null
 */
export function storedFile(answer: Answer): { id: string; filename: string } | null {
  const { id, filename } = answer;
  return typeof id === 'string' && typeof filename === 'string' ? { id, filename } : null;
}

/** A frame from the server, read against the answer that was due. */
export type AnswerReading =
  | { kind: 'answer'; answer: Answer; expected: AnswerType }
  | { kind: 'refusal'; answer: Answer; expected: AnswerType }
  | { kind: 'invalid'; failure: Failure };

/**
 * Reads a frame: an answer of the type due, a refusal (a code other than 200 on the due type or on ERROR),
 * or something that ends the upload (binary, not JSON, unsolicited, the wrong type).
 *
 * @param data - the frame's data
 * @param due - the answer type due, or null when none is
 * @param blockDue - whether a BLK answer may come (a damaged block was sent again)
 * @returns the reading
 */
export function readAnswer(data: unknown, due: AnswerType | null, blockDue = false): AnswerReading {
  if (typeof data !== 'string') {
    return invalid('The server sent a binary frame; a v1 server answers with JSON text only.');
  }
  const parsed = parseAnswer(data);
  if (!parsed.ok) return invalid(parsed.error.message);
  const answer = parsed.value;
  // A block sent again is answered by BLK whenever the server has checked it, between the DATA acks.
  const expected = blockDue && (answer.type === 'BLK' || due === null) ? 'BLK' : due;
  if (expected === null) {
    return invalid(`The server sent a ${answer.type} answer when none was due.`, answer);
  }
  if (answer.code !== Status.ok && (answer.type === expected || answer.type === 'ERROR')) {
    return { kind: 'refusal', answer, expected };
  }
  if (answer.type !== expected) {
    return invalid(`The server sent a ${answer.type} answer where a ${expected} answer was due.`, answer);
  }
  return { kind: 'answer', answer, expected };
}

/**
 * Reads a STOR answer with code 200: v1 (no grant), a v2 grant, or one that ends the upload (a malformed
 * grant, a v1 answer to a resume, an offset beyond the file).
 *
 * @param answer - the answer
 * @param resuming - whether this STOR continued a v2 upload
 * @param size - the file's size
 * @returns the grant (`stored` null for v1), or the failure
 */
export function readStorAnswer(
  answer: Answer,
  resuming: boolean,
  size: number,
): { stored: StorAnswerV2 | null } | Failure {
  const parsed = readGrant(answer);
  if (!parsed.ok) return { code: 'badAnswer', message: parsed.error.message, init: { answer } };
  const stored = parsed.value;
  if (stored === null && resuming) {
    return {
      code: 'badAnswer',
      message: 'The server answered a resume with a v1 STOR answer.',
      init: { answer },
    };
  }
  if (stored !== null && stored.offset > size) {
    return {
      code: 'badAnswer',
      message: `The server holds ${stored.offset} bytes of a ${size}-byte file.`,
      init: {},
    };
  }
  return { stored };
}

/**
 * The error a refusal that ends the upload becomes.
 *
 * @param expected - the answer type that was due
 * @param answer - the refusal
 * @returns the failure
 */
export function refusalFailure(expected: AnswerType, answer: Answer): Failure {
  const code: UploadErrorCode =
    expected === 'AUTH'
      ? 'authRejected'
      : answer.code === Status.checksumMismatch
        ? 'checksumMismatch'
        : 'serverRefused';
  const message = answer.message || `The server answered ${expected} with code ${answer.code}.`;
  return { code, message, init: { answer, status: answer.code } };
}

/**
 * The error a broken connection becomes: could not connect, or broke mid-upload.
 *
 * @param connecting - whether the socket had not opened yet
 * @param url - the upload server
 * @param event - the socket's close event; absent for an `error` event
 * @returns the failure
 */
export function connectionFailure(connecting: boolean, url: string, event?: CloseEvent): Failure {
  if (!event) {
    return connecting
      ? { code: 'connectionFailed', message: `Cannot connect to ${url}.`, init: {} }
      : { code: 'connectionClosed', message: 'The connection broke before the upload completed.', init: {} };
  }
  const closed: ClosedHow = { code: event.code, reason: event.reason, wasClean: event.wasClean };
  const reason = event.reason ? `: ${event.reason}` : '';
  const init = { closeCode: event.code, closed };
  return connecting
    ? {
        code: 'connectionFailed',
        message: `Cannot connect to ${url} (close code ${event.code}${reason}).`,
        init,
      }
    : {
        code: 'connectionClosed',
        message: `The server closed the connection (code ${event.code}${reason}) before the upload completed.`,
        init,
      };
}

/**
 * The error an acknowledgement with the wrong offset becomes (v2: the server's offset is checked).
 *
 * @param answer - the DATA answer
 * @param expected - the offset that was due
 * @returns the failure
 */
export function ackFailure(answer: Answer, expected: number): Failure {
  const message = `The server acknowledged offset ${answer.offset}; ${expected} was due.`;
  return { code: 'badAnswer', message, init: { answer } };
}

/**
 * The error an answer that did not come becomes.
 *
 * @param type - the answer type that was due
 * @param timeout - how long it was waited for, in ms
 * @returns the failure
 */
export function timeoutFailure(type: AnswerType, timeout: number): Failure {
  if (type === 'AUTH') {
    return {
      code: 'authTimeout',
      message:
        `The server did not answer AUTH within ${timeout} ms. A 2012 server never answers AUTH: do not pass ` +
        'credentials to such a server.',
      init: {},
    };
  }
  return {
    code: 'answerTimeout',
    message: `The server did not answer ${type} within ${timeout} ms.`,
    init: {},
  };
}

/**
 * The error a connection that went silent becomes: nothing at all, not even the server's keep-alive
 * messages, arrived within the bound (liveness.ts) — dead without a close, as a black hole leaves it.
 *
 * @param bound - how long it was silent, in ms
 * @returns the failure
 */
export function silenceFailure(bound: number): Failure {
  return {
    code: 'answerTimeout',
    message: `Nothing arrived from the server for ${bound} ms, though it sends a keep-alive message more often: the connection is taken for dead.`,
    init: {},
  };
}

function invalid(message: string, answer?: Answer): AnswerReading {
  return { kind: 'invalid', failure: { code: 'badAnswer', message, init: answer ? { answer } : {} } };
}

/**
 * The `warning` an upload that asked for `checksum` but is not verified fires.
 *
 * @param offered - whether block integrity was offered (false: no WebCrypto here)
 * @returns the code and message
 */
export function unverifiedWarning(offered: boolean): Omit<WarningDetail, 'file'> {
  return offered
    ? {
        code: 'integrityNotGranted',
        message: 'The server does not check blocks (sha256-blocks): this upload is not verified end to end.',
      }
    : {
        code: 'integrityUnavailable',
        message:
          'WebCrypto (crypto.subtle) is missing here, as outside a secure context (https or localhost): ' +
          'this upload is not verified end to end.',
      };
}
