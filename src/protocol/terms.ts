/**
 * The negotiated terms of a conversation: what a client and a server agreed for one upload (encoding,
 * window, largest chunk, integrity, FIN, resume, expiry). This module owns the whole negotiation, on both
 * sides, as pure functions:
 *
 * 1. the client builds an offer ({@link buildOffer}) and puts it in `STOR`'s `ext` ({@link offerExt});
 * 2. the server reads it ({@link readOffer}) and grants ({@link grantTerms}) — the one place a grant is
 *    computed — then sends the grant as its `STOR` answer's `ext`;
 * 3. the client reads the answer ({@link readGrant}) and turns it into the {@link Terms} it sends under
 *    ({@link agreedTerms}). An answer without a grant means v1: {@link V1_TERMS}, the smallest set.
 *
 * The server's side of step 2 (its policy and {@link grantTerms}) lives in terms-grant.ts and is re-exported
 * here. Framing (parse/format of whole commands and answers) stays in codec.ts; the wire fields are in
 * docs/protocol.md.
 */
import { BLOCKS_ALGORITHM, DEFAULT_BLOCK } from './blocks.ts';
import { fail, ok, type ParseResult } from './errors.ts';
import { isUploadId } from './codec.ts';
import { PROTOCOL_V2, type Answer, type ChecksumAlgorithm, type TransferType } from './messages.ts';

/**
 * The extensions a v2 client offers in `STOR`'s `ext` field. Every field is optional on the wire; an absent
 * field is not offered. A v1 server ignores the whole object.
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
  /** With `sha256-blocks` offered: the block size the client would like, in bytes. */
  block?: number;
  /** The client will send FIN after the last chunk and wait for its answer. */
  fin: boolean;
  /** The client can keep to a byte credit (`credit` in the grant and in acks) instead of a chunk window. */
  credit?: boolean;
  /** The client may send another STOR on this connection once this upload's FIN is sent. */
  reuse?: boolean;
  /** The client watches for the server's keep-alive messages (`ALIVE`) to tell a dead connection. */
  alive?: boolean;
  /**
   * Bytes of data that follow this STOR before its answer (early data, docs/protocol.md §3.9); offering the
   * field at all, even 0, asks whether the server takes early data.
   */
  early?: number;
  /**
   * The client takes a DATA ack that covers several chunks (docs/protocol.md §3.10): the server may ack
   * once per this many bytes instead of once per chunk.
   */
  coalesce?: number;
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
  /** The checksum the server checks (per block, or on FIN for `sha256`), or null for none. */
  checksum: ChecksumAlgorithm | null;
  /** With `sha256-blocks` granted: the block size, in bytes. */
  block?: number;
  /** The server expects FIN and answers it once the file is durably in place. */
  fin: boolean;
  /** When the partial upload is deleted if nobody continues it (ISO 8601). */
  expires: string;
  /** Bytes the client may keep unacknowledged, replacing `window` (acks may change it); absent: chunks. */
  credit?: number;
  /**
   * With `credit`: bytes the server may hold acknowledgements back for (it stores in larger units: S3 parts);
   * the client keeps its own bound at least this large, within the credit (§3.2).
   */
  hold?: number;
  /** The server takes another STOR on this connection after this upload's FIN. */
  reuse?: boolean;
  /** Milliseconds between the server's `ALIVE` messages on this connection; absent: none are sent. */
  alive?: number;
  /** The server takes early data after a later STOR on this connection, and FIN before the last acks. */
  early?: boolean;
  /** One DATA ack may cover several chunks, up to this many bytes (§3.10); absent: one ack per chunk. */
  coalesce?: number;
}

/** A v2 `STOR` answer, after {@link readGrant} checked it. */
export interface StorAnswerV2 {
  v: number;
  /** The upload id: an unguessable capability token the client keeps to resume. */
  id: string;
  /** Bytes the server already holds: the client continues from here, whatever it believes it sent. */
  offset: number;
  ext: StorGrant;
}

