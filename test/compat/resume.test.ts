// Resume and integrity over real sockets: a proxy that cuts the TCP connection at seeded random offsets, a
// server process killed and restarted, a proxy that flips one byte.
import { afterEach, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { runTransfer } from '../helpers/node-client.ts';
import { seededRandom, TcpProxy } from '../helpers/tcp-proxy.ts';
import {
  bytes,
  eventually,
  partialFiles,
  readStored,
  startServer,
  storedFiles,
  tempDir,
} from '../server/peer.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const fileOf = (data: Buffer, name: string) => new File([new Uint8Array(data)], name);
const RETRY = [0, 20, 50, 100, 200, 400, 800, 1600, 3200];

describe('resume', () => {
  it('survives 24 cuts at seeded random offsets: the file is identical and each cut re-sends at most one window', async (t: TestContext) => {
    const started = await startServer();
    cleanups.push(() => started.stop());
    const size = 8 * 1024 * 1024 + 777;
    const chunk = 128 * 1024;
    const window = 4;
    const random = seededRandom(20261129);
    const cutAt = Array.from({ length: 24 }, () => 1000 + Math.floor(random() * (size - 2000))).sort(
      (a, b) => a - b,
    );
    const proxy = await TcpProxy.start(started.server.port, { cutAt });
    cleanups.push(() => proxy.close());
    const data = bytes(size, 21);
    let landedAtSuccess: boolean | undefined;
    const outcome = await runTransfer(
      {
        url: `ws://127.0.0.1:${proxy.port}/upload`,
        file: fileOf(data, 'cut.bin'),
        v2ChunkSize: chunk,
        window,
        retryDelays: RETRY,
      },
      { timeout: 60_000, onSuccess: () => (landedAtSuccess = existsSync(path.join(started.dir, 'cut.bin'))) },
    );
    assert.equal(outcome.type, 'success', outcome.error?.message);
    assert.equal(landedAtSuccess, true);
    assert.equal(proxy.cuts, 24);
    assert.deepEqual(await readStored(started.dir, 'cut.bin'), data);
    const resent = outcome.counter.dataBytes - size;
    t.diagnostic(
      `re-sent ${resent} bytes over ${proxy.cuts} cuts: ${Math.round(resent / proxy.cuts)} per cut`,
    );
    assert.ok(resent >= 0);
    assert.ok(resent <= proxy.cuts * window * chunk, `re-sent ${resent} > ${proxy.cuts} windows`);
  });

  // SIGKILL: nothing is flushed or closed. SIGTERM: the real CLI shuts down gracefully (connections closed with
  // 1001, v2 partials kept), then a new process takes the same port.
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`continues after the server process gets ${signal} and is restarted, and the file is identical`, async () => {
      const dir = await tempDir();
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      let child = await spawnServer(dir, 0, signal);
      const port = child.port;
      cleanups.push(() => void child.process.kill('SIGKILL'));
      const size = 24 * 1024 * 1024;
      const data = bytes(size, 22);
      let restarted: Promise<void> | undefined;
      let offsetAtKill = 0;
      const outcome = await runTransfer(
        {
          url: `ws://127.0.0.1:${port}/upload`,
          file: fileOf(data, 'kill.bin'),
          v2ChunkSize: 256 * 1024,
          window: 4,
          retryDelays: RETRY,
        },
        {
          timeout: 60_000,
          onProgress: (detail) => {
            // Past the first checkpoint of the verified offset (16 MiB, session-integrity.ts).
            if (restarted || detail.loaded < size * 0.75) return;
            offsetAtKill = detail.loaded;
            const stopping = child.process;
            const exited = new Promise((resolve) => stopping.once('exit', resolve));
            stopping.kill(signal);
            restarted = exited
              .then(() => spawnServer(dir, port, signal))
              .then((next) => {
                child = next;
              });
          },
        },
      );
      await restarted;
      assert.ok(offsetAtKill > 0, 'the server was killed mid-upload');
      // Resumed, not restarted: what was sent in all is the file plus less than what was acknowledged at the kill.
      assert.ok(outcome.counter.dataBytes < size + offsetAtKill, `sent ${outcome.counter.dataBytes}`);
      assert.equal(outcome.type, 'success', outcome.error?.message);
      assert.deepEqual(await readStored(dir, 'kill.bin'), data);

      async function spawnServer(folder: string, listenPort: number, how: 'SIGKILL' | 'SIGTERM') {
        const args =
          how === 'SIGKILL'
            ? ['test/helpers/server-process.ts', folder, String(listenPort)]
            : ['src/server/cli.ts', '--dir', folder, '--port', String(listenPort), '--log-level', 'silent'];
        const proc = spawn(process.execPath, ['--import', 'tsx', ...args], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        const ready = await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('server did not start')), 15_000);
          let out = '';
          proc.stdout!.on('data', (piece: Buffer) => {
            out += piece.toString();
            const match = /listening (\d+)|ws:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
            if (match) {
              clearTimeout(timer);
              resolve(Number(match[1] ?? match[2]));
            }
          });
          proc.once('exit', () => reject(new Error('server exited')));
        });
        return { process: proc as ChildProcess, port: ready };
      }
    });
  }
});

