/**
 * FIN, the session's end of a v2 upload (docs/protocol.md): a FIN repeated after a resume of a committed
 * upload (its answer was lost) is answered from the record; otherwise the size and the agreed checksum are
 * checked (session-integrity.ts), the upload committed and its record kept, then answered. Returns what to
 * answer (or refuse); the session sends it.
 */
import { Status, type Answer, type FinCommand } from '../protocol/index.ts';
import { finAnswer } from './agreement.ts';
import { Refusal } from './refusal.ts';
import { finIntegrity, repeatedFin } from './session-integrity.ts';
import { READY, type ReceivingUpload, type SessionStateMachine } from './session-state.ts';
import type { CompletedUpload } from './stores/store.ts';
import type { UploadRecords } from './upload-records.ts';

/** What answering FIN needs of the session. */
export interface FinSide {
  /** The session's state: `receiving` (the upload to finish) or `finished` (a FIN repeated). */
  machine: SessionStateMachine;
  /** Commits the upload (and ends its receiving); @returns the stored filename */
  commit(upload: ReceivingUpload): Promise<string>;
  /** The server's records of committed uploads, where the FIN answer is kept for a resume. */
  records: UploadRecords;
  /** How long a committed upload's record is kept (ms). */
  partialExpiry: number;
}

/**
 * @param fin - the FIN command
 * @param side - the session's side
 * @returns the FIN answer, or a refusal
 */
export async function answerFin(fin: FinCommand, side: FinSide): Promise<Answer | Refusal> {
  const { state } = side.machine;
  if (state.name === 'finished') {
    side.machine.to(READY);
    const { record, id } = state;
    return repeatedFin(record, fin) ?? finAnswer(id, record);
  }
  const upload = side.machine.upload;
  if (!upload?.agreement.terms.fin) {
    return new Refusal('FIN', Status.badRequest, 'FIN without an upload that agreed to it.');
  }
  if (fin.size !== upload.size || upload.received !== upload.size) {
    const message = `Size mismatch: STOR said ${upload.size}, FIN says ${fin.size}, the server holds ${upload.received}.`;
    return new Refusal('FIN', Status.checksumMismatch, message, { discard: true });
  }
  const checked = await finIntegrity(upload, fin);
  if (checked instanceof Refusal) return checked;
  const { checksum, contentHash } = checked;
  const { id, owner } = upload.partial;
  const filename = await side.commit(upload);
  const record: CompletedUpload = {
    size: upload.size,
    filename,
    checksum,
    ...(contentHash ? { contentHash } : {}),
    owner,
    expiresAt: Date.now() + side.partialExpiry,
  };
  // Kept before the answer, so that an answer lost in a crash is still recoverable after the restart.
  await side.records.remember(id, record);
  return finAnswer(id, record);
}
