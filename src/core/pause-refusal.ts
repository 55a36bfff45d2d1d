/**
 * Why a transfer cannot pause, and what it says: shared by the transfer (transfer-state.ts), which decides,
 * and the queue (upload-queue.ts), which reports a refusal for items whose transfer's code (loaded with
 * import()) it may not have loaded yet, so this is apart from the transfer's state machine.
 */

/**
 * Why a transfer cannot pause now: `notRunning` (not started, or stopped), `notResumable` (the server speaks
 * v1, v2 was not offered, or no resume store keeps the record: the upload could not continue later, so
 * pausing would lose it), `notYetAgreed` (STOR is sent and its answer, which says whether the upload can
 * resume, is being awaited or handled).
 */
export type PauseRefusal = 'notRunning' | 'notResumable' | 'notYetAgreed';

/** The message of each {@link PauseRefusal}. */
export const PAUSE_REFUSAL_MESSAGES: Readonly<Record<PauseRefusal, string>> = {
  notRunning: 'Only a running upload can pause.',
  notResumable:
    'This upload cannot pause: the server speaks protocol v1 (or v2 was not offered, or no resume store keeps the record), and it could not resume. Cancel it instead.',
  notYetAgreed:
    'This upload cannot pause yet: the server is answering whether it can resume. Try again once it is sending.',
};
