/**
 * The transfer's two waits, over the environment's timers: the deadline for the answer that is due, and the
 * wait before a reconnection (a delay, then until the host is online). Each owns its timer, so ending a
 * transfer is two `cancel`s.
 */
import type { AnswerType } from '../protocol/index.ts';
import type { TimerHandle, TransferEnvironment } from './environment.ts';

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

/** The wait before a reconnection. */
export class ReconnectWait {
  readonly #env: TransferEnvironment;
  #timer: TimerHandle;
  #stopWaitingOnline: (() => void) | null = null;

  /** @param env - where timers and the online state come from */
  constructor(env: TransferEnvironment) {
    this.#env = env;
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
