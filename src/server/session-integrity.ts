/**
 * The session's side of integrity: what FIN must show (the whole-file `sha256`, or `sha256-blocks`), and
 * for block integrity (block-verifier.ts does the checking) where a resumed upload continues and what SUM,
 * BLK, an appended chunk and a frame of a block sent again are answered. Each function returns what to
 * answer (or refuse); the session sends it.
 */
import {
  BLOCKS_ALGORITHM,
  Status,
  type Answer,
  type BlkCommand,
  type FinCommand,
  type SumCommand,
  type Terms,
} from '../protocol/index.ts';
import { BlockVerifier, type BlockVerdict } from './block-verifier.ts';
import { Refusal } from './refusal.ts';
import type { ReceivingUpload } from './session-state.ts';
import type { CompletedUpload, PartialUpload } from './stores/store.ts';

/**
 * @param partial - the partial upload
 * @returns whether the store can write a block again, the condition for granting `sha256-blocks`
 */
export function canCheckBlocks(partial: PartialUpload): boolean {
  return typeof partial.rewrite === 'function' && typeof partial.truncate === 'function';
}

/**
 * The verifier for an upload that agreed `sha256-blocks`, after dropping what was held but not verified
 * (a resume continues at the end of the verified blocks).
 *
 * @param partial - the partial upload (fresh or resumed)
 * @param terms - what the upload agreed
 * @param size - the file's size
 * @returns the verifier, or null when blocks were not agreed
 */
export async function openBlocks(
  partial: PartialUpload,
  terms: Terms,
  size: number,
): Promise<BlockVerifier | null> {
  if (terms.integrity !== BLOCKS_ALGORITHM) return null;
  const verified = partial.verifiedOffset ?? 0;
  const offset = BlockVerifier.resumeOffset(size, terms.block, partial.offset, verified, partial);
  if (partial.offset > offset) await partial.truncate!(offset);
  return new BlockVerifier(size, terms.block, offset, partial);
}

/**
 * Tells a store that must not store unverified bytes (S3: a stored part cannot be written again) whether
 * this connection checks blocks, and where the verified bytes end. A separate step from
 * {@link openBlocks}: only such a store has it.
 *
 * @param partial - the partial upload
 * @param blocks - its verifier, or null when blocks were not agreed
 */
export function gateOnBlocks(partial: PartialUpload, blocks: BlockVerifier | null): void {
  partial.gateOnVerified?.(blocks ? () => blocks.verifiedOffset : null);
}

/**
 * SUM or BLK in the data: taken when blocks were agreed, else refused.
 *
 * @param blocks - the upload's verifier, or null
 * @param command - the command
 * @param received - the bytes the upload holds (a SUM comes right before the chunk its block starts in)
 * @param maxChunk - the largest chunk agreed
 * @returns a refusal, or null when taken (neither is answered)
 */
export function takeBlockCommand(
  blocks: BlockVerifier | null,
  command: SumCommand | BlkCommand,
  received: number,
  maxChunk: number,
): Refusal | null {
  if (!blocks) {
    const message = `${command.command} without an upload that agreed to ${BLOCKS_ALGORITHM}.`;
    return new Refusal('DATA', Status.badRequest, message);
  }
  return command.command === 'SUM'
    ? blocks.claim(command, received, maxChunk)
    : blocks.beginPatch(command.block);
}

/** Verified bytes between two checkpoints of the verified offset (see {@link checkpointVerified}). */
export const CHECKPOINT_BYTES = 16 * 1024 * 1024;

/**
 * After an appended chunk: waits while the hashing thread is full (the whole-file hash, block-verifier.ts),
 * and records the verified offset durably every {@link CHECKPOINT_BYTES}, so that a resume after a crash
 * (the process killed, a power cut) continues near where it was instead of from the last connection's end.
 * The data path does not wait for a checkpoint (it syncs the file's data first: a datasync every 16 MiB in
 * the data path stalled every upload ~0.3–0.4 s per 256 MiB on this machine's disk, issue 11); the acks
 * from there on do, so an acknowledged offset past a checkpoint still means that checkpoint is durable. The
 * store runs checkpoints one after another and lets its commit, release and discard wait for the one running.
 *
 * @param partial - the partial upload
 * @param blocks - its verifier
 * @returns the checkpoint started now, for the ack to wait for (it rejects when it failed), or undefined
 */
export async function checkpointVerified(
  partial: PartialUpload,
  blocks: BlockVerifier,
): Promise<Promise<void> | undefined> {
  // Not more than the hashing thread's bound of bytes waits there (block-verifier.ts, whole-file hash).
  await blocks.room();
  const verified = blocks.verifiedOffset;
  if (!partial.checkpoint || verified - (partial.verifiedOffset ?? 0) < CHECKPOINT_BYTES) return undefined;
  partial.verifiedOffset = verified;
  const started = partial.checkpoint();
  started.catch(() => undefined); // handled where the ack awaits it, or of no use when the session ended
  return started;
}

/**
 * The ack of an appended chunk, with the blocks to send again, or the refusal a verdict carries.
 *
 * @param ack - the ack as without blocks
 * @param verdicts - from {@link BlockVerifier.appended}
 * @returns the answer or the refusal
 */
