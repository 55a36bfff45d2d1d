/**
 * Delays before each reconnection attempt, in milliseconds, as data (tus-js-client's habit): the n-th retry
 * after the last progress waits `retryDelays[n]`; after the last one the upload fails.
 */
export const DEFAULT_RETRY_DELAYS: readonly number[] = [0, 1000, 3000, 5000, 10_000, 20_000];

/** The share of a delay added or removed at random, so that many clients cut at once do not return at once. */
export const RETRY_JITTER = 0.2;

/**
 * The wait before retry number `attempt`, with jitter, and never shorter than what the server asked for.
 *
 * @param delays - the retry delays
 * @param attempt - 0 for the first retry after progress
 * @param retryAfter - the server's `retryAfter` in ms, if it sent one
 * @param random - a number in [0, 1) (Math.random by default; tests pass their own)
 * @returns milliseconds to wait, or null when the attempts are used up
 */
export function retryDelay(
  delays: readonly number[],
  attempt: number,
  retryAfter: number | undefined,
  random: number = Math.random(),
): number | null {
  if (attempt >= delays.length) return null;
  const base = delays[attempt]!;
  const jittered = base * (1 + RETRY_JITTER * (2 * random - 1));
  return Math.max(Math.round(jittered), retryAfter ?? 0);
}
