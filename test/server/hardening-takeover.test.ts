// Silent drops and takeover (issue 15): a connection that dies without a FIN or RST, simulated by a TCP proxy
// that black-holes both directions, must not keep its upload from being resumed. The heartbeat lets the
// server notice the dead peer; a resume by the owner takes the upload over at once; either way the stored
// file is the one the client sent, byte for byte.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { CommitHookStore, gate } from '../helpers/commit-hook-store.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import {
  bytes,
  eventually,
  finFor,
  Peer,
  readStored,
  sha256,
  startServer,
  storedFiles,
  storV2 as storV2For,
  tempDir,
} from './peer.ts';
import type { UploadServerOptions } from '../../src/server/index.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const CHUNK = 16 * 1024;
const storV2 = (filename: string, size: number, resume: string | null = null) =>
  storV2For(filename, size, resume, 1);
const fin = finFor;

async function start(options: Partial<UploadServerOptions> = {}) {
  const env = await startServer(options);
  cleanups.push(() => env.stop());
  const proxy = await TcpProxy.start(env.server.port);
  cleanups.push(() => proxy.close());
  return { env, proxy, viaProxy: `ws://127.0.0.1:${proxy.port}/upload` };
}

/** Starts a v2 upload through `url` and sends `chunks` chunks of `data`, each acknowledged. */
async function startUpload(url: string, name: string, data: Buffer, chunks: number) {
  const peer = await Peer.connect(url);
  cleanups.push(() => peer.socket.terminate());
  const stor = await peer.ask(storV2(name, data.length));
  assert.equal(stor.code, 200, JSON.stringify(stor));
  for (let i = 0; i < chunks; i++) {
    const answer = await peer.ask(data.subarray(i * CHUNK, (i + 1) * CHUNK));
    assert.equal(answer.offset, (i + 1) * CHUNK);
  }
  return { peer, id: stor.id as string };
}

/** Resumes `id` on a new direct connection and sends the rest, then FIN. */
async function finish(url: string, name: string, data: Buffer, id: string) {
  const peer = await Peer.connect(url);
  cleanups.push(() => peer.socket.terminate());
  const stor = await peer.ask(storV2(name, data.length, id));
  assert.equal(stor.code, 200, `resumed at once, not refused: ${JSON.stringify(stor)}`);
  const offset = stor.offset as number;
  for (let at = offset; at < data.length; at += CHUNK) {
    assert.equal((await peer.ask(data.subarray(at, at + CHUNK))).code, 200);
  }
  const done = await peer.ask(fin(data));
  assert.equal(done.code, 200, JSON.stringify(done));
  return { offset, filename: done.filename as string, peer };
}