export function ackWithVerdicts(ack: Answer, verdicts: BlockVerdict[]): Answer | Refusal {
  const resend: number[] = [];
  for (const verdict of verdicts) {
    if (verdict.kind === 'refused') return verdict.refusal;
    if (verdict.kind === 'resend') resend.push(verdict.block);
  }
  return resend.length > 0 ? { ...ack, resend } : ack;
}

/**
 * A frame of a block sent again after BLK: checked against what is left of the block, written in place.
 *
 * @param partial - the partial upload
 * @param blocks - its verifier, patching
 * @param frame - the frame
 * @returns the BLK answer once the block is complete, a refusal, or null while it is not complete
 */
export async function patchFrame(
  partial: PartialUpload,
  blocks: BlockVerifier,
  frame: Buffer,
): Promise<Answer | Refusal | null> {
  const position = blocks.patchPosition(frame.byteLength);
  if (position instanceof Refusal) return position;
  await partial.rewrite!(position, frame);
  const verdict = blocks.patched(frame);
  return verdict ? patchAnswer(verdict) : null;
}

/**
 * The answer to the last frame of a block sent again: verified, or to be sent once more; or the refusal.
 *
 * @param verdict - from {@link BlockVerifier.patched}
 * @returns the BLK answer, or the refusal
 */
export function patchAnswer(verdict: BlockVerdict): Answer | Refusal {
  if (verdict.kind === 'refused') return verdict.refusal;
  const verified = verdict.kind === 'verified';
  const message = verified ? 'Block verified' : 'Block damaged: send it again';
  return { type: 'BLK', code: Status.ok, message, block: verdict.block, verified };
}

/**
 * What FIN must show under block integrity: every block verified, and the content hash the client computed
 * equal to the server's (when the server knows every digest: not after a restart).
 *
 * @param blocks - the verifier
 * @param fin - the FIN command
 * @returns the content hash to record (undefined when neither side knows it), or a refusal
 */
export function finBlocks(blocks: BlockVerifier, fin: FinCommand): string | undefined | Refusal {
  const unverified = blocks.unverified();
  if (unverified) return unverified;
  const known = blocks.contentHash();
  // A client that resumed after a reload knows only the digests of the blocks it sent: it may leave the
  // content hash out. Every block was checked against its SUM either way.
  if (fin.checksum === undefined) return known;
  if (!fin.checksum.startsWith(`${BLOCKS_ALGORITHM}:`)) {
    return new Refusal(
      'FIN',
      Status.badRequest,
      `FIN's checksum must be the ${BLOCKS_ALGORITHM} content hash.`,
    );
  }
  if (known !== undefined && known !== fin.checksum) {
    const message = "Content hash mismatch: the block digests do not add up to the FIN's.";
    return new Refusal('FIN', Status.checksumMismatch, message, { discard: true });
  }
  return fin.checksum;
}

/** The checksums a FIN answer and the completion record carry. */
export interface FinChecksums {
  /** `sha256:<base64>` of the whole file, computed on this side; undefined when no checksum was agreed. */
  checksum: string | undefined;
  /** `sha256-blocks:<base64>` under block integrity. */
  contentHash: string | undefined;
}

/**
 * Checks a FIN against what the upload agreed: every block verified (`sha256-blocks`), or the whole file's
 * SHA-256 equal to the FIN's (`sha256`).
 *
 * @param upload - the upload, all of it received
 * @param fin - the FIN command
 * @returns the checksums to record, or a refusal
 */
export async function finIntegrity(
  upload: ReceivingUpload,
  fin: FinCommand,
): Promise<FinChecksums | Refusal> {
  const integrity = upload.agreement.terms.integrity;
  if (integrity === null) return { checksum: undefined, contentHash: undefined };
  let contentHash: string | undefined;
  if (upload.blocks) {
    const checked = finBlocks(upload.blocks, fin);
    if (checked instanceof Refusal) return checked;
    contentHash = checked;
  } else if (fin.checksum === undefined) {
    return new Refusal('FIN', Status.badRequest, 'FIN needs the checksum.');
  }
  // Under blocks too: the whole file's SHA-256, for an application to compare with sha256sum; hashed off the
  // event loop as the file came, unless it could not be (then, and without blocks, the store's).
  const hashed = upload.blocks?.fileSha256()?.catch(() => upload.partial.sha256());
  const checksum = `sha256:${Buffer.from(await (hashed ?? upload.partial.sha256())).toString('base64')}`;
  if (!upload.blocks && checksum !== fin.checksum) {
    const message = 'Checksum mismatch: the file was damaged on the way.';
    return new Refusal('FIN', Status.checksumMismatch, message, { discard: true });
  }
  return { checksum, contentHash };
}

/**
 * A FIN repeated for an upload already stored (its answer was lost): the same size and hash, or a refusal.
 *
 * @param record - what was stored
 * @param fin - the FIN command
 * @returns a refusal when it does not match, else null
 */
export function repeatedFin(record: CompletedUpload, fin: FinCommand): Refusal | null {
  const hash = record.contentHash ?? record.checksum;
  // Under blocks every block was verified before the commit: the content hash may be left out (see finBlocks).
  const sameHash =
    fin.checksum === undefined ? hash === undefined || hash === record.contentHash : fin.checksum === hash;
  if (fin.size === record.size && sameHash) return null;
  return new Refusal('FIN', Status.checksumMismatch, 'This upload was stored with another size or checksum.');
}
