// Server capacity: N concurrent Node `ws` clients upload to the reference server (in its own process) through
// protocol v2: binary 1 MiB chunks under the window the server grants, then FIN with the SHA-256, success on
// the FIN answer (the file is checked, fsynced and in place). Then the platform floor under the same load:
// the same clients send the same bytes as plain binary messages (no protocol) to a minimal `ws` server that
// writes each connection's bytes to a file and fsyncs it, and to one that only counts them.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { WebSocket } from 'ws';
import { formatFin, formatStor } from '../src/protocol/index.ts';
import { randomBytes } from '../test/e2e/harness.ts';
import { hashFile, startServer } from './child.ts';

export interface CapacityOptions {
  clients: number;
  /** MiB each client uploads. */
  mib: number;
  /** Bytes per chunk. */
  chunk: number;
  /** Milliseconds each row may take. */
  timeoutMs: number;
  /** Run the floor rows too (default true). */
  floor?: boolean;
}

export interface CapacityResult {
  /** Which server: the reference server, or a floor row. */
  name: string;
  clients: number;
  mib: number;
  seconds: number;
  mibPerSecond: number;
  serverCpuSeconds: number;
  serverCpuPerGiB: number;
  /** The kernel's part of serverCpuPerGiB. */
  serverSystemPerGiB: number;
  serverMaxRss: number;
  serverIdleRss: number;
  /** NaN for the floor rows (no acks). */
  ackP50: number;
  ackP99: number;
  ok: number;
  failed: string[];
  /** Reference server: SHA-256 of each file. Disk floor: size of each file. Count floor: NaN (no file). */
  corrupted: number;
}

/** Messages a floor client may have handed to `ws` and not yet seen written: the same 16 as the v2 window. */
const FLOOR_IN_FLIGHT = 16;

/**
 * Chunk k of client c is chunk (k + c) mod n of one shared random buffer: every client's file differs (so a
 * mix-up between sessions shows in the hashes) without holding N files in memory.
 */
function chunkOf(base: Buffer, chunk: number, client: number, k: number): Buffer {
  const n = base.length / chunk;
  const at = ((k + client) % n) * chunk;
  return base.subarray(at, at + chunk);
}

function upload(
  url: string,
  client: number,
  base: Buffer,
  chunk: number,
  latencies: number[],
): Promise<void> {
  const total = base.length / chunk;
  return new Promise<void>((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const hash = createHash('sha256');
    const sentAt: number[] = [];
    let window = 1;
    let sent = 0;
    let acked = 0;
    let finished = false;
    const fill = () => {
      while (sent < total && sent - acked < window) {
        const bytes = chunkOf(base, chunk, client, sent);
        hash.update(bytes);
        sentAt.push(performance.now());
        socket.send(bytes);
        sent++;
      }
    };
    socket.on('open', () =>
      socket.send(
        formatStor({
          filename: `c${client}.bin`,
          size: base.length,
          type: 'binary',
          parameters: [],
          v: 2,
          ext: { binary: true, window: 16, chunk, resume: null, checksum: ['sha256'], fin: true },
        }),
      ),
    );
    socket.on('message', (data: Buffer) => {
      const answer = JSON.parse(data.toString()) as {
        type: string;
        code: number;
        message?: string;
        v?: number;
        ext?: { window?: number };
      };
      if (answer.code !== 200) {
        socket.terminate();
        return reject(new Error(`client ${client}: ${answer.type} ${answer.code} ${answer.message ?? ''}`));
      }
      if (answer.type === 'STOR') {
        if (answer.v !== 2) return reject(new Error(`client ${client}: the server did not agree to v2`));
        window = Math.max(1, answer.ext?.window ?? 1);
        return fill();
      }
      if (answer.type === 'DATA') {
        latencies.push(performance.now() - sentAt[acked]!);
        acked++;
        if (acked < total) return fill();
        return socket.send(formatFin({ size: base.length, checksum: `sha256:${hash.digest('base64')}` }));
      }
      if (answer.type === 'FIN') {
        // The FIN answer comes after the server checked the digest and committed the file.
        finished = true;
        socket.close(1000);
        return resolve();
      }
    });
    socket.on('error', (error) => reject(new Error(`client ${client}: ${error.message}`)));
    socket.on('close', () => {
      if (!finished) reject(new Error(`client ${client}: closed after ${acked} of ${total} chunks`));
    });
  });
}

/**
 * A floor client: `{"size","name","fsync"}`, then the same chunks as plain binary messages, at most
 * FLOOR_IN_FLIGHT not yet written to the socket; done when the server answers `{"received": size}` (with the
 * disk server, after its fsync).
 */