/** What one conversation agreed, whichever version it speaks. Read-only: terms do not change mid-upload. */
export interface Terms {
  /** The protocol version: 1 (the 2012 protocol) or the version of the server's grant. */
  readonly version: number;
  /** How chunks travel. */
  readonly encoding: TransferType;
  /** Chunks the sender may keep unacknowledged at once; v1 is stop-and-wait (1). */
  readonly window: number;
  /** The largest chunk in bytes the receiver takes; v1 sets no limit (Infinity: the sender chooses). */
  readonly maxChunk: number;
  /** The integrity check agreed (per block, or the whole file on FIN); null: none. */
  readonly integrity: ChecksumAlgorithm | null;
  /** The block size under `sha256-blocks`; 0 otherwise. */
  readonly block: number;
  /** The sender ends with FIN and success waits for its answer (the file is durable); v1: no FIN. */
  readonly fin: boolean;
  /** The upload has an id and can be continued on another connection; v1 cannot. */
  readonly resumable: boolean;
  /** When the server forgets an unfinished upload (ms since the epoch); null when nothing was said. */
  readonly expires: number | null;
  /** Bytes the sender may keep unacknowledged (acks may change it); null: the chunk `window` applies. */
  readonly credit: number | null;
  /** Under a credit: the least the sender's own bound keeps in flight (the server holds acks back); 0: none. */
  readonly hold: number;
  /** Another STOR may follow this upload's FIN on the same connection. */
  readonly reuse: boolean;
  /** Milliseconds between the server's keep-alive messages; null: none (v1, or not granted). */
  readonly alive: number | null;
  /** Data (and FIN) may follow a later STOR on this connection before its answer; FIN may precede the acks. */
  readonly early: boolean;
  /** Bytes one DATA ack may cover (several chunks); 0: every chunk is acked on its own (v1, not agreed). */
  readonly coalesce: number;
}

/** Protocol v1: the smallest set of terms, what a conversation has when no grant came back. */
export const V1_TERMS: Terms = Object.freeze({
  version: 1,
  encoding: 'base64',
  window: 1,
  maxChunk: Number.POSITIVE_INFINITY,
  integrity: null,
  block: 0,
  fin: false,
  resumable: false,
  expires: null,
  credit: null,
  hold: 0,
  reuse: false,
  alive: null,
  early: false,
  coalesce: 0,
});

/**
 * The v1 terms for a client that announced `type` in its STOR (v1 already lets a client send binary frames).
 *
 * @param encoding - the STOR's `type`
 * @returns {@link V1_TERMS} with that encoding
 */
export function v1Terms(encoding: TransferType): Terms {
  return encoding === V1_TERMS.encoding ? V1_TERMS : Object.freeze({ ...V1_TERMS, encoding });
}

/** What a client wants for one upload; {@link buildOffer} turns it into an offer. */
export interface OfferWish {
  /** Chunks to keep in flight. */
  window: number;
  /** Chunk size in bytes. */
  chunk: number;
  /** The id of an upload to continue, or null to start afresh. */
  resume: string | null;
  /** Whether to verify the upload by block SHA-256 (the caller checks that it can hash). */
  checksum: boolean;
  /** The file's MIME type (informational). */
  mime: string;
  /** The file's lastModified, when it has one (informational). */
  lastModified?: number;
  /** Whether to offer a byte credit (default: offered). */
  credit?: boolean;
  /** Whether to offer another STOR on the connection after FIN (default: not offered). */
  reuse?: boolean;
  /** Whether to ask for the server's keep-alive messages (default: asked). */
  alive?: boolean;
  /** Bytes of early data that follow the STOR (default 0: none, but early data is still asked about). */
  early?: number;
  /** Bytes one ack may cover, to offer (default {@link DEFAULT_COALESCE}; 0: one ack per chunk). */
  coalesce?: number;
}

/**
 * Bytes a client offers one DATA ack may cover: one block of `sha256-blocks` (4 MiB), where the server has a
 * verdict to tell anyway. Measured (issue 11): one ack per chunk was a text message through the network
 * service and the page per MiB, and a socket write on the server.
 */
export const DEFAULT_COALESCE = DEFAULT_BLOCK;

/**
 * What this client offers: always binary frames and FIN (durable completion); window, chunk, resume and
 * checksum as wished; a byte credit unless told not to; connection reuse when wished.
 *
 * @param wish - the client's settings for this upload
 * @returns the offer
 */
export function buildOffer(wish: OfferWish): StorOffer {
  const offer: StorOffer = {
    binary: true,
    window: wish.window,
    chunk: wish.chunk,
    resume: wish.resume,
    checksum: wish.checksum ? [BLOCKS_ALGORITHM] : [],
    fin: true,
    mime: wish.mime,
  };
  if (wish.credit !== false) offer.credit = true;
  if (wish.reuse === true) offer.reuse = true;
  if (wish.alive !== false) offer.alive = true;
  offer.early = wish.early ?? 0;
  const coalesce = wish.coalesce ?? DEFAULT_COALESCE;
  if (coalesce > 0) offer.coalesce = coalesce;
  if (wish.checksum) offer.block = DEFAULT_BLOCK;
  if (typeof wish.lastModified === 'number') offer.lastModified = wish.lastModified;
  return offer;
}

/**
 * The offer as `STOR`'s `ext` object, fields in wire order (binary, window, chunk, resume, checksum, fin,
 * credit, reuse, alive, early, coalesce, mime, lastModified); absent optional fields are left out.
 *
 * @param offer - from {@link buildOffer}
 * @returns the object for `formatStor`'s `ext`
 */
