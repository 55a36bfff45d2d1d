/**
 * What the server agreed for one upload, and the answers whose shape depends on it. The grant itself is
 * computed by the protocol's `grantTerms` (src/protocol/terms.ts), the one place either side computes one;
 * this module wraps the result for the session. v1 and v2 are two objects with the same interface — the
 * session asks the agreement instead of branching on the version.
 */
import {
  agreedTerms,
  BLOCKS_ALGORITHM,
  grantTerms,
  PROTOCOL_V2,
  Status,
  v1Terms,
  type Answer,
  type GrantPolicy,
  type StorOffer,
  type Terms,
  type TransferType,
} from '../protocol/index.ts';
import { MAX_COALESCE } from './ack-coalescer.ts';
import type { ResolvedOptions } from './options.ts';
import type { CompletedUpload } from './stores/store.ts';

export type { GrantPolicy };

/** The server's agreement with one upload: the terms, and how its answers look. */
export interface Agreement {
  /** What the upload agreed: v1 is the smallest set (no window, no FIN, no checksum, not resumable). */
  readonly terms: Terms;
  /**
   * The STOR answer that accepts the upload (v2: with the id, the offset to continue from and the grant).
   *
   * @param id - the upload id
   * @param offset - bytes the server already holds
   */
  accepted(id: string, offset: number): Answer;
  /**
   * The DATA answer for a chunk that was written (v2: with the offset the server now holds).
   *
   * @param bytesRead - the chunk's size
   * @param offset - bytes held after it
   */
  ack(bytesRead: number, offset: number): Answer;
  /** The 2012 client sends one empty data frame for an empty file; it is answered, not refused. */
  readonly emptyFrameForEmptyFile: boolean;
}

const ACCEPTED = 'Upload initialized. Wait for data';

/**
 * The server's side of a grant: its limits, when the partial upload expires, blocks, its byte credit.
 *
 * @param options - the server's options
 * @param expiresAt - when the partial upload expires (ms since the epoch; not finite: the default expiry)
 * @param blocks - whether its store can check blocks
 * @param credit - the byte credit to grant, if any
 * @param hold - the bytes its store may hold acks back for (with a credit only; see terms `hold`)
 * @returns the policy for `grantTerms`
 */
export function grantPolicy(
  options: ResolvedOptions,
  expiresAt: number,
  blocks: boolean,
  credit?: number,
  hold?: number,
): GrantPolicy {
  const { maxWindow, maxChunk, maxPayload, partialExpiry, reuseConnections, aliveInterval } = options;
  return {
    maxWindow,
    maxChunk: Math.min(maxChunk, maxPayload),
    expiresAt: Number.isFinite(expiresAt) ? expiresAt : Date.now() + partialExpiry,
    ...(credit !== undefined ? { credit, hold } : {}),
    reuse: reuseConnections,
    early: true,
    blocks,
    alive: aliveInterval,
    coalesce: MAX_COALESCE,
  };
}

/**
 * Protocol v1: what a STOR without a v2 offer gets.
 *
 * @param encoding - the STOR's `type`
 * @returns the agreement
 */
export function v1Agreement(encoding: TransferType): Agreement {
  return {
    terms: v1Terms(encoding),
    accepted: () => ({ type: 'STOR', code: Status.ok, message: ACCEPTED }),
    ack: (bytesRead) => ({ type: 'DATA', code: Status.ok, bytesRead }),
    emptyFrameForEmptyFile: true,
  };
}

/**
 * Protocol v2: grants the offer through `grantTerms` and reads the grant back as terms, as a client would.
 *
 * @param offer - what the STOR offered
 * @param policy - the server's limits and the upload's expiry
 * @returns the agreement
 */
export function v2Agreement(offer: StorOffer, policy: GrantPolicy): Agreement {
  const grant = grantTerms(offer, policy);
  // Chunks not granted as binary travel as base64 text, whatever `type` the STOR announced.
  const terms = agreedTerms(
    { v: PROTOCOL_V2, id: '-', offset: 0, ext: grant },
    { window: grant.window, encoding: 'base64', reuse: true },
  );
  return {
    terms,
    accepted: (id, offset) => ({
      type: 'STOR',
      code: Status.ok,
      message: ACCEPTED,
      v: PROTOCOL_V2,
      id,
      offset,
      ext: grant,
    }),
    ack: (bytesRead, offset) => ({ type: 'DATA', code: Status.ok, bytesRead, offset }),
    emptyFrameForEmptyFile: false,
  };
}

/**
 * The STOR answer for a resume of an upload that is already committed (its FIN answer was lost): the grant
 * of the same function, for an upload that only has its FIN left — binary, FIN, the checksum it was stored
 * with.
 *
 * @param id - the upload id
 * @param record - what the server remembers of the committed upload
 * @param offer - what the resuming STOR offered
 * @param policy - the server's limits (the expiry is the record's)
 * @returns the answer
 */
export function storedAnswer(
  id: string,
  record: CompletedUpload,
  offer: StorOffer,
  policy: Omit<GrantPolicy, 'expiresAt'>,
): Answer {
  const finOnly: StorOffer = {
    ...offer,
    binary: true,
    fin: true,
    checksum: record.contentHash ? [BLOCKS_ALGORITHM] : record.checksum ? ['sha256'] : [],
  };
  return {
    type: 'STOR',
    code: Status.ok,
    message: 'Upload already stored. Send FIN',
    v: PROTOCOL_V2,
    id,
    offset: record.size,
    ext: grantTerms(finOnly, { ...policy, expiresAt: record.expiresAt }),
  };
}

/** The FIN answer for a committed upload (also for a repeated FIN of one whose answer was lost). */
/**
 * @param id - the upload id
 * @param record - what was stored
 * @returns the FIN answer
 */
export function finAnswer(id: string, record: CompletedUpload): Answer {
  return {
    type: 'FIN',
    code: Status.ok,
    message: 'Stored',
    id,
    size: record.size,
    ...(record.checksum ? { checksum: record.checksum } : {}),
    ...(record.contentHash ? { contentHash: record.contentHash } : {}),
    filename: record.filename,
  };
}
