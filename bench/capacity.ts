// Server capacity: N concurrent Node `ws` clients upload to the reference server (in its own process) through
// protocol v1 with binary 1 MiB chunks, stop-and-wait. TODO(v2): once protocol v2 is on main, send the v2
// STOR (window, FIN with SHA-256) here; only `upload()` changes.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { WebSocket } from 'ws';
import { formatStor } from '../src/protocol/index.ts';
import { randomBytes } from '../test/e2e/harness.ts';
import { hashFile, startServer } from './child.ts';

export interface CapacityOptions {
  clients: number;
  /** MiB each client uploads. */
  mib: number;
  /** Bytes per chunk. */
  chunk: number;
  /** Milliseconds the whole test may take. */
  timeoutMs: number;
}

export interface CapacityResult {
  clients: number;
  mib: number;
  seconds: number;
  mibPerSecond: number;
  serverCpuSeconds: number;
  serverCpuPerGiB: number;
  serverMaxRss: number;
  serverIdleRss: number;
  ackP50: number;
  ackP99: number;
  ok: number;
  failed: string[];
  corrupted: number;
}

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
    let k = 0;
    let sentAt = 0;
    const sendNext = () => {
      sentAt = performance.now();
      socket.send(chunkOf(base, chunk, client, k));
    };
    socket.on('open', () =>
      socket.send(
        formatStor({ filename: `c${client}.bin`, size: base.length, type: 'binary', parameters: [] }),
      ),
    );
    socket.on('message', (data: Buffer) => {
      const answer = JSON.parse(data.toString()) as { type: string; code: number; message?: string };
      if (answer.code !== 200) {
        socket.terminate();
        return reject(new Error(`client ${client}: ${answer.type} ${answer.code} ${answer.message ?? ''}`));
      }
      if (answer.type === 'DATA') {
        latencies.push(performance.now() - sentAt);
        k++;
      }
      // The last answer comes after the server committed the file.
      if (k === total) {
        socket.close(1000);
        return resolve();
      }
      sendNext();
    });
    socket.on('error', (error) => reject(new Error(`client ${client}: ${error.message}`)));
    socket.on('close', () => reject(new Error(`client ${client}: closed after ${k} of ${total} chunks`)));
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs the capacity test; bounded by `timeoutMs`. */
export async function runCapacity(options: CapacityOptions): Promise<CapacityResult> {
  const size = options.mib * 1024 * 1024;
  if (size % options.chunk !== 0) throw new RangeError('--client-mib must be a whole number of chunks');
  const base = randomBytes(size, 0x5eed);
  const server = await startServer('ref');
  const latencies: number[] = [];
  try {
    await server.reset();
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('capacity test timed out')), options.timeoutMs);
    });
    const outcomes = await Promise.race([
      Promise.allSettled(
        Array.from({ length: options.clients }, (_, c) =>
          upload(server.endpoint, c, base, options.chunk, latencies),
        ),
      ),
      timeout,
    ]).finally(() => clearTimeout(timer));
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
    const ok = options.clients - failed.length;
    const gib = (ok * size) / 1024 ** 3;
    return {
      clients: options.clients,
      mib: options.mib,
      seconds,
      mibPerSecond: (ok * options.mib) / seconds,
      serverCpuSeconds: usage.cpuSeconds,
      serverCpuPerGiB: usage.cpuSeconds / gib,
      serverMaxRss: usage.maxRss,
      serverIdleRss: server.idleRss,
      ackP50: percentile(sorted, 50),
      ackP99: percentile(sorted, 99),
      ok,
      failed,
      corrupted,
    };
  } finally {
    await server.stop();
  }
}
