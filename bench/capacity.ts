// Server capacity: N concurrent Node `ws` clients upload to the reference server (in its own process) through
// protocol v2: binary 1 MiB chunks under the window the server grants, then FIN with the SHA-256, success on
// the FIN answer (the file is checked, fsynced and in place).
import { createHash } from 'node:crypto';
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
