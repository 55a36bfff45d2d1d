/**
 * Finding what a v2 STOR's `resume` id names: a partial upload to continue (taken for this connection), a
 * committed upload whose FIN answer was lost, or nothing the client may have — then the refusal to send.
 * Ownership, the takeover of an upload another connection holds (the owner's newer connection wins, see
 * upload-holders.ts), and the 409 when that connection does not let go in time are decided here, not in the
 * session.
 */
import { Status } from '../protocol/index.ts';
import { Refusal } from './refusal.ts';
import type { SessionServices } from './session-events.ts';
import type { CompletedUpload, PartialUpload } from './stores/store.ts';

// What a client whose upload another connection did not let go of is told to wait before it retries.
export const HELD_RETRY_AFTER = 1000;

/** The resume a STOR asks for. */
export interface ResumeRequest {
  id: string;
  /** The size the STOR declares: a different file under the same id is not resumed. */
  size: number;
  /** Who is asking (see the session's owner); null for nobody identified. */
  owner: string | null;
  /** Whether the connection closed meanwhile: the lookup then stops at the next await. */
  closed(): boolean;
}

/** What a resume found. */
export type ResumeOutcome =
  | { kind: 'partial'; partial: PartialUpload }
  | { kind: 'stored'; record: CompletedUpload }
  | { kind: 'refused'; refusal: Refusal }
  | { kind: 'closed' };

const CLOSED: ResumeOutcome = { kind: 'closed' };

/**
 * Looks the id up. A partial upload found is held for this connection before this returns, so that a second
 * connection cannot take it during the admission's awaits (the caller registers itself as its holder, and
 * releases it if the STOR goes no further). One held by another connection is taken over: that
 * connection is closed, and its upload taken once its session let go (bounded by the registry's wait, then
 * 409).
 *
 * @param services - where partial uploads are opened (`store`), the server's records of committed uploads
 *   (`records`) and its registry of which connection holds which upload (`holders`)
 * @param request - the id, the declared size, who asks
 * @returns the outcome
 */
export async function findResume(services: SessionServices, request: ResumeRequest): Promise<ResumeOutcome> {
  const { store, records, holders } = services;
  const { id, size, owner } = request;
  const found = await store.open?.(id);
  if (request.closed()) return CLOSED;
  const record = found ? undefined : await records.recall(id);
  if (request.closed()) return CLOSED;
  const answered = storedOutcome(record, size, owner);
  if (answered) return answered;
  // Unknown, expired and "a different file under the same id" look alike: the client starts afresh. The
  // connection stays open for that fresh STOR.
  if (!found || found.size !== size) {
    return { kind: 'refused', refusal: new Refusal('STOR', Status.notFound, UNKNOWN, { keepOpen: true }) };
  }
  if (found.owner !== null && found.owner !== owner) return refused(Status.forbidden, NOT_YOURS);
  // The owner resuming: the newer connection wins, the old one (often dead without a FIN) is closed.
  if (found.held) {
    await holders.takeOver(found, request.closed);
    if (request.closed()) return CLOSED;
    // The old connection may have committed the upload as it let go (its FIN was queued or being
    // committed): the record answers then, as for a FIN answer that was lost, and nothing is written twice.
    const committed = storedOutcome(await records.recall(id), size, owner);
    if (request.closed()) return CLOSED;
    if (committed) return committed;
  }
  if (request.closed()) return CLOSED;
  if (found.held) {
    return {
      kind: 'refused',
      refusal: new Refusal('STOR', Status.conflict, 'This upload is in use by another connection.', {
        retryAfter: HELD_RETRY_AFTER,
      }),
    };
  }
  found.hold();
  return { kind: 'partial', partial: found };
}

/** What a committed upload's record means for a resume of it: the stored answer, or 403; undefined: none. */
function storedOutcome(
  record: CompletedUpload | undefined,
  size: number,
  owner: string | null,
): ResumeOutcome | undefined {
  if (!record || record.size !== size || record.expiresAt <= Date.now()) return undefined;
  if (record.owner !== null && record.owner !== owner) return refused(Status.forbidden, NOT_YOURS);
  return { kind: 'stored', record };
}

const NOT_YOURS = 'This upload belongs to another user.';
const UNKNOWN = 'Unknown or expired upload id.';

function refused(code: number, message: string): ResumeOutcome {
  return { kind: 'refused', refusal: new Refusal('STOR', code, message) };
}
