/**
 * The transfer's state machine: its states, the one transitions table, and the progress figures derived
 * from the counts. The transfer holds one state field and changes it only through {@link assertTransition}.
 */
import type { ProgressDetail } from './events.ts';
import { PAUSE_REFUSAL_MESSAGES, type PauseRefusal } from './pause-refusal.ts';

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
 * | `retrying` | `connecting` (after the retry delay, and once online), `failed`, `aborted`, `paused` |
 * | `paused` | `aborted` (cancel: the server is told to delete the partial upload) |
 *
 * Under v2 every state from `connecting` to `finishing` may also move to `retrying` when the connection
 * drops. `connecting`, `authenticating`, `sending`, `finishing` and `retrying` may move to `paused` when
 * {@link pauseRefusal} allows it (never `storing`: its answer says whether the upload can resume).
 * `complete`, `failed`, `aborted` and `paused` are how the upload stops; only a cancel leaves `paused`, to
 * have the server delete the partial upload. `paused` keeps that partial upload and the resume record, so a
 * new transfer of the same file continues from the server's offset. (The queue and the element say
 * `cancelled` for `aborted`, see `UploadStatus`.)
 */
export type TransferState =
  | 'idle'
  | 'connecting'
  | 'authenticating'
  | 'storing'
  | 'sending'
  | 'finishing'
  | 'retrying'
  | 'paused'
  | 'complete'
  | 'failed'
  | 'aborted';

/** The final states: how a transfer stopped. */
export type StoppedState = Extract<TransferState, 'complete' | 'failed' | 'aborted' | 'paused'>;

/** Every legal move, by state. */
export const TRANSITIONS: Readonly<Record<TransferState, readonly TransferState[]>> = {
  idle: ['connecting', 'aborted'],
  connecting: ['authenticating', 'storing', 'failed', 'aborted', 'retrying', 'paused'],
  authenticating: ['storing', 'failed', 'aborted', 'retrying', 'paused'],
  storing: ['sending', 'complete', 'finishing', 'failed', 'aborted', 'retrying'],
  sending: ['complete', 'finishing', 'failed', 'aborted', 'retrying', 'paused'],
  finishing: ['complete', 'failed', 'aborted', 'retrying', 'paused'],
  retrying: ['connecting', 'failed', 'aborted', 'paused'],
  paused: ['aborted'],
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
  return (
    state !== 'idle' &&
    state !== 'complete' &&
    state !== 'failed' &&
    state !== 'aborted' &&
    state !== 'paused'
  );
}

// Why a pause is refused, and its message, live in pause-refusal.ts: the queue needs them before (and
// without) the transfer's code.
export { PAUSE_REFUSAL_MESSAGES, type PauseRefusal } from './pause-refusal.ts';
/**
 * @param state - the state of a transfer that `start()` was called on again
 * @returns the error it throws: a transfer runs once; create a new one to send again
 */
export function startedError(state: TransferState): DOMException {
  return new DOMException(
    `This transfer was already started or aborted (it is ${state}).`,
    'InvalidStateError',
  );
}

/**
 * @param refusal - why a pause was refused
 * @returns the error `pause()` throws: `InvalidStateError` when not running, else `NotSupportedError`
 */
export function pauseError(refusal: PauseRefusal): DOMException {
  const name = refusal === 'notRunning' ? 'InvalidStateError' : 'NotSupportedError';
  return new DOMException(`${refusal}: ${PAUSE_REFUSAL_MESSAGES[refusal]}`, name);
}

/** What {@link pauseRefusal} decides from. */
export interface PauseFacts {
  state: TransferState;
  /** Whether protocol v2 is offered and a resume store keeps records. */
  canResume: boolean;
  /** The server's upload id (a v2 grant), or null. */
  uploadId: string | null;
}

/**
 * @param facts - the transfer's state and agreement
 * @returns why it cannot pause now, or null when it can
 */
export function pauseRefusal({ state, canResume, uploadId }: PauseFacts): PauseRefusal | null {
  if (!isActive(state)) return 'notRunning';
  if (!canResume) return 'notResumable';
  // Before STOR nothing is stored on the server, so a pause loses nothing; a reconnection wait is resumable.
  if (state === 'connecting' || state === 'authenticating' || state === 'retrying') return null;
  if (state === 'storing') return 'notYetAgreed';
  return uploadId === null ? 'notResumable' : null;
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
