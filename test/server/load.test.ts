// Load: many connections at once, slow clients, and connection churn. The server must stay up, close idle
// clients by its timeouts, and give its memory back.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import {
  bytes,
  eventually,
  partialFiles,
  Peer,
  readStored,
  sha256,
  startServer,
  storedFiles,
  uploadV1,
} from './peer.ts';

// A full collection before each reading makes heap figures comparable; the flag can be set at run time.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapUsed(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const MiB = 1024 * 1024;
const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

/** Opens a raw TCP connection to the server. */
function rawConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with the milliseconds until the server closed the socket, or rejects after `limit`. */
function closedWithin(socket: net.Socket, limit: number, label = 'the socket'): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const state = `readyState ${socket.readyState}, ${socket.bytesWritten} bytes written, ${socket.bytesRead} read`;
      reject(new Error(`${label} still open after ${limit} ms (${state})`));
    }, limit);
    socket.on('error', () => undefined);
    // Read whatever the server answers (Node's own header timeout writes a 408 before it closes): a socket
    // whose data nobody reads never emits 'end', so it would never close on this side.
    socket.resume();
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

describe('load', () => {
  it('holds 200 concurrent connections (100 idle, 100 uploading), stores every file, closes the idle ones', async (t: TestContext) => {
    const env = await startServer({
      idleTimeout: 3000,
      maxConnectionsPerClient: 1000,
      connectionBurstPerClient: 1000,
      maxUploadsPerClient: 200,
      maxUploads: 200,
    });
    try {
      const before = heapUsed();
      const idle = await Promise.all(Array.from({ length: 100 }, () => Peer.connect(env.url)));
      const uploaders = await Promise.all(Array.from({ length: 100 }, () => Peer.connect(env.url)));
      assert.equal(env.server.connections, 200);
      let peakUploads = 0;
      let peakConnections = 0;
      // Sampled while the uploads run: how many connections and uploads the server really held at once.
      const sampler = setInterval(() => {
        peakUploads = Math.max(peakUploads, env.server.activeUploads);
        peakConnections = Math.max(peakConnections, env.server.connections);
      }, 2);
      const data = (i: number) => bytes(64 * 1024, i + 1);
      const done = uploaders.map(async (peer, i) => {
        const type = i % 2 === 0 ? 'binary' : 'base64';
        const answers = await uploadV1(peer, `load-${i}.bin`, data(i), type, 8 * 1024);
        assert.ok(
          answers.every((a) => a.code === 200),
          JSON.stringify(answers.filter((a) => a.code !== 200)),
        );
        peer.close();
      });
      await Promise.all(done).finally(() => clearInterval(sampler));
      const stored = await storedFiles(env.dir);
      assert.equal(stored.length, 100);
      for (let i = 0; i < 100; i += 9) {
        assert.equal(sha256(await readStored(env.dir, `load-${i}.bin`)), sha256(data(i)));
      }
      const closes = await Promise.all(idle.map((peer) => peer.waitClose(6000)));
      assert.ok(
        closes.every((c) => c.code === 1001),
        'idle clients are closed by the idle timeout',
      );
      await eventually(() => env.server.connections === 0, 'every connection to be counted out');
      assert.equal(env.server.activeUploads, 0);
      assert.deepEqual(await partialFiles(env.dir), []);
      const afterAll = heapUsed();
      t.diagnostic(
        `peak ${peakConnections} connections and ${peakUploads} uploads at once; ` +
          `heap before ${mib(before)}, after ${mib(afterAll)}`,
      );
      assert.equal(peakConnections, 200);
      assert.ok(peakUploads >= 50, `only ${peakUploads} uploads ran at once`);
      assert.ok(afterAll - before < 32 * MiB, `heap grew by ${mib(afterAll - before)}`);
    } finally {
      await env.stop();
    }
  });

  it('cuts off a slowloris client that trickles its HTTP upgrade headers, and one that sends nothing', async (t: TestContext) => {
    const env = await startServer({ handshakeTimeout: 500 });
    try {
      const port = env.server.port;
      const trickler = await rawConnect(port);
      const silent = await rawConnect(port);
      trickler.write('GET /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      let sent = 0;
      const drip = setInterval(() => {
        if (!trickler.destroyed) trickler.write(`X-Slow-${sent++}: a\r\n`);
      }, 100);
      try {
        const [trickled, quiet] = await Promise.all([
          closedWithin(trickler, 4000, 'the trickler'),
          closedWithin(silent, 4000, 'the silent client'),
        ]);
        t.diagnostic(
          `slowloris closed after ${trickled} ms (${sent} header lines), silent after ${quiet} ms`,
        );
        assert.ok(sent >= 3, 'the headers were still coming in');
      } finally {
        clearInterval(drip);
      }
      // The server still serves a normal client.
      const peer = await Peer.connect(env.url);
      await uploadV1(peer, 'after-slowloris.txt', Buffer.from('ok'), 'binary');
      peer.close();
    } finally {
      await env.stop();
    }
  });

  it('closes a WebSocket client that trickles one frame byte by byte (idle timeout) and drops its partial', async () => {
    const env = await startServer({ idleTimeout: 500 });
    try {
      const peer = await Peer.connect(env.url);
      await peer.ask('STOR: {"filename":"slow.bin","size":1000,"type":"binary"}');
      const raw = (peer.socket as unknown as { _socket: net.Socket })._socket;
      // A masked binary frame announcing 100 bytes, of which only a byte every 100 ms ever comes.
      raw.write(Buffer.from([0x82, 0x80 | 100, 1, 2, 3, 4]));
      const drip = setInterval(() => raw.write(Buffer.from([0])), 100);
      try {
        assert.equal((await peer.waitClose(4000)).code, 1001);
      } finally {
        clearInterval(drip);
      }
      await eventually(async () => (await partialFiles(env.dir)).length === 0, 'the partial to go');
      assert.deepEqual(await storedFiles(env.dir), []);
    } finally {
      await env.stop();
    }
  });

  it('survives 1,000 connect/disconnect cycles and returns to its memory baseline', async (t: TestContext) => {
    // Every client here comes from 127.0.0.1: the per-client limits must not be what this test measures.
    const env = await startServer({
      maxConnectionsPerClient: 100,
      maxUploadsPerClient: 100,
      maxConnectionRatePerClient: 1e6,
      connectionBurstPerClient: 1e6,
    });
    try {
      const cycle = async (i: number) => {
        const peer = await Peer.connect(env.url);
        // A mix of endings: a clean close, a reset, and a reset in the middle of an upload.
        if (i % 3 === 0) peer.close();
        else if (i % 3 === 1) peer.socket.terminate();
        else {
          await peer.ask(`STOR: {"filename":"churn-${i}.bin","size":100,"type":"binary"}`);
          await peer.ask(Buffer.alloc(10));
          peer.socket.terminate();
        }
      };
      const batch = async (from: number, count: number) => {
        await Promise.all(Array.from({ length: count }, (_, k) => cycle(from + k)));
      };
      // Warm-up, so that lazily built things (JIT, pools) are in the baseline.
      for (let i = 0; i < 100; i += 50) await batch(i, 50);
      await eventually(() => env.server.connections === 0, 'the warm-up to end');
      const baseline = heapUsed();
      const started = Date.now();
      for (let i = 0; i < 1000; i += 50) await batch(1000 + i, 50);
      await eventually(() => env.server.connections === 0, 'every connection to be counted out', 10_000);
      await eventually(async () => (await partialFiles(env.dir)).length === 0, 'every partial to go');
      const afterChurn = heapUsed();
      t.diagnostic(
        `1,000 cycles in ${Date.now() - started} ms; heap baseline ${mib(baseline)}, after ${mib(afterChurn)}`,
      );
      assert.equal(env.server.activeUploads, 0);
      assert.deepEqual(await storedFiles(env.dir), []);
      assert.ok(afterChurn - baseline < 16 * MiB, `heap grew by ${mib(afterChurn - baseline)}`);
      const peer = await Peer.connect(env.url);
      await uploadV1(peer, 'after-churn.txt', Buffer.from('still up'), 'base64');
      peer.close();
    } finally {
      await env.stop();
    }
  });
});
