/**
 * A test hook that kills the process at a named step of the file store's commit, so that a test can check
 * that a SIGKILL at every step neither loses nor duplicates a file. Inert unless the environment variable
 * `WSFU_TEST_CRASH_AT` names a step when the module loads: only the crash tests set it, on a child process.
 */

/** The steps of a commit, in order (see docs/server.md, "Crash safety"). */
export const COMMIT_STEPS = [
  /** The partial file's data and mode are on disk. */
  'data-synced',
  /** The chosen final name is recorded in `<id>.json`. */
  'intent-recorded',
  /** The final name links to the partial file. */
  'linked',
  /** The upload folder's entry is on disk. */
  'dir-synced',
  /** The completion record replaced the partial upload's metadata. */
  'record-written',
  /** The partial file's own name is gone. */
  'part-removed',
] as const;

/** One step of {@link COMMIT_STEPS}. */
export type CommitStep = (typeof COMMIT_STEPS)[number];

const crashAt = process.env.WSFU_TEST_CRASH_AT;

/** Kills this process with SIGKILL when the crash test asked for `step`; else does nothing. */
export function crashPoint(step: CommitStep): void {
  if (crashAt === step) process.kill(process.pid, 'SIGKILL');
}
