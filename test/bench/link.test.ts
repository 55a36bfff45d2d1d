// The bench's link emulator (bench/link.ts) against real sockets on 127.0.0.1: bytes arrive intact
// (SHA-256) in both directions, and the delay and rate it adds are at least what was configured. Timing is
// only ever checked as a lower bound (the emulator must never deliver early); how much later a loaded
// machine delivers is not asserted.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { startLink, type Link } from '../../bench/link.ts';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** An echo server: writes back every byte, ends when the client ends. */
async function echoServer(): Promise<{ server: Server; port: number; received: () => Buffer }> {
  const chunks: Buffer[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, port: (server.address() as AddressInfo).port, received: () => Buffer.concat(chunks) };
}

async function open(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

/** Resolves with the next `length` bytes from `socket` (bounded by `timeoutMs`). */
function readBytes(socket: Socket, length: number, timeoutMs = 30_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const timer = setTimeout(
      () => reject(new Error(`only ${have} of ${length} bytes in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (have >= length) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on('data', onData);
  });
}

describe('link emulator', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('delivers every byte intact both ways, and an end after them', async () => {
    const echo = await echoServer();
    cleanup.push(() => new Promise<void>((resolve) => echo.server.close(() => resolve())));
    const link = await startLink({
      targetPort: echo.port,
      up: { delayMs: 5, bytesPerSecond: 40_000_000 },
      down: { delayMs: 5, bytesPerSecond: 40_000_000 },
      queueBytes: 256 * 1024,
    });
    cleanup.push(() => link.close());
    const socket = await open(link.port);
    const payload = randomBytes(4 * 1024 * 1024 + 123);
    const echoed: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => echoed.push(chunk));
    const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
    // Written in pieces of odd sizes, so packets are cut across writes.
    for (let at = 0; at < payload.length; at += 100_003) socket.write(payload.subarray(at, at + 100_003));
    socket.end();
    await ended;
    socket.destroy();
    assert.equal(sha256(echo.received()), sha256(payload), 'bytes the server received');
    assert.equal(sha256(Buffer.concat(echoed)), sha256(payload), 'bytes the client received back');
    assert.equal(link.stats().bytesUp, payload.length);
    assert.equal(link.stats().bytesDown, payload.length);
    assert.equal(link.stats().connections, 1);
  });

  it('adds at least the configured delay each way (a lower bound), on the first exchange and later ones', async () => {
    const echo = await echoServer();
    cleanup.push(() => new Promise<void>((resolve) => echo.server.close(() => resolve())));
    const up = 30;
    const down = 20;
    const link = await startLink({
      targetPort: echo.port,
      up: { delayMs: up, bytesPerSecond: Infinity },
      down: { delayMs: down, bytesPerSecond: Infinity },
    });
    cleanup.push(() => link.close());
    const socket = await open(link.port);
    for (let round = 0; round < 5; round++) {
      const ping = Buffer.from([round]);
      const sent = performance.now();
      socket.write(ping);
      const back = await readBytes(socket, 1);
      const elapsed = performance.now() - sent;
      assert.deepEqual(back, ping);
      assert.ok(elapsed >= up + down, `round ${round}: ${elapsed.toFixed(2)} ms < ${up + down} ms`);
    }
    socket.destroy();
  });

  it('takes at least size ÷ rate to carry a payload (rate lower bound)', async () => {
    const echo = await echoServer();
    cleanup.push(() => new Promise<void>((resolve) => echo.server.close(() => resolve())));
    const rate = 8_000_000; // bytes per second
    const link = await startLink({
      targetPort: echo.port,
      up: { delayMs: 0, bytesPerSecond: rate },
      down: { delayMs: 0, bytesPerSecond: Infinity },
    });
    cleanup.push(() => link.close());
    const socket = await open(link.port);
    const payload = randomBytes(2 * 1024 * 1024);
    const sent = performance.now();
    socket.write(payload);
    const back = await readBytes(socket, payload.length);
    const elapsed = performance.now() - sent;
    socket.destroy();
    assert.equal(sha256(back), sha256(payload));
    const floor = (payload.length / rate) * 1000;
    assert.ok(elapsed >= floor, `${elapsed.toFixed(1)} ms < ${floor.toFixed(1)} ms at ${rate} B/s`);
  });

  it('holds a bounded amount when the receiver stops reading, then delivers all of it intact', async () => {
    // A server that does not read until told to: the link must pause the sender, not buffer without end.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const chunks: Buffer[] = [];
    const server = createServer((socket) => {
      socket.pause();
      void released.then(() => {
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.resume();
      });
      socket.on('end', () => socket.end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const link: Link = await startLink({
      targetPort: (server.address() as AddressInfo).port,
      up: { delayMs: 1, bytesPerSecond: Infinity },
      down: { delayMs: 1, bytesPerSecond: Infinity },
    });
    cleanup.push(() => link.close());
    const socket = await open(link.port);
    const payload = randomBytes(96 * 1024 * 1024);
    let written = 0;
    // Write while the socket accepts, bounded in count and time: stops once the kernel and link push back.
    const deadline = performance.now() + 20_000;
    while (written < payload.length && performance.now() < deadline) {
      const piece = payload.subarray(written, written + 1024 * 1024);
      written += piece.length;
      if (!socket.write(piece)) {
        const drained = await Promise.race([
          new Promise<boolean>((resolve) => socket.once('drain', () => resolve(true))),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 500)),
        ]);
        if (!drained) break;
      }
    }
    // The sender was pushed back before the whole payload left it: the link holds a bounded amount.
    assert.ok(socket.writableLength > 0, 'the sender should be pushed back while the receiver does not read');
    release();
    const rest = payload.subarray(written);
    socket.end(rest);
    const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
    socket.resume();
    await ended;
    socket.destroy();
    assert.equal(sha256(Buffer.concat(chunks)), sha256(payload));
  });

  it('closes itself (and its connections) after its lifetime', async () => {
    const echo = await echoServer();
    cleanup.push(() => new Promise<void>((resolve) => echo.server.close(() => resolve())));
    const link = await startLink({
      targetPort: echo.port,
      up: { delayMs: 0, bytesPerSecond: Infinity },
      down: { delayMs: 0, bytesPerSecond: Infinity },
      lifetimeMs: 200,
    });
    cleanup.push(() => link.close());
    const socket = await open(link.port);
    let timer: NodeJS.Timeout | undefined;
    const closed = await new Promise<boolean>((resolve) => {
      // The link's side closing shows as an end (or a reset) here.
      socket.once('end', () => resolve(true));
      socket.once('close', () => resolve(true));
      socket.on('error', () => undefined);
      socket.resume();
      timer = setTimeout(() => resolve(false), 20_000);
    });
    clearTimeout(timer);
    socket.destroy();
    assert.ok(closed, 'the connection should be closed by the link within 20 s');
  });

  it('refuses a negative or non-finite delay and a rate of 0', async () => {
    const base = {
      targetPort: 1,
      up: { delayMs: 0, bytesPerSecond: 1 },
      down: { delayMs: 0, bytesPerSecond: 1 },
    };
    await assert.rejects(startLink({ ...base, up: { delayMs: -1, bytesPerSecond: 1 } }), RangeError);
    await assert.rejects(startLink({ ...base, down: { delayMs: Infinity, bytesPerSecond: 1 } }), RangeError);
    await assert.rejects(startLink({ ...base, up: { delayMs: 0, bytesPerSecond: 0 } }), RangeError);
  });
});