describe('takeover of a resumable upload', () => {
  it('a resume by the owner takes over a black-holed connection at once; the old one is closed', async () => {
    // A heartbeat far off: here only the takeover can free the upload.
    const { env, proxy, viaProxy } = await start({ heartbeatInterval: 600_000 });
    const data = bytes(10 * CHUNK + 123, 3);
    const old = await startUpload(viaProxy, 'taken.bin', data, 4);
    proxy.blackhole();
    // The old connection's next chunk vanishes on the way: the server never sees it.
    old.peer.socket.send(Buffer.alloc(CHUNK, 0xee));
    assert.equal(env.server.connections, 1);
    const { offset, filename } = await finish(env.url, 'taken.bin', data, old.id);
    assert.equal(offset, 4 * CHUNK, 'the resume continues where the acknowledged data ended');
    assert.equal(filename, 'taken.bin');
    assert.equal(sha256(await readStored(env.dir, 'taken.bin')), sha256(data));
    await eventually(() => env.server.connections === 1, 'the old connection to be closed', 5000);
    assert.deepEqual(await storedFiles(env.dir), ['taken.bin']);
  });

  it('a live old connection is closed with 1008 and what it sends afterwards is not written', async () => {
    const { env } = await start({ heartbeatInterval: 600_000 });
    const data = bytes(6 * CHUNK, 5);
    const old = await startUpload(env.url, 'live.bin', data, 2);
    const newer = await Peer.connect(env.url);
    cleanups.push(() => newer.socket.terminate());
    const stor = await newer.ask(storV2('live.bin', data.length, old.id));
    assert.equal(stor.code, 200, JSON.stringify(stor));
    assert.equal(stor.offset, 2 * CHUNK);
    const closed = await old.peer.waitClose(5000);
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /newer connection/);
    // Whatever the old client still tries to send goes nowhere.
    if (old.peer.socket.readyState === old.peer.socket.OPEN) old.peer.socket.send(Buffer.alloc(CHUNK, 0xee));
    for (let at = 2 * CHUNK; at < data.length; at += CHUNK) {
      assert.equal((await newer.ask(data.subarray(at, at + CHUNK))).code, 200);
    }
    assert.equal((await newer.ask(fin(data))).code, 200);
    assert.equal(sha256(await readStored(env.dir, 'live.bin')), sha256(data));
  });

  it('another user cannot take an upload over (403), and its holder keeps it', async () => {
    const users = new Map([
      ['alice', 'a-secret'],
      ['bob', 'b-secret'],
    ]);
    const { env } = await start({
      heartbeatInterval: 600_000,
      authenticate: ({ login, password }) =>
        login !== undefined && users.get(login) === password ? { user: login } : false,
    });
    const data = bytes(4 * CHUNK, 9);
    const alice = await Peer.connect(env.url);
    cleanups.push(() => alice.socket.terminate());
    assert.equal((await alice.ask('AUTH: {"login":"alice","password":"a-secret"}')).code, 200);
    const stor = await alice.ask(storV2('mine.bin', data.length));
    assert.equal((await alice.ask(data.subarray(0, CHUNK))).code, 200);
    const bob = await Peer.connect(env.url);
    cleanups.push(() => bob.socket.terminate());
    assert.equal((await bob.ask('AUTH: {"login":"bob","password":"b-secret"}')).code, 200);
    assert.equal((await bob.ask(storV2('mine.bin', data.length, stor.id as string))).code, 403);
    for (let at = CHUNK; at < data.length; at += CHUNK) {
      assert.equal((await alice.ask(data.subarray(at, at + CHUNK))).code, 200);
    }
    assert.equal((await alice.ask(fin(data))).code, 200);
    assert.equal(sha256(await readStored(env.dir, 'mine.bin')), sha256(data));
  });
});

describe('heartbeat', () => {
  it('terminates a black-holed connection and releases its upload for a resume', async () => {
    const { env, proxy, viaProxy } = await start({ heartbeatInterval: 100 });
    const data = bytes(5 * CHUNK, 7);
    const old = await startUpload(viaProxy, 'silent.bin', data, 3);
    proxy.blackhole();
    await eventually(() => env.server.connections === 0, 'the server to drop the silent peer', 10_000);
    assert.ok(proxy.swallowed > 0, 'the server pinged into the black hole');
    const { offset } = await finish(env.url, 'silent.bin', data, old.id);
    assert.equal(offset, 3 * CHUNK);
    assert.equal(sha256(await readStored(env.dir, 'silent.bin')), sha256(data));
  });

  it('keeps a quiet but live connection open across many intervals', async () => {
    const { env } = await start({ heartbeatInterval: 50 });
    const peer = await Peer.connect(env.url);
    cleanups.push(() => peer.socket.terminate());
    let pings = 0;
    peer.socket.on('ping', () => (pings += 1));
    await eventually(() => pings >= 10, 'ten pings to be answered', 10_000);
    assert.equal(peer.closed, undefined);
    assert.equal(env.server.connections, 1);
  });
});

