/**
 * The server's side of a negotiation (step 2 of terms.ts): its policy, and the one function that turns a
 * client's offer into the grant it answers with. Pure; re-exported by terms.ts, which owns the rest.
 */
import { BLOCKS_ALGORITHM, DEFAULT_BLOCK, MAX_BLOCK, MIN_BLOCK } from './blocks.ts';
import type { StorGrant, StorOffer } from './terms.ts';

/** The server's side of a negotiation: its limits, and facts about the upload the grant is for. */
export interface GrantPolicy {
  /** The most chunks the server lets a client keep in flight. */
  maxWindow: number;
  /** The largest chunk the server takes, in bytes (already capped by its largest WebSocket message). */
  maxChunk: number;
  /** When the partial upload expires: ms since the epoch. */
  expiresAt: number;
  /** The byte credit to grant a client that offered one (absent: none; the chunk window applies). */
  credit?: number;
  /** With a credit: bytes the server may hold acks back for (its store acknowledges in large units). */
  hold?: number;
  /** Whether a client that offered it may send another STOR after FIN on the connection. */
  reuse?: boolean;
  /** Whether the server takes early data (and discards it as §3.9 says when it does not continue at 0). */
  early?: boolean;
  /** Whether the server can check blocks (its store can write a block again); false: `sha256` at most. */
  blocks?: boolean;
  /** Milliseconds between keep-alive messages for a client that asked for them (absent or 0: none). */
  alive?: number;
  /** The most bytes one DATA ack may cover for a client that offered `coalesce` (absent or 0: per chunk). */
  coalesce?: number;
}

/**
 * The checksum a server grants: `sha256-blocks` when offered and it can, else `sha256` when offered, else none.
 *
 * @param offer - what the client offered
 * @param blocks - whether the server can check blocks
 * @returns the algorithm and, for blocks, the block size (the offer's, within the server's bounds)
 */
function grantChecksum(offer: StorOffer, blocks: boolean): Pick<StorGrant, 'checksum' | 'block'> {
  // A block sent again travels as binary frames after BLK, so blocks go with binary only.
  if (blocks && offer.binary && offer.checksum.includes(BLOCKS_ALGORITHM)) {
    const block = Math.min(MAX_BLOCK, Math.max(MIN_BLOCK, offer.block ?? DEFAULT_BLOCK));
    return { checksum: BLOCKS_ALGORITHM, block };
  }
  return { checksum: offer.checksum.includes('sha256') ? 'sha256' : null };
}

/**
 * Bytes one DATA ack may cover: what both sides allow, and at most half of what the client keeps in flight
 * (its window of chunks in bytes, or its credit when smaller), so that acks keep coming while it sends
 * (§3.10).
 *
 * @param offer - what the client offered
 * @param policy - the server's side
 * @param grant - the grant so far (its window, largest chunk and credit)
 * @returns the bytes, or null when not granted (not offered, not allowed, or under two chunks' worth)
 */
function grantCoalesce(offer: StorOffer, policy: GrantPolicy, grant: StorGrant): number | null {
  if (offer.coalesce === undefined || policy.coalesce === undefined || policy.coalesce < 1) return null;
  const chunk = Math.min(offer.chunk || grant.maxChunk, grant.maxChunk);
  // The window in bytes is what the client starts with under a credit too (and all it keeps when its caller
  // set `window`): half of it, so the acks of one half come while the other is on the wire.
  const inFlight = Math.min(grant.credit ?? Number.POSITIVE_INFINITY, grant.window * chunk);
  const bytes = Math.floor(Math.min(offer.coalesce, policy.coalesce, inFlight / 2));
  // Less than two chunks is one ack per chunk anyway.
  return bytes >= 2 * chunk ? bytes : null;
}

/**
 * The server's grant for an offer: the one place a grant is computed. Takes what the client offered of
 * binary, checksum and FIN; the window is the smaller of the two sides' (at least 1); the largest chunk is
 * the server's; a byte credit and connection reuse only when both sides want them (absent otherwise, so an
 * older client's answer is unchanged).
 *
 * @param offer - from {@link readOffer}
 * @param policy - the server's limits and the upload's expiry
 * @returns the grant, fields in wire order, to send as the `STOR` answer's `ext`
 */
export function grantTerms(offer: StorOffer, policy: GrantPolicy): StorGrant {
  const grant: StorGrant = {
    binary: offer.binary,
    window: Math.max(1, Math.floor(Math.min(offer.window, policy.maxWindow))),
    maxChunk: policy.maxChunk,
    ...grantChecksum(offer, policy.blocks === true),
    fin: offer.fin,
    expires: new Date(policy.expiresAt).toISOString(),
  };
  if (offer.credit === true && policy.credit !== undefined)
    grant.credit = Math.max(1, Math.floor(policy.credit));
  if (grant.credit !== undefined && policy.hold !== undefined && policy.hold >= 1) {
    grant.hold = Math.floor(policy.hold);
  }
  // Reuse needs FIN: without it the client cannot tell when the server is ready for the next STOR.
  if (offer.reuse === true && policy.reuse === true && offer.fin) grant.reuse = true;
  if (offer.alive === true && policy.alive !== undefined && policy.alive >= 1) {
    grant.alive = Math.floor(policy.alive);
  }
  // Early data is binary frames only, and its FIN needs FIN agreed.
  if (offer.early !== undefined && policy.early === true && offer.fin && offer.binary) grant.early = true;
  const coalesce = grantCoalesce(offer, policy, grant);
  if (coalesce !== null) grant.coalesce = coalesce;
  return grant;
}
