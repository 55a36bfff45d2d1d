/**
 * Backpressure for one connection: counts the messages and bytes that arrived but are not handled yet
 * (written to the store, answered) and pauses the socket's reading while there are too many, so that a
 * client that ignores the agreed window cannot make the server buffer without bound.
 */

/** What backpressure needs of a socket: `ws`'s WebSocket has exactly this. */
export interface Pausable {
  pause(): void;
  resume(): void;
  readonly isPaused: boolean;
}

// Messages waiting for the disk beyond this many stop the socket from reading: a client that ignores
// stop-and-wait cannot make the server buffer without bound.
export const MAX_BACKLOG = 4;
// Bytes of received messages waiting for the disk (the one being written included) from which the socket
// stops reading. The rest of a client's window waits in the kernel's TCP receive buffer, outside the
// process: 50 uploads with 16 × 1 MiB windows would otherwise hold 800 MiB here. With 1 MiB chunks the
// socket pauses while each chunk is written; the kernel keeps receiving meanwhile, so the next chunk is
// there when reading resumes, and the process holds one chunk per connection (plus the one `ws` is
// assembling) instead of two or three. Smaller chunks still pipeline up to 1 MiB.
export const MAX_PENDING_BYTES = 1024 * 1024;

/** Pauses and resumes one socket's reading by what is waiting to be handled. */
export class Backpressure {
  readonly #socket: Pausable;
  #maxBacklog = MAX_BACKLOG;
  #backlog = 0;
  #pendingBytes = 0;

  /** @param socket - the connection whose reading is paused */
  constructor(socket: Pausable) {
    this.#socket = socket;
  }

  /** Messages arrived and not handled yet. */
  get backlog(): number {
    return this.#backlog;
  }

  /** Bytes of those messages. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /**
   * Sets the window agreed for the upload: a pipelining client has `window` chunks on the way by design,
   * so only more than that (plus a command or two) counts as too many.
   *
   * @param window - chunks the client may keep unacknowledged (1 = stop-and-wait)
   */
  agreeWindow(window: number): void {
    this.#maxBacklog = Math.max(MAX_BACKLOG, window + 2);
  }

  /**
   * A message arrived: it waits until {@link handled}.
   *
   * @param bytes - its size
   */
  arrived(bytes: number): void {
    this.#pendingBytes += bytes;
    if (++this.#backlog > this.#maxBacklog || this.#pendingBytes >= MAX_PENDING_BYTES) this.#socket.pause();
  }

  /**
   * A message was handled (answered, or it failed): reading resumes once the wait is short enough.
   *
   * @param bytes - its size, as given to {@link arrived}
   */
  handled(bytes: number): void {
    this.#pendingBytes -= bytes;
    const drained = --this.#backlog <= this.#maxBacklog && this.#pendingBytes < MAX_PENDING_BYTES;
    if (drained && this.#socket.isPaused) this.#socket.resume();
  }
}
