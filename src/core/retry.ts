/**
 * Retry policy as data, and the ONE decision "retry or fail" ({@link shouldRetry}) that every cause of a
 * stopped conversation (an answer that did not come, a socket error, a close, a "not now" answer) asks.
 * Delays are data (tus-js-client's habit): the n-th retry after the last progress waits `delays[n]`; after the
 * last one the upload fails. An optional hook may veto a retry the policy would make.
 */
import { Status } from '../protocol/index.ts';

/** The default delays before each reconnection attempt, in milliseconds. */
export const DEFAULT_RETRY_DELAYS: readonly number[] = [0, 1000, 3000, 5000, 10_000, 20_000];

/** The share of a delay added or removed at random, so that many clients cut at once do not return at once. */
export const RETRY_JITTER = 0.2;

/** Answers that mean "not now" rather than "never": a resumable upload retries them with backoff. */
export const RETRYABLE_STATUS: readonly number[] = [
  Status.conflict,
  Status.tooMany,
  Status.serverError,
  Status.unavailable,
];

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

/** Why a conversation stopped: the question {@link shouldRetry} answers. */
export interface RetrySituation {
  /**
   * `timeout`: an answer did not come in time; `socketError` / `socketClosed`: the connection broke;
   * `refused`: the server answered with a code other than 200.
   */
  cause: 'timeout' | 'socketError' | 'socketClosed' | 'refused';
  /** Whether the upload can be continued on another connection (a v2 upload id exists or was offered). */
  resumable: boolean;
  /** Retries since the server's offset last advanced (0 for the first). */
  attempt: number;
  /** The refusal's code, for `refused`. */
  status?: number;
  /** The server's `retryAfter` in ms, when it sent one. */
  retryAfter?: number;
}

/** Why a conversation stopped, in one word. */
export type RetryCause = RetrySituation['cause'];

/** What a refusal adds to a {@link RetrySituation}. */
export type RetryRefusal = Pick<RetrySituation, 'status' | 'retryAfter'>;

/** How a transfer retries: data, plus an optional hook. */
export interface RetryPolicy {
  /** Delays before each attempt (see {@link DEFAULT_RETRY_DELAYS}); an empty list never retries. */
  delays: readonly number[];
  /** Refusal codes worth retrying (default {@link RETRYABLE_STATUS}). */
  retryableStatus?: readonly number[];
  /** Asked last, only when the policy would retry: return false to fail instead. */
  hook?: ((situation: RetrySituation) => boolean) | undefined;
  /** A number in [0, 1) for the jitter (default Math.random). */
  random?: () => number;
}

/** The decision: retry after `delay` ms, or fail now. */
export type RetryDecision = { retry: true; delay: number } | { retry: false };

const FAIL: RetryDecision = Object.freeze({ retry: false });

/**
 * Retry or fail. Only a resumable upload can retry (a v1 conversation cannot be continued); a refusal only
 * with a "not now" code; never past the last delay; and the hook may say no.
 *
 * @param situation - why the conversation stopped
 * @param policy - the delays, the codes and the hook
 * @returns the decision
 */
export function shouldRetry(situation: RetrySituation, policy: RetryPolicy): RetryDecision {
  if (!situation.resumable) return FAIL;
  if (situation.cause === 'refused') {
    const retryable = policy.retryableStatus ?? RETRYABLE_STATUS;
    if (situation.status === undefined || !retryable.includes(situation.status)) return FAIL;
  }
  const random = policy.random ?? Math.random;
  const delay = retryDelay(policy.delays, situation.attempt, situation.retryAfter, random());
  if (delay === null) return FAIL;
  if (policy.hook && !policy.hook(situation)) return FAIL;
  return { retry: true, delay };
}