describe('integrity', () => {
  it('a flipped byte on the way is caught by its block, which alone is sent again; the file lands intact', async () => {
    const started = await startServer();
    cleanups.push(() => started.stop());
    const data = bytes(4 * 1024 * 1024, 23);
    const proxy = await TcpProxy.start(started.server.port, { flipAt: 1_500_000 });
    cleanups.push(() => proxy.close());
    const outcome = await runTransfer({
      url: `ws://127.0.0.1:${proxy.port}/upload`,
      file: fileOf(data, 'flip.bin'),
    });
    assert.equal(outcome.type, 'success', outcome.error?.message);
    assert.ok(outcome.counter.textFrames.includes('BLK: {"block":0}'), 'block 0 was sent again');
    assert.equal(outcome.counter.dataBytes, 2 * data.length, 'the file once, and its one block once more');
    assert.deepEqual(await readStored(started.dir, 'flip.bin'), data);
  });

  it('a block flipped on every arrival fails with 422 after three, and no file lands', async () => {
    const started = await startServer();
    cleanups.push(() => started.stop());
    const data = bytes(1024 * 1024, 24);
    // A link that damages a byte every 700 000 bytes: the one block of the file, at every arrival.
    const proxy = await TcpProxy.start(started.server.port, { flipAt: 500_000, flipEvery: 700_000 });
    cleanups.push(() => proxy.close());
    const outcome = await runTransfer({
      url: `ws://127.0.0.1:${proxy.port}/upload`,
      file: fileOf(data, 'bad.bin'),
      v2ChunkSize: 64 * 1024,
    });
    assert.equal(outcome.counter.textFrames.filter((t) => t.startsWith('BLK')).length, 2);
    assert.equal(outcome.type, 'error');
    assert.equal(outcome.error?.code, 'checksumMismatch');
    assert.equal(outcome.error?.status, 422);
    assert.deepEqual(await storedFiles(started.dir), []);
    await eventually(async () => (await partialFiles(started.dir)).length === 0, 'the partial deleted');
  });

  it('without the flip, the same upload through the proxy lands with the content hash the client sent', async () => {
    const started = await startServer();
    cleanups.push(() => started.stop());
    const data = bytes(4 * 1024 * 1024, 23);
    const proxy = await TcpProxy.start(started.server.port);
    cleanups.push(() => proxy.close());
    const outcome = await runTransfer({
      url: `ws://127.0.0.1:${proxy.port}/upload`,
      file: fileOf(data, 'ok.bin'),
    });
    assert.equal(outcome.type, 'success', outcome.error?.message);
    const fin = JSON.parse(outcome.counter.textFrames.find((t) => t.startsWith('FIN'))!.slice(4));
    const stored = await readStored(started.dir, 'ok.bin');
    assert.deepEqual(stored, data);
    assert.match(fin.checksum, /^sha256-blocks:[A-Za-z0-9+/]{43}=$/);
  });
});
