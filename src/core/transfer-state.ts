/**
 * The transfer's state machine: its states, the one transitions table, and the progress figures derived
 * from the counts. The transfer holds one state field and changes it only through {@link assertTransition}.
 */
import type { ProgressDetail } from './events.ts';

/**
 * Where a transfer is. One field, changed only through legal moves:
 *
 * | from | to |
 * |---|---|
 * | `idle` | `connecting` (start), `aborted` |
 * | `connecting` | `authenticating` (open, with credentials), `storing` (open), `failed`, `aborted` |
 * | `authenticating` | `storing` (AUTH answered 200), `failed`, `aborted` |
 * | `storing` | `sending` (STOR answered 200), `complete` (empty file), `finishing` (v2, nothing left), `failed`, `aborted` |
 * | `sending` | `complete` (last chunk acknowledged, v1), `finishing` (v2: FIN sent), `failed`, `aborted` |
 * | `finishing` | `complete` (FIN answered 200), `failed`, `aborted` |
 * | `retrying` | `connecting` (after the retry delay, and once online), `failed`, `aborted` |
 *
 * Under v2 every state from `connecting` to `finishing` may also move to `retrying` when the connection
 * drops. `complete`, `failed` and `aborted` are final: the upload stopped, and they are the only ways it
 * stops (the queue and the element use the same three words, see `UploadStatus`).
 */
export type TransferState =
  | 'idle'
  | 'connecting'
  | 'authenticating'
  | 'storing'
  | 'sending'
  | 'finishing'
  | 'retrying'
  | 'complete'
  | 'failed'
  | 'aborted';

/** The final states: how a transfer stopped. */
export type StoppedState = Extract<TransferState, 'complete' | 'failed' | 'aborted'>;

/** Every legal move, by state. */
export const TRANSITIONS: Readonly<Record<TransferState, readonly TransferState[]>> = {
  idle: ['connecting', 'aborted'],
  connecting: ['authenticating', 'storing', 'failed', 'aborted', 'retrying'],
  authenticating: ['storing', 'failed', 'aborted', 'retrying'],
  storing: ['sending', 'complete', 'finishing', 'failed', 'aborted', 'retrying'],
  sending: ['complete', 'finishing', 'failed', 'aborted', 'retrying'],
  finishing: ['complete', 'failed', 'aborted', 'retrying'],
  retrying: ['connecting', 'failed', 'aborted'],
  complete: [],
  failed: [],
  aborted: [],
};

/**
 * @param from - the current state
 * @param to - the next state
 * @throws Error when the move is not in {@link TRANSITIONS}: a bug in the transfer, not a caller's mistake,
 *   so it fails loudly rather than corrupt the conversation
 */
export function assertTransition(from: TransferState, to: TransferState): void {
  if (!TRANSITIONS[from].includes(to)) {
    throw new Error(`WebSocketFileTransfer: illegal state change ${from} → ${to}.`);
  }
}

/**
 * @param state - a state
 * @returns true from `connecting` to `retrying`: a conversation is (or is about to be) under way
 */
export function isActive(state: TransferState): boolean {
  return state !== 'idle' && state !== 'complete' && state !== 'failed' && state !== 'aborted';
}

/** The counts the figures are derived from. */
export interface Counts {
  loaded: number;
  sent: number;
  total: number;
  /** Seconds since start. */
  elapsedTime: number;
  complete: boolean;
  file: Blob;
}

/**
 * The figures of a `progress` (and `success`, `abort`) event.
 *
 * @param counts - bytes acknowledged, sent and in all, time elapsed
 * @returns the detail
 */
export function progressFigures(counts: Counts): ProgressDetail {
  const { loaded, sent, total, elapsedTime, complete, file } = counts;
  const speed = elapsedTime > 0 ? loaded / elapsedTime : 0;
  const done = loaded >= total && (total > 0 || complete);
  return {
    loaded,
    sent,
    total,
    percentage: total === 0 ? (done ? 100 : 0) : (loaded / total) * 100,
    speed,
    elapsedTime,
    remainingTime: done ? 0 : speed > 0 ? (total - loaded) / speed : Infinity,
    file,
  };
}