export function offerExt(offer: StorOffer): Record<string, unknown> {
  const ext: Record<string, unknown> = {
    binary: offer.binary,
    window: offer.window,
    chunk: offer.chunk,
    resume: offer.resume,
    checksum: offer.checksum,
    ...(offer.block !== undefined ? { block: offer.block } : {}),
    fin: offer.fin,
  };
  if (offer.credit !== undefined) ext.credit = offer.credit;
  if (offer.reuse !== undefined) ext.reuse = offer.reuse;
  if (offer.alive !== undefined) ext.alive = offer.alive;
  if (offer.early !== undefined) ext.early = offer.early;
  if (offer.coalesce !== undefined) ext.coalesce = offer.coalesce;
  if (offer.mime !== undefined) ext.mime = offer.mime;
  if (offer.lastModified !== undefined) ext.lastModified = offer.lastModified;
  return ext;
}

/**
 * Reads the extensions a client offered in `STOR`'s raw `ext` object. Unknown fields are ignored (a later
 * client may offer more); known fields of the wrong type are refused. Never throws.
 *
 * @param ext - the `ext` of a `StorCommand`
 * @returns the offer, with defaults (nothing offered) for absent fields
 */
export function readOffer(ext: Record<string, unknown>): ParseResult<StorOffer> {
  const offer: StorOffer = { binary: false, window: 1, chunk: 0, resume: null, checksum: [], fin: false };
  if (ext.binary !== undefined) {
    if (typeof ext.binary !== 'boolean') return fail('badField', 'ext "binary" must be a boolean.');
    offer.binary = ext.binary;
  }
  for (const field of ['fin', 'credit', 'reuse', 'alive'] as const) {
    const value = ext[field];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') return fail('badField', `ext "${field}" must be a boolean.`);
    offer[field] = value;
  }
  for (const field of ['window', 'chunk', 'block', 'coalesce'] as const) {
    const value = ext[field];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      return fail('badField', `ext "${field}" must be a positive integer.`);
    }
    offer[field] = value;
  }
  if (ext.early !== undefined) {
    const { early } = ext;
    if (typeof early !== 'number' || !Number.isSafeInteger(early) || early < 0) {
      return fail('badField', 'ext "early" must be an integer ≥ 0.');
    }
    offer.early = early;
  }
  if (ext.resume !== undefined && ext.resume !== null) {
    if (!isUploadId(ext.resume)) return fail('badField', 'ext "resume" must be an upload id or null.');
    offer.resume = ext.resume;
  }
  if (ext.checksum !== undefined) {
    if (!Array.isArray(ext.checksum) || ext.checksum.length > 16) {
      return fail('badField', 'ext "checksum" must be a list of algorithm names.');
    }
    offer.checksum = ext.checksum.filter(
      (name): name is ChecksumAlgorithm => name === 'sha256' || name === BLOCKS_ALGORITHM,
    );
  }
  if (typeof ext.mime === 'string') offer.mime = ext.mime.slice(0, 255);
  if (typeof ext.lastModified === 'number' && Number.isFinite(ext.lastModified)) {
    offer.lastModified = ext.lastModified;
  }
  return ok(offer);
}

/**
 * Reads the byte credit an answer carries (a v2 STOR answer's `ext.credit`, a DATA ack's `credit`).
 *
 * @param value - the field's value
 * @returns the credit in bytes, or null when absent or not a positive integer
 */
export function readCredit(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 ? value : null;
}

/**
 * Reads a `STOR` answer with code 200 as v2, or tells that it is v1. An answer without `v` (or with
 * `v: 1`) is v1 — the 2012 servers never send it. A `v` of 2 or more with missing or malformed v2 fields
 * is refused: half a negotiation must not be guessed at. Never throws.
 *
 * @param answer - a parsed STOR answer
 * @returns the v2 fields, or null for a v1 answer
 */
