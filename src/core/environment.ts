/**
 * The transfer's environment: every global the core touches (the WebSocket constructor, `navigator.onLine`
 * and the `online` event, timers, the clock) comes in through this one object, so that the core runs
 * unchanged in a page, in a Worker (no `window`, `navigator.onLine` still there) and under Node tests (pass
 * your own). {@link browserEnvironment} is the wiring for the real globals. File reading uses `Blob`,
 * which all three have; resume storage is the `resumeStore` option (default: `localStorage` when usable).
 */
import type { WebSocketConstructor } from './options.ts';

/** A timer handle, whatever the host's type for it. */
export type TimerHandle = unknown;

/** What a transfer needs from its host. */
export interface TransferEnvironment {
  /** @returns the WebSocket constructor to use now, or undefined when the host has none */
  webSocket(): WebSocketConstructor | undefined;
  /** As the global `setTimeout`. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** As the global `clearTimeout`; ignores undefined. */
  clearTimeout(handle: TimerHandle): void;
  /** A monotonic clock in ms, for speeds (as `performance.now`). */
  now(): number;
  /**
   * Runs `then` now when the host is online, else once it says it is back.
   *
   * @returns a function that stops waiting
   */
  whenOnline(then: () => void): () => void;
}

const NOTHING = (): void => undefined;

/**
 * The real globals. The WebSocket constructor is read on each connection, not once, so a page (or a test)
 * may install its WebSocket after the transfer was created.
 *
 * @param WebSocketCtor - a constructor that wins over `globalThis.WebSocket`
 * @returns the environment
 */
export function browserEnvironment(WebSocketCtor?: WebSocketConstructor): TransferEnvironment {
  return {
    webSocket: () => WebSocketCtor ?? (globalThis.WebSocket as WebSocketConstructor | undefined),
    setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
    clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
    now: () => globalThis.performance.now(),
    whenOnline(then) {
      const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
      const target = globalThis as unknown as Partial<EventTarget>;
      if (nav?.onLine !== false || typeof target.addEventListener !== 'function') {
        then();
        return NOTHING;
      }
      const stop = (): void => target.removeEventListener!('online', onOnline);
      const onOnline = (): void => {
        stop();
        then();
      };
      target.addEventListener('online', onOnline);
      return stop;
    },
  };
}
