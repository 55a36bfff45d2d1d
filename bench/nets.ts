// The networks a bench run measures: loopback (no emulator) or a link through bench/link.ts, from the
// `--net` presets or from `--rtt`/`--rate-mbit`/`--up-mbit`/`--down-mbit`/`--queue-kib`.
import { defaultQueueBytes, type LinkOptions } from './link.ts';

/** One network of a run. `link` is undefined for plain loopback. */
export interface Net {
  name: string;
  /** What the report says about it. */
  description: string;
  link?: Omit<LinkOptions, 'targetPort'>;
}

const MBIT = 1_000_000 / 8;

/** A link with `rttMs` split evenly between the directions. Rates in Mbit/s; Infinity = unlimited. */
export function emulated(
  name: string,
  rttMs: number,
  upMbit: number,
  downMbit: number,
  queueKiB?: number,
): Net {
  const up = { delayMs: rttMs / 2, bytesPerSecond: upMbit * MBIT };
  const down = { delayMs: rttMs / 2, bytesPerSecond: downMbit * MBIT };
  const queueBytes = queueKiB === undefined ? undefined : queueKiB * 1024;
  const rate = (mbit: number) => (Number.isFinite(mbit) ? `${mbit} Mbit/s` : 'unlimited');
  const queue = (bytesPerSecond: number) =>
    Math.round((queueBytes ?? defaultQueueBytes(bytesPerSecond)) / 1024);
  return {
    name,
    description:
      `link emulator (bench/link.ts): RTT ${rttMs} ms (${rttMs / 2} ms each way), up ${rate(upMbit)}, ` +
      `down ${rate(downMbit)}, queue ${queue(up.bytesPerSecond)} KiB up / ${queue(down.bytesPerSecond)} KiB down`,
    link: { up, down, ...(queueBytes === undefined ? {} : { queueBytes }) },
  };
}

/** The `--net` presets: issue 12's rows, plain loopback, and the proxy alone (its own cost). */
export const NET_PRESETS: Record<string, () => Net> = {
  loopback: () => ({ name: 'loopback', description: 'loopback (127.0.0.1), no link emulator' }),
  proxy: () => emulated('proxy', 0, Infinity, Infinity),
  rtt20: () => emulated('rtt20', 20, 1000, 1000),
  rtt50: () => emulated('rtt50', 50, 1000, 1000),
  rtt100: () => emulated('rtt100', 100, 1000, 1000),
  rtt200: () => emulated('rtt200', 200, 1000, 1000),
  // A home connection: 50 Mbit/s up, 250 Mbit/s down (only acks and answers come down), 100 ms RTT.
  home: () => emulated('home', 100, 50, 250),
};

/** The nets of `--net a,b,…` plus, when `--rtt` or a rate is given, one custom link; default loopback. */
export function parseNets(args: {
  net?: string | undefined;
  rtt?: string | undefined;
  'rate-mbit'?: string | undefined;
  'up-mbit'?: string | undefined;
  'down-mbit'?: string | undefined;
  'queue-kib'?: string | undefined;
}): Net[] {
  const nets: Net[] = [];
  const names = args.net === 'all' ? Object.keys(NET_PRESETS) : (args.net?.split(',') ?? []);
  for (const name of names.map((each) => each.trim()).filter(Boolean)) {
    const preset = NET_PRESETS[name];
    if (!preset)
      throw new RangeError(`--net ${name}: not one of ${Object.keys(NET_PRESETS).join(', ')}, all`);
    nets.push(preset());
  }
  const number = (flag: keyof typeof args, fallback: number) => {
    const value = args[flag];
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!(parsed >= 0) || !Number.isFinite(parsed)) throw new RangeError(`--${flag} must be a number ≥ 0`);
    if (parsed === 0 && flag !== 'rtt') throw new RangeError(`--${flag} must be > 0`);
    return parsed;
  };
  const custom = ['rtt', 'rate-mbit', 'up-mbit', 'down-mbit', 'queue-kib'].some(
    (flag) => args[flag as keyof typeof args] !== undefined,
  );
  if (custom) {
    const rtt = number('rtt', 0);
    const rate = number('rate-mbit', Infinity);
    const up = number('up-mbit', rate);
    const down = number('down-mbit', rate);
    const queue = args['queue-kib'] === undefined ? undefined : number('queue-kib', 0);
    const label = `rtt${rtt}-up${Number.isFinite(up) ? up : 'max'}-down${Number.isFinite(down) ? down : 'max'}`;
    nets.push(emulated(label, rtt, up, down, queue));
  }
  return nets.length > 0 ? nets : [NET_PRESETS.loopback!()];
}