describe('takeover while the old connection commits its FIN', () => {
  /** The old connection sends every chunk, then FIN; returns it and its id. */
  async function sendAllThenFin(url: string, name: string, data: Buffer) {
    const old = await startUpload(url, name, data, Math.floor(data.length / CHUNK));
    old.peer.socket.send(data.subarray(Math.floor(data.length / CHUNK) * CHUNK));
    old.peer.socket.send(fin(data));
    return old;
  }

  /** Resumes `id` on a new connection and finishes it however the server answers; the FIN answer. */
  async function resumeAndFinish(url: string, name: string, data: Buffer, id: string) {
    const peer = await Peer.connect(url);
    cleanups.push(() => peer.socket.terminate());
    const stor = await peer.ask(storV2(name, data.length, id));
    assert.equal(stor.code, 200, `taken over, not refused: ${JSON.stringify(stor)}`);
    for (let at = stor.offset as number; at < data.length; at += CHUNK) {
      assert.equal((await peer.ask(data.subarray(at, at + CHUNK))).code, 200);
    }
    return peer.ask(fin(data));
  }

  it('a resume that meets the old FIN half way through its commit stores the file once', async () => {
    const store = new CommitHookStore(await tempDir());
    const { env, proxy, viaProxy } = await start({ store, dir: store.inner.dir, heartbeatInterval: 600_000 });
    cleanups.push(() => rm(store.inner.dir, { recursive: true, force: true }));
    const held = gate();
    store.beforeCommit = () => held.wait();
    const data = bytes(5 * CHUNK + 77, 11);
    const old = await sendAllThenFin(viaProxy, 'race.bin', data);
    await held.reached;
    // The old client vanished while its FIN was being committed; it comes back on a new connection.
    proxy.blackhole();
    const finished = resumeAndFinish(env.url, 'race.bin', data, old.id);
    // The takeover closes the old connection; only then does the slow disk finish the commit.
    await eventually(() => env.server.connections === 2, 'the resume to arrive');
    setTimeout(held.open, 100);
    const done = await finished;
    assert.equal(done.code, 200, JSON.stringify(done));
    assert.equal(done.filename, 'race.bin');
    assert.deepEqual(await storedFiles(store.inner.dir), ['race.bin'], 'stored once, not twice');
    assert.equal(sha256(await readStored(store.inner.dir, 'race.bin')), sha256(data));
    assert.equal(store.commits, 1, 'one commit reached the disk');
  });

  it('a resume racing a FIN still queued behind the last chunk stores the file once, every round', async () => {
    const { env } = await start({ heartbeatInterval: 600_000 });
    // Bounded: a few rounds, each meeting the old FIN at whatever step the machine's timing gives.
    for (let round = 0; round < 5; round++) {
      const name = `queued-${round}.bin`;
      const data = bytes(4 * CHUNK + 5, 20 + round);
      const old = await sendAllThenFin(env.url, name, data);
      const done = await resumeAndFinish(env.url, name, data, old.id);
      assert.equal(done.code, 200, `round ${round}: ${JSON.stringify(done)}`);
      assert.equal(done.filename, name);
      assert.equal(sha256(await readStored(env.dir, name)), sha256(data));
    }
    const stored = await storedFiles(env.dir);
    assert.equal(stored.length, 5, `one file per round, no copies: ${stored.join(', ')}`);
  });
});

describe('a storage failure at FIN', () => {
  it('is answered as FIN 500 with a clear message; the resumed FIN then stores the file once', async () => {
    const store = new CommitHookStore(await tempDir());
    const { env } = await start({ store, dir: store.inner.dir, heartbeatInterval: 600_000 });
    cleanups.push(() => rm(store.inner.dir, { recursive: true, force: true }));
    let failures = 1;
    store.beforeCommit = async () => {
      if (failures-- > 0) throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
    };
    const data = bytes(3 * CHUNK + 9, 13);
    const old = await startUpload(env.url, 'flaky.bin', data, 3);
    assert.equal((await old.peer.ask(data.subarray(3 * CHUNK))).code, 200);
    const refused = await old.peer.ask(fin(data));
    assert.equal(refused.type, 'FIN', 'the answer names the command that failed, not DATA');
    assert.equal(refused.code, 500);
    assert.match(refused.message as string, /stor.*EIO/i);
    assert.doesNotMatch(refused.message as string, /\//, 'no path in the message');
    assert.equal((await old.peer.waitClose()).code, 1011);
    assert.deepEqual(await storedFiles(store.inner.dir), []);
    // A 500 is worth a retry: the bytes are kept, and the resume goes straight to FIN.
    const done = await finish(env.url, 'flaky.bin', data, old.id);
    assert.equal(done.offset, data.length);
    assert.equal(done.filename, 'flaky.bin');
    assert.deepEqual(await storedFiles(store.inner.dir), ['flaky.bin']);
    assert.equal(sha256(await readStored(store.inner.dir, 'flaky.bin')), sha256(data));
  });
});
