/**
 * A session's answers, in order, when some of them must wait: an ack is sent once the store says its bytes
 * are durable (`PartialUpload.durable`, S3: once the part holding them is recorded), and every answer after
 * it — the next acks, a BLK verdict, FIN, the next STOR — waits behind it, so a client sees them in the
 * order the protocol promises (docs/protocol.md §3.2). Without waiting answers, answers go out at once.
 */
export class OrderedReplies {
  #last: Promise<void> = Promise.resolve();
  #waiting = 0;
  #dropped = false;

  /**
   * Sends `send()` after every earlier answer and after `after` resolved.
   *
   * @param send - puts the answer on the socket
   * @param after - what the answer waits for (an ack: its bytes durable), if anything
   * @param failed - called instead of sending when `after` rejects; answers queued behind it are dropped
   */
  send(send: () => void, after?: Promise<void>, failed?: (error: unknown) => void): void {
    if (this.#dropped) return;
    if (this.#waiting === 0 && after === undefined) return send();
    this.#waiting += 1;
    const previous = this.#last;
    this.#last = (async () => {
      try {
        await previous;
        await after;
        if (!this.#dropped) send();
      } catch (error) {
        if (this.#dropped) return;
        this.#dropped = true;
        failed?.(error);
      } finally {
        this.#waiting -= 1;
      }
    })();
  }

  /** Answers still waiting are never sent (the connection is being closed with a refusal). */
  drop(): void {
    this.#dropped = true;
  }
}
