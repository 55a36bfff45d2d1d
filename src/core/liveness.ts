/**
 * Client-side dead-peer detection (v2 `alive`, docs/protocol.md §3.8). A browser can neither send WebSocket
 * pings nor see the server's, so a connection that died without a FIN or RST (a phone leaving Wi-Fi, a NAT
 * dropping its state) looks exactly like a quiet one until the answer timeout. A server that granted `alive`
 * sends a keep-alive message every `alive` ms; this watch takes anything at all arriving as a sign of life,
 * and silence for {@link silenceBound} as a dead connection, which the transfer then treats as a drop and
 * resumes. Against a server that granted nothing (v1, the 2012 servers, an older v2 server) nothing is
 * watched: the answer timeout alone applies, as before.
 */
import { isAliveMessage } from '../protocol/index.ts';
import type { TimerHandle, TransferEnvironment } from './environment.ts';

/** Slack above two keep-alive periods: a message delayed by a busy link or a busy page is not a death. */
const SILENCE_SLACK = 1000;

/**
 * How long a connection may stay silent before it is taken for dead: two keep-alive periods, so that one
 * lost or late message is not enough, plus {@link SILENCE_SLACK}.
 *
 * @param alive - the granted keep-alive period, in ms
 * @returns the bound, in ms
 */
export function silenceBound(alive: number): number {
  return 2 * alive + SILENCE_SLACK;
}

/** Watches one connection's silence; restarted for each connection, stopped when it is let go of. */
export class LivenessWatch {
  readonly #env: TransferEnvironment;
  #timer: TimerHandle;
  #bound = 0;
  #onSilent: ((bound: number) => void) | null = null;
  /** When the last frame arrived (the environment's clock, ms). */
  #lastHeard = 0;

  /** @param env - where timers come from */
  constructor(env: TransferEnvironment) {
    this.#env = env;
  }

  /** The current bound in ms, or 0 when nothing is watched. */
  get bound(): number {
    return this.#onSilent ? this.#bound : 0;
  }

  /**
   * Starts watching with the server's keep-alive period; does nothing for null (nothing granted).
   *
   * @param alive - the granted `alive` (ms), or null
   * @param onSilent - called once, with the bound, when the connection stayed silent past it
   */
  start(alive: number | null, onSilent: (bound: number) => void): void {
    this.stop();
    if (alive === null) return;
    this.#bound = silenceBound(alive);
    this.#onSilent = onSilent;
    this.#lastHeard = this.#env.now();
    this.#arm(this.#bound);
  }

  /**
   * A frame arrived on the watched connection.
   *
   * @param data - the frame
   * @returns true when it is a keep-alive message, which answers nothing and is not to be read further
   */
  heard(data: unknown): boolean {
    this.#lastHeard = this.#env.now();
    return isAliveMessage(data);
  }

  /** Stops watching (the connection was let go of, or the transfer ended). */
  stop(): void {
    if (this.#timer !== undefined) this.#env.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#onSilent = null;
  }

  #arm(ms: number): void {
    this.#timer = this.#env.setTimeout(() => this.#check(), ms);
  }

  /** Ms left before the bound since the last frame; 0 or less: silent for the whole bound. */
  #left(): number {
    return this.#lastHeard + this.#bound - this.#env.now();
  }

  // One timer per bound rather than one per frame: when it fires, it looks at when the last frame came.
  #check(): void {
    this.#timer = undefined;
    const onSilent = this.#onSilent;
    if (!onSilent) return;
    if (this.#left() > 0) return this.#arm(this.#left());
    // A page that was busy may have frames queued behind this timer: they are read before the verdict.
    this.#timer = this.#env.setTimeout(() => {
      this.#timer = undefined;
      if (this.#onSilent !== onSilent) return;
      if (this.#left() > 0) return this.#arm(this.#left());
      const bound = this.#bound;
      this.stop();
      onSilent(bound);
    }, 0);
  }
}
