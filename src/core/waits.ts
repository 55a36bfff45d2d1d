/**
 * The transfer's two waits, over the environment's timers: the deadline for the answer that is due, and the
 * wait before a reconnection (a delay from the retry decision, then until the host is online), which also
 * counts the attempts since the last progress. Each owns its timer, so ending a transfer is two calls.
 */
import type { AnswerType } from '../protocol/index.ts';
import type { TimerHandle, TransferEnvironment } from './environment.ts';
import { shouldRetry, type RetryPolicy, type RetrySituation } from './retry.ts';

/** Which answer is due, and until when. */
export class AnswerDeadline {
  readonly #env: TransferEnvironment;
  #timer: TimerHandle;
  #due: AnswerType | null = null;

  /** @param env - where timers come from */
  constructor(env: TransferEnvironment) {
    this.#env = env;
  }

  /** The answer type due next; null when none is (a frame then is unsolicited). */
  get due(): AnswerType | null {
    return this.#due;
  }

  /**
   * Makes `type` the answer due, on a fresh timer.
   *
   * @param type - the answer type
   * @param timeout - ms to wait for it
   * @param onTimeout - called when it did not come in time
   */
  expect(type: AnswerType, timeout: number, onTimeout: () => void): void {
    this.#due = type;
    this.#clearTimer();
    this.#timer = this.#env.setTimeout(() => {
      this.#timer = undefined;
      onTimeout();
    }, timeout);
  }

  /** Nothing is due any more (the answer came, or the conversation stopped). */
  settle(): void {
    this.#clearTimer();
    this.#due = null;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#env.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** The retry decision's memory (attempts since progress) and the wait before a reconnection. */
export class ReconnectWait {
  readonly #env: TransferEnvironment;
  readonly #policy: RetryPolicy;
  #timer: TimerHandle;
  #stopWaitingOnline: (() => void) | null = null;
  /** Retries since the server's offset last advanced. */
  #attempt = 0;

  /**
   * @param env - where timers and the online state come from
   * @param policy - the retry policy
   */
  constructor(env: TransferEnvironment, policy: RetryPolicy) {
    this.#env = env;
    this.#policy = policy;
  }

  /** Retries decided since the server's offset last advanced. */
  get attempts(): number {
    return this.#attempt;
  }

  /** The server's offset advanced: the next retry is the first again. */
  progressed(): void {
    this.#attempt = 0;
  }

  /**
   * Asks {@link shouldRetry}; counts the attempt when it says retry.
   *
   * @param situation - why the conversation stopped (the attempt number is this object's)
   * @returns the delay before reconnecting, or null to fail
   */
  decide(situation: Omit<RetrySituation, 'attempt'>): number | null {
    const decision = shouldRetry({ ...situation, attempt: this.#attempt }, this.#policy);
    if (!decision.retry) return null;
    this.#attempt += 1;
    return decision.delay;
  }

  /**
   * Runs `then` after `delay` ms, and once the host is online.
   *
   * @param delay - ms, from the retry decision
   * @param then - the reconnection
   */
  schedule(delay: number, then: () => void): void {
    this.#timer = this.#env.setTimeout(() => {
      this.#timer = undefined;
      this.#stopWaitingOnline = this.#env.whenOnline(() => {
        this.#stopWaitingOnline = null;
        then();
      });
    }, delay);
  }

  /** Stops waiting, whichever part of the wait it is in. */
  cancel(): void {
    if (this.#timer !== undefined) this.#env.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopWaitingOnline?.();
    this.#stopWaitingOnline = null;
  }
}
