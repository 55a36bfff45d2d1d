// The WebSocket and TCP layer of the CLI as an attacker uses it (issue 15, wave 2): frames a conforming
// client never sends (thousands of fragments, empty continuations, an oversized frame, invalid UTF-8, a
// compression offer), pings it never reads the answers to, requests trickled a header at a time, and one
// address holding many idle TCP connections (before any upgrade, where the WebSocket limits do not see
// them). Each is answered within its limit, and other clients keep uploading.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { startCli, type CliProcess } from '../helpers/cli-process.ts';
import { clientFrame, OPCODE, rawUpgrade } from '../helpers/raw-websocket.ts';
import { bytes, Peer, readStored, sha256, tempDir, uploadV1 } from './peer.ts';

const MIB = 1024 * 1024;
const portOf = (cli: CliProcess) => Number(new URL(cli.url).port);
const rssOf = async (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

/** A v1 upload from `localAddress` (another address than the attacker's), checked byte for byte. */
async function uploadsFrom(cli: CliProcess, dir: string, name: string, localAddress = '127.0.0.2') {
  const data = bytes(20_000, name.length);
  const peer = await Peer.connect(cli.url, undefined, { localAddress });
  const answers = await uploadV1(peer, name, data, 'binary', 4096);
  peer.close();
  assert.ok(
    answers.every((answer) => answer.code === 200),
    JSON.stringify(answers),
  );
  assert.equal(sha256(await readStored(dir, name)), sha256(data));
}

describe('frames a conforming client never sends (CLI, default options)', () => {
  let cli: CliProcess;
  let dir: string;
  before(async () => {
    dir = await tempDir();
    cli = await startCli(['--dir', dir]);
  });
  after(() => cli.stop());

  it('permessage-deflate offered: not negotiated (no decompression bomb to inflate)', async () => {
    const ws = await rawUpgrade(portOf(cli), '/upload', 'Sec-WebSocket-Extensions: permessage-deflate\r\n');
    assert.match(ws.head, /^HTTP\/1\.1 101/);
    assert.doesNotMatch(ws.head, /sec-websocket-extensions/i);
    // A frame with RSV1 (compressed) set is then a protocol error.
    const compressed = clientFrame(OPCODE.text, Buffer.from('STOR'));
    compressed[0]! |= 0x40;
    ws.socket.write(compressed);
    assert.equal(await ws.closed, 1002);
  });

  for (const [what, payload] of [
    ['1-byte', Buffer.from('a')],
    ['empty', Buffer.alloc(0)],
  ] as const) {
    it(`20,000 ${what} fragments of one message → close 1008 (bounded count, not only bytes)`, async () => {
      const ws = await rawUpgrade(portOf(cli));
      const frames = [clientFrame(OPCODE.text, Buffer.from('S'), false)];
      for (let i = 0; i < 20_000; i++) frames.push(clientFrame(OPCODE.continuation, payload, false));
      ws.socket.write(Buffer.concat(frames));
      assert.equal(await ws.closed, 1008);
    });
  }

  it('a frame over maxPayload (16 MiB) → close 1009 before it is buffered whole', async () => {
    const ws = await rawUpgrade(portOf(cli));
    // Only the header and a little: the length alone must be refused.
    const frame = clientFrame(OPCODE.binary, Buffer.alloc(16 * MIB + 1)).subarray(0, 64 * 1024);
    ws.socket.write(frame);
    assert.equal(await ws.closed, 1009);
  });

  it('invalid UTF-8 in a text frame → close 1007', async () => {
    const ws = await rawUpgrade(portOf(cli));
    ws.socket.write(clientFrame(OPCODE.text, Buffer.from([0x53, 0x54, 0xc3, 0x28])));
    assert.equal(await ws.closed, 1007);
  });

  it('a ping flood that never reads the pongs: cut off, memory bounded, others upload', async () => {
    const before = await rssOf(cli.child.pid!);
    const ws = await rawUpgrade(portOf(cli));
    ws.socket.pause();
    const batch = Buffer.concat(
      Array.from({ length: 1000 }, () => clientFrame(OPCODE.ping, Buffer.alloc(125))),
    );
    let sent = 0;
    let cut = false;
    void ws.closed.then(() => (cut = true));
    // Bounded: at most 64 MiB of pings, at most 10 s.
    for (const deadline = Date.now() + 10_000; !cut && sent < 64 * MIB && Date.now() < deadline;) {
      if (!ws.socket.write(batch)) await new Promise((resolve) => setTimeout(resolve, 5));
      sent += batch.length;
    }
    await Promise.race([ws.closed, new Promise((resolve) => setTimeout(resolve, 5000))]);
    assert.ok(cut, `the flood was cut off (${sent} bytes sent)`);
    assert.ok((await rssOf(cli.child.pid!)) - before < 64 * MIB, 'the unread pongs did not pile up');
    await uploadsFrom(cli, dir, 'after-pings.bin');
  });
});

describe('slow and silent connections (CLI, --handshake-timeout 1)', () => {
  let cli: CliProcess;
  let dir: string;
  before(async () => {
    dir = await tempDir();
    cli = await startCli(['--dir', dir, '--handshake-timeout', '1', '--static', 'demo']);
  });
  after(() => cli.stop());

  /** Opens a connection, sends `start`, then a header line every 200 ms; resolves when the server cut it. */
  async function trickle(start: string): Promise<boolean> {
    const socket = net.connect(portOf(cli), '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    if (start) socket.write(start);
    const timer = setInterval(() => socket.write('X-Slow: 1\r\n'), 200);
    const cut = await new Promise<boolean>((resolve) => {
      socket.once('close', () => resolve(true));
      // Far above the 1 s limit: a connection still open then was not cut.
      setTimeout(() => resolve(false), 8000);
    });
    clearInterval(timer);
    socket.destroy();
    return cut;
  }

  for (const [what, start] of [
    ['the upgrade', 'GET /upload HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'],
    ['/healthz', 'GET /healthz HTTP/1.1\r\nHost: x\r\n'],
    ['/metrics', 'GET /metrics HTTP/1.1\r\nHost: x\r\n'],
    ['--static', 'GET /index.html HTTP/1.1\r\nHost: x\r\n'],
    ['a connection that sends nothing', ''],
  ] as const) {
    it(`slowloris on ${what} is cut off after the handshake timeout`, async () => {
      assert.ok(await trickle(start));
    });
  }
});

describe('one address holding idle TCP connections (CLI, 300 file descriptors)', () => {
  let cli: CliProcess;
  let dir: string;
  const held: net.Socket[] = [];
  before(async () => {
    dir = await tempDir();
    cli = await startCli(['--dir', dir], { maxOpenFiles: 300 });
  });
  after(async () => {
    for (const socket of held) socket.destroy();
    await cli.stop();
  });

  it('cannot take the server’s descriptors from other clients (per-address cap before any upgrade)', async () => {
    // 400 connections that send nothing, from 127.0.0.1: more than the server has descriptors.
    const opened = await Promise.all(
      Array.from(
        { length: 400 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const socket = net.connect({ port: portOf(cli), host: '127.0.0.1' });
            socket.on('error', () => undefined);
            socket.once('connect', () => resolve(socket));
            socket.once('close', () => resolve(socket));
          }),
      ),
    );
    held.push(...opened);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Another client (127.0.0.2) still gets in and stores its file, while the attacker's sockets are open.
    await uploadsFrom(cli, dir, 'meanwhile.bin');
    assert.ok(
      held.some((socket) => !socket.destroyed),
      'the attacker still holds some (up to its cap)',
    );
    assert.ok(cli.running());
  });
});
