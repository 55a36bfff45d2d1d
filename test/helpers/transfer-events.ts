import type { WebSocketFileTransfer, WebSocketFileTransferEventMap } from '../../src/core/index.ts';

/** Every event a transfer can fire, in the order they can happen. */
export const EVENT_TYPES = ['open', 'progress', 'success', 'error', 'cancel', 'abort', 'close'] as const;

/**
 * Records a transfer's events: appends `event <type>` lines to `log` (which may be a MockServer's log, to
 * interleave them with the conversation) and returns the events themselves, in order.
 *
 * @param transfer - the transfer to watch
 * @param log - where to append lines
 * @returns the list the events are pushed onto
 */
export function recordEvents(transfer: WebSocketFileTransfer, log: string[] = []): CustomEvent[] {
  const events: CustomEvent[] = [];
  for (const type of EVENT_TYPES) {
    transfer.addEventListener(type, (event) => {
      events.push(event);
      log.push(`event ${type}`);
    });
  }
  return events;
}

/**
 * Waits for one event of a transfer, failing after `timeout` so that no test hangs.
 *
 * @param transfer - the transfer
 * @param type - the event name
 * @param timeout - milliseconds
 * @returns the event
 */
export function nextEvent<K extends keyof WebSocketFileTransferEventMap>(
  transfer: WebSocketFileTransfer,
  type: K,
  timeout = 3000,
): Promise<WebSocketFileTransferEventMap[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      transfer.removeEventListener(type, listener);
      reject(new Error(`No "${type}" event within ${timeout} ms (state: ${transfer.state}).`));
    }, timeout);
    const listener = (event: WebSocketFileTransferEventMap[K]): void => {
      clearTimeout(timer);
      transfer.removeEventListener(type, listener);
      resolve(event);
    };
    transfer.addEventListener(type, listener);
  });
}

/**
 * Waits until a condition holds, polling, failing after `timeout`.
 *
 * @param condition - checked every few milliseconds
 * @param message - names what was awaited, for the failure
 * @param timeout - milliseconds
 */
export async function until(condition: () => boolean, message: string, timeout = 2000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${message}.`);
    await delay(5);
  }
}

/**
 * Resolves after `ms` milliseconds.
 *
 * @param ms - milliseconds
 */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
