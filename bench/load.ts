// The machine's other load during a bench row: how much CPU processes that are not ours used (all CPU time
// from /proc/stat minus the CPU time of the bench's own process tree: driver, Chromium, server and link
// children), the hypervisor's steal time, and the 1-minute load average. A row measured while others used
// the machine is marked, and defaults are decided on quiet rows only (bench/README.md, "Machine load").
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';

const CLOCK_TICKS = 100; // USER_HZ on Linux: the unit of /proc/stat and /proc/<pid>/stat

/** Others' CPU above this share of the machine, or steal above STEAL_LIMIT, marks a row as loaded. */
export const OTHERS_LIMIT_PERCENT = 10;
export const STEAL_LIMIT_PERCENT = 5;

/** The machine's other load over one interval. */
export interface MachineLoad {
  /** CPU time of processes not in the bench's tree, in % of the whole machine (all cores). */
  othersPercent: number;
  /** Time the hypervisor gave to other guests, in % of the machine. */
  stealPercent: number;
  /** Highest 1-minute load average seen (it counts the bench's own processes too). */
  loadAvgMax: number;
  /** Whether others or steal were above the limits: the row is not a quiet measurement. */
  loaded: boolean;
}

interface Snapshot {
  at: number;
  busyTicks: number;
  stealTicks: number;
  ourTicks: number;
}

async function machineTicks(): Promise<{ busy: number; steal: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user)
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return { busy: user! + nice! + system! + irq! + softirq!, steal: steal ?? 0 };
}

/**
 * CPU ticks of `rootPid` and every live descendant, each with the ticks of its reaped children (cutime,
 * cstime): so a server child or renderer that ended during the interval is still counted, once.
 */
export async function treeTicks(rootPid: number): Promise<number> {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
      stats.set(Number(name), { ppid: Number(fields[1]), ticks });
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  for (const [pid, { ticks }] of stats) {
    for (let hops = 0, at = pid; hops < 32 && at > 1; hops++) {
      if (at === rootPid) {
        total += ticks;
        break;
      }
      at = stats.get(at)?.ppid ?? 0;
    }
  }
  return total;
}

async function snapshot(rootPid: number): Promise<Snapshot> {
  const [machine, ourTicks] = await Promise.all([machineTicks(), treeTicks(rootPid)]);
  return { at: performance.now(), busyTicks: machine.busy, stealTicks: machine.steal, ourTicks };
}

/** Measures the machine's other load from `start()` until `stop()`; sample() records the load average. */
export class LoadMeter {
  readonly #rootPid: number;
  #start: Snapshot | undefined;
  #loadAvgMax = 0;

  constructor(rootPid = process.pid) {
    this.#rootPid = rootPid;
  }

  async start(): Promise<void> {
    this.#loadAvgMax = os.loadavg()[0] ?? 0;
    this.#start = await snapshot(this.#rootPid);
  }

  /** Records the current 1-minute load average (call it now and then during the interval). */
  sample(): void {
    this.#loadAvgMax = Math.max(this.#loadAvgMax, os.loadavg()[0] ?? 0);
  }

  async stop(): Promise<MachineLoad> {
    if (!this.#start) throw new Error('LoadMeter.stop() before start()');
    this.sample();
    const end = await snapshot(this.#rootPid);
    const capacity = ((end.at - this.#start.at) / 1000) * CLOCK_TICKS * os.cpus().length;
    const others = end.busyTicks - this.#start.busyTicks - (end.ourTicks - this.#start.ourTicks);
    const othersPercent = capacity > 0 ? Math.max(0, (others / capacity) * 100) : 0;
    const stealPercent = capacity > 0 ? ((end.stealTicks - this.#start.stealTicks) / capacity) * 100 : 0;
    return {
      othersPercent,
      stealPercent,
      loadAvgMax: this.#loadAvgMax,
      loaded: othersPercent > OTHERS_LIMIT_PERCENT || stealPercent > STEAL_LIMIT_PERCENT,
    };
  }
}

/** The worst of several intervals (a row's runs): the highest of each figure. */
export function worstLoad(loads: MachineLoad[]): MachineLoad | undefined {
  if (loads.length === 0) return undefined;
  return {
    othersPercent: Math.max(...loads.map((l) => l.othersPercent)),
    stealPercent: Math.max(...loads.map((l) => l.stealPercent)),
    loadAvgMax: Math.max(...loads.map((l) => l.loadAvgMax)),
    loaded: loads.some((l) => l.loaded),
  };
}

/** "3 % · steal 0 % · load 1.2", with ⚠ when loaded. */
export function formatLoad(load: MachineLoad | undefined): string {
  if (!load) return '';
  return (
    `${load.loaded ? '⚠ ' : ''}${load.othersPercent.toFixed(0)} % · steal ${load.stealPercent.toFixed(0)} % · ` +
    `load ${load.loadAvgMax.toFixed(1)}`
  );
}