function uploadRaw(url: string, client: number, base: Buffer, chunk: number): Promise<void> {
  const total = base.length / chunk;
  return new Promise<void>((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    let sent = 0;
    let inFlight = 0;
    let finished = false;
    const fill = () => {
      while (sent < total && inFlight < FLOOR_IN_FLIGHT && socket.readyState === socket.OPEN) {
        inFlight++;
        socket.send(chunkOf(base, chunk, client, sent), (error) => {
          inFlight--;
          if (!error) fill();
        });
        sent++;
      }
    };
    socket.on('open', () => {
      socket.send(JSON.stringify({ size: base.length, name: `c${client}.bin`, fsync: true }));
      fill();
    });
    socket.on('message', (data: Buffer) => {
      const { received } = JSON.parse(data.toString()) as { received: number };
      if (received !== base.length)
        return reject(new Error(`client ${client}: server got ${received} bytes`));
      finished = true;
      socket.close(1000);
      resolve();
    });
    socket.on('error', (error) => reject(new Error(`client ${client}: ${error.message}`)));
    socket.on('close', () => {
      if (!finished) reject(new Error(`client ${client}: closed after ${sent} of ${total} messages sent`));
    });
  });
}

/** Runs `work` for each client at once, bounded by `timeoutMs`. */
async function allClients(
  clients: number,
  timeoutMs: number,
  work: (client: number) => Promise<void>,
): Promise<PromiseSettledResult<void>[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('capacity test timed out')), timeoutMs);
  });
  return Promise.race([
    Promise.allSettled(Array.from({ length: clients }, (_, c) => work(c))),
    timeout,
  ]).finally(() => clearTimeout(timer));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Runs the capacity test against the reference server, then the floor rows (disk, count only), each under
 * the same load; every row is bounded by `timeoutMs`.
 */
export async function runCapacity(options: CapacityOptions): Promise<CapacityResult[]> {
  const size = options.mib * 1024 * 1024;
  if (size % options.chunk !== 0) throw new RangeError('--client-mib must be a whole number of chunks');
  const base = randomBytes(size, 0x5eed);
  const results = [await runRef(options, base)];
  if (options.floor !== false) {
    results.push(await runFloor(options, base, 'disk'));
    results.push(await runFloor(options, base, 'count'));
  }
  return results;
}

async function runRef(options: CapacityOptions, base: Buffer): Promise<CapacityResult> {
  const size = base.length;
  const server = await startServer('ref');
  const latencies: number[] = [];
  try {
    await server.reset();
    const started = performance.now();
    const outcomes = await allClients(options.clients, options.timeoutMs, (c) =>
      upload(server.endpoint, c, base, options.chunk, latencies),
    );
    const seconds = (performance.now() - started) / 1000;
    const usage = await server.report();
    const failed = outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
    let corrupted = 0;
    for (let c = 0; c < options.clients; c++) {
      if (outcomes[c]!.status !== 'fulfilled') continue;
      const expected = createHash('sha256');
      for (let k = 0; k < size / options.chunk; k++) expected.update(chunkOf(base, options.chunk, c, k));
      const actual = await hashFile(path.join(server.dir, `c${c}.bin`)).catch(() => 'missing');
      if (actual !== expected.digest('hex')) corrupted++;
    }
    const sorted = latencies.sort((a, b) => a - b);
    return summary('reference server (v2, SHA-256, FIN)', options, seconds, usage, server.idleRss, failed, {
      ackP50: percentile(sorted, 50),
      ackP99: percentile(sorted, 99),
      corrupted,
    });
  } finally {
    await server.stop();
  }
}

async function runFloor(
  options: CapacityOptions,
  base: Buffer,
  kind: 'disk' | 'count',
): Promise<CapacityResult> {
  const server = await startServer(kind);
  try {
    await server.reset();
    const started = performance.now();
    const outcomes = await allClients(options.clients, options.timeoutMs, (c) =>
      uploadRaw(server.endpoint, c, base, options.chunk),
    );
    const seconds = (performance.now() - started) / 1000;
    const usage = await server.report();
    const failed = outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
    let corrupted = kind === 'disk' ? 0 : NaN;
    if (kind === 'disk') {
      for (let c = 0; c < options.clients; c++) {
        if (outcomes[c]!.status !== 'fulfilled') continue;
        const stored = await stat(path.join(server.dir, `c${c}.bin`)).catch(() => undefined);
        if (stored?.size !== base.length) corrupted++;
      }
    }
    const name =
      kind === 'disk'
        ? 'floor: minimal `ws` server → disk (write + fsync)'
        : 'floor: minimal `ws` server, count only';
    return summary(name, options, seconds, usage, server.idleRss, failed, {
      ackP50: NaN,
      ackP99: NaN,
      corrupted,
    });
  } finally {
    await server.stop();
  }
}

function summary(
  name: string,
  options: CapacityOptions,
  seconds: number,
  usage: { cpuSeconds: number; systemSeconds: number; maxRss: number },
  idleRss: number,
  failed: string[],
  rest: { ackP50: number; ackP99: number; corrupted: number },
): CapacityResult {
  const ok = options.clients - failed.length;
  const gib = (ok * options.mib) / 1024;
  return {
    name,
    clients: options.clients,
    mib: options.mib,
    seconds,
    mibPerSecond: (ok * options.mib) / seconds,
    serverCpuSeconds: usage.cpuSeconds,
    serverCpuPerGiB: usage.cpuSeconds / gib,
    serverSystemPerGiB: usage.systemSeconds / gib,
    serverMaxRss: usage.maxRss,
    serverIdleRss: idleRss,
    ok,
    failed,
    ...rest,
  };
}