export function readGrant(answer: Answer): ParseResult<StorAnswerV2 | null> {
  const { v, id, offset, ext } = answer;
  if (v === undefined || v === 1) return ok(null);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < PROTOCOL_V2) {
    return fail('badAnswer', 'The STOR answer\'s "v" is not a protocol version.');
  }
  if (!isUploadId(id)) return fail('badAnswer', 'The STOR answer has no valid "id".');
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    return fail('badAnswer', 'The STOR answer has no valid "offset".');
  }
  if (ext === null || typeof ext !== 'object' || Array.isArray(ext)) {
    return fail('badAnswer', 'The STOR answer has no "ext" object.');
  }
  const raw = ext as Record<string, unknown>;
  const { binary, window, maxChunk, checksum, block, fin, expires } = raw;
  if (typeof binary !== 'boolean' || typeof fin !== 'boolean') {
    return fail('badAnswer', 'The STOR answer\'s "binary" and "fin" must be booleans.');
  }
  for (const [name, value] of [
    ['window', window],
    ['maxChunk', maxChunk],
  ] as const) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      return fail('badAnswer', `The STOR answer's "${name}" must be a positive integer.`);
    }
  }
  if (checksum !== null && checksum !== undefined && checksum !== 'sha256' && checksum !== BLOCKS_ALGORITHM) {
    return fail('badAnswer', 'The STOR answer grants an unknown checksum.');
  }
  if (raw.credit !== undefined && readCredit(raw.credit) === null) {
    return fail('badAnswer', 'The STOR answer\'s "credit" must be a positive integer.');
  }
  if (raw.hold !== undefined && readCredit(raw.hold) === null) {
    return fail('badAnswer', 'The STOR answer\'s "hold" must be a positive integer.');
  }
  for (const field of ['reuse', 'early'] as const) {
    if (raw[field] !== undefined && typeof raw[field] !== 'boolean') {
      return fail('badAnswer', `The STOR answer's "${field}" must be a boolean.`);
    }
  }
  if (raw.coalesce !== undefined && readCredit(raw.coalesce) === null) {
    return fail('badAnswer', 'The STOR answer\'s "coalesce" must be a positive integer of bytes.');
  }
  if (raw.alive !== undefined && readCredit(raw.alive) === null) {
    return fail('badAnswer', 'The STOR answer\'s "alive" must be a positive integer of milliseconds.');
  }
  const blockValid = typeof block === 'number' && Number.isSafeInteger(block) && block >= 1;
  if (checksum === BLOCKS_ALGORITHM && !blockValid) {
    return fail('badAnswer', 'The STOR answer grants sha256-blocks without a valid "block" size.');
  }
  const grant: StorGrant = {
    binary,
    window: window as number,
    maxChunk: maxChunk as number,
    checksum: checksum ?? null,
    ...(checksum === BLOCKS_ALGORITHM ? { block: block as number } : {}),
    fin,
    expires: typeof expires === 'string' ? expires : '',
  };
  if (raw.credit !== undefined) grant.credit = raw.credit as number;
  if (raw.hold !== undefined) grant.hold = raw.hold as number;
  if (raw.reuse === true) grant.reuse = true;
  if (raw.alive !== undefined) grant.alive = raw.alive as number;
  if (raw.early === true) grant.early = true;
  if (raw.coalesce !== undefined) grant.coalesce = raw.coalesce as number;
  return ok({ v, id, offset, ext: grant });
}

/** The client's own limits, which a grant can narrow but never widen. */
export interface ClientLimits {
  /** The window the client offered. */
  window: number;
  /** The encoding the client's STOR announced, used when binary was not granted. */
  encoding: TransferType;
  /** Whether the client offered a byte credit (default: yes) and connection reuse (default: no). */
  credit?: boolean;
  reuse?: boolean;
  /** Whether the client offered acks that cover several chunks (default: yes). */
  coalesce?: boolean;
}

/**
 * The terms a client sends under after a v2 grant: the grant, narrowed by what the client itself asked for.
 *
 * @param stored - from {@link readGrant}
 * @param limits - what the client offered
 * @returns the agreed terms
 */
export function agreedTerms(stored: StorAnswerV2, limits: ClientLimits): Terms {
  const grant = stored.ext;
  const expires = Date.parse(grant.expires);
  return Object.freeze({
    version: stored.v,
    encoding: grant.binary ? 'binary' : limits.encoding,
    window: Math.max(1, Math.min(grant.window, limits.window)),
    maxChunk: grant.maxChunk,
    integrity: grant.checksum,
    block: grant.checksum === BLOCKS_ALGORITHM ? (grant.block ?? 0) : 0,
    fin: grant.fin,
    resumable: true,
    expires: Number.isFinite(expires) ? expires : null,
    credit: limits.credit !== false ? (grant.credit ?? null) : null,
    hold: limits.credit !== false && grant.credit !== undefined ? (grant.hold ?? 0) : 0,
    reuse: limits.reuse === true && grant.reuse === true && grant.fin,
    alive: grant.alive ?? null,
    early: grant.early === true && grant.fin && grant.binary,
    coalesce: limits.coalesce !== false ? (grant.coalesce ?? 0) : 0,
  });
}

/** {@link readOffer} under its earlier name (codec.ts exported it before terms.ts existed). */
export const parseStorOffer = readOffer;
/** {@link readGrant} under its earlier name (codec.ts exported it before terms.ts existed). */
export const parseStorAnswer = readGrant;

export { grantTerms, type GrantPolicy } from './terms-grant.ts';
