// How long the event loop of this process was kept busy: the measure of the "no message may freeze the
// server" tests, whose server runs in this process. A stall is a gap between the ticks of a short interval.
// Wall-clock gaps alone blame the server for a loaded machine (another process on the core, and the gap
// grows though the loop did nothing), so each gap is also measured in the main thread's own CPU time
// (Linux: /proc/thread-self/schedstat, nanoseconds on the CPU): a gap the thread spent computing is the
// server's cost, a gap it spent descheduled is the machine's. A quadratic parser on a 64 KiB input computes
// for seconds, and is caught either way.
import { readFileSync } from 'node:fs';

const SCHEDSTAT = '/proc/thread-self/schedstat';
const PERIOD_MS = 5;

/** Milliseconds the calling thread has been on a CPU; undefined where the kernel does not say. */
function threadCpuMs(): number | undefined {
  try {
    return Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

// Without per-thread CPU time (not Linux), busy time is wall-clock time: stricter, never laxer.
const busyClock: () => number =
  threadCpuMs() === undefined ? () => performance.now() : () => threadCpuMs() ?? performance.now();

/** The worst stall seen while a meter ran. */
export interface Stall {
  /** The longest wall-clock gap between ticks beyond the period: what a client waited, load included. */
  wallMs: number;
  /** The most CPU time the loop's thread spent inside one such gap: what the work itself cost. */
  busyMs: number;
}

/**
 * Starts measuring stalls of this process's event loop.
 *
 * @returns `stop()`, which resolves to the worst stall seen
 */
export function stallMeter(): { stop(): Promise<Stall> } {
  let lastWall = performance.now();
  let lastBusy = busyClock();
  const worst: Stall = { wallMs: 0, busyMs: 0 };
  const timer = setInterval(() => {
    const wall = performance.now();
    const busy = busyClock();
    const gap = wall - lastWall - PERIOD_MS;
    worst.wallMs = Math.max(worst.wallMs, gap);
    // A thread cannot compute longer than the gap it was in; what it computed within is the stall's cost.
    worst.busyMs = Math.max(worst.busyMs, Math.min(gap, busy - lastBusy));
    lastWall = wall;
    lastBusy = busy;
  }, PERIOD_MS);
  return {
    async stop(): Promise<Stall> {
      // The gap of a blocked turn is seen only when the next tick fires: wait for a few.
      await new Promise((resolve) => setTimeout(resolve, 4 * PERIOD_MS));
      clearInterval(timer);
      return { ...worst };
    },
  };
}
