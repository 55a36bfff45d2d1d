import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { UPLOAD_QUEUE_EVENTS, type UploadQueue } from '../core/index.ts';

/**
 * Connects a host element to an {@link UploadQueue}: owns the subscription to the queue's events, hands
 * each event to the host at once (so the host can re-dispatch it while it is current) and batches renders
 * to at most one per animation frame, because a queue of hundreds of files fires far more progress events
 * than a screen can show.
 */
export class UploadQueueController implements ReactiveController {
  /** The queue this controller listens to. */
  readonly queue: UploadQueue;
  readonly #host: ReactiveControllerHost;
  readonly #onEvent: (event: CustomEvent) => void;
  #frame = 0;
  #listener = (event: Event): void => {
    this.#onEvent(event as CustomEvent);
    this.#schedule();
  };

  /**
   * Registers itself with the host.
   *
   * @param host - the element to update
   * @param queue - the queue to listen to
   * @param onEvent - called synchronously with every queue event
   */
  constructor(host: ReactiveControllerHost, queue: UploadQueue, onEvent: (event: CustomEvent) => void) {
    this.#host = host;
    this.queue = queue;
    this.#onEvent = onEvent;
    host.addController(this);
  }

  /** Subscribes to the queue, and renders once in case the queue changed while the host was detached. */
  hostConnected(): void {
    for (const type of UPLOAD_QUEUE_EVENTS) this.queue.addEventListener(type, this.#listener);
    this.#host.requestUpdate();
  }

  /** Unsubscribes and drops a pending render; uploads go on, and a reconnected host renders where they are. */
  hostDisconnected(): void {
    for (const type of UPLOAD_QUEUE_EVENTS) this.queue.removeEventListener(type, this.#listener);
    if (this.#frame) cancelAnimationFrame(this.#frame);
    this.#frame = 0;
  }

  #schedule(): void {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#host.requestUpdate();
    });
  }
}
