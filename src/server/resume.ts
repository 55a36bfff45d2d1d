/**
 * Finding what a v2 STOR's `resume` id names: a partial upload to continue (taken for this connection), a
 * committed upload whose FIN answer was lost, or nothing the client may have — then the refusal to send.
 * Ownership, the grace for a previous connection still letting go, and the 409 for an upload held by a live
 * connection are decided here, not in the session.
 */
import { Status } from '../protocol/index.ts';
import { Refusal } from './refusal.ts';
import type { UploadRecords } from './upload-records.ts';
import type { CompletedUpload, PartialUpload, UploadStore } from './stores/store.ts';

// What a client that found its upload held by another connection is told to wait before it retries.
export const HELD_RETRY_AFTER = 1000;
// How long a resume waits for the upload's previous connection to let go before answering 409.
export const HELD_GRACE = 1000;
const HELD_POLL = 20;

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
 * connection cannot take it during the admission's awaits; the caller releases it if the STOR goes no
 * further.
 *
 * @param store - where partial uploads are opened
 * @param records - the server's records of committed uploads
 * @param request - the id, the declared size, who asks
 * @returns the outcome
 */
export async function findResume(
  store: UploadStore,
  records: UploadRecords,
  request: ResumeRequest,
): Promise<ResumeOutcome> {
  const { id, size, owner } = request;
  const found = await store.open?.(id);
  if (request.closed()) return CLOSED;
  const record = found ? undefined : await records.recall(id);
  if (request.closed()) return CLOSED;
  if (record && record.size === size && record.expiresAt > Date.now()) {
    if (record.owner !== null && record.owner !== owner) return refused(Status.forbidden, NOT_YOURS);
    return { kind: 'stored', record };
  }
  // Unknown, expired and "a different file under the same id" look alike: the client starts afresh. The
  // connection stays open for that fresh STOR.
  if (!found || found.size !== size) {
    return { kind: 'refused', refusal: new Refusal('STOR', Status.notFound, UNKNOWN, { keepOpen: true }) };
  }
  if (found.owner !== null && found.owner !== owner) return refused(Status.forbidden, NOT_YOURS);
  // A client that reconnects at once often finds its old connection's close still queued on the server:
  // give that release a moment before calling the upload taken.
  for (let waited = 0; found.held && waited < HELD_GRACE; waited += HELD_POLL) {
    await new Promise((resolve) => setTimeout(resolve, HELD_POLL));
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

const NOT_YOURS = 'This upload belongs to another user.';
const UNKNOWN = 'Unknown or expired upload id.';

function refused(code: number, message: string): ResumeOutcome {
  return { kind: 'refused', refusal: new Refusal('STOR', code, message) };
}
