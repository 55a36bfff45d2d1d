// Many files over one connection (docs/protocol.md §3.6): the real UploadQueue and transfer core in Node,
// over ws sockets, against the reference server (which grants `reuse`) and the strict 2012 server (which
// does not). Every stored file is compared by SHA-256 with what was sent.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  UploadQueue,
  type UploadItem,
  type UploadQueueOptions,
  type WebSocketConstructor,
} from '../../src/core/index.ts';
import { createUploadServer, FileStore, type UploadServerOptions } from '../../src/server/index.ts';
import { StrictV1Server } from '../helpers/strict-v1-server.ts';
import { createHash } from 'node:crypto';
import {
  bytes,
  eventually,
  partialBytes,
  partialFiles,
  Peer,
  readStored,
  sha256,
  storedFiles,
  tempDir,
} from './peer.ts';
import { rm } from 'node:fs/promises';
import { pageEarlyGrants } from '../../src/core/early-memory.ts';
import { V1_TERMS, type Terms } from '../../src/protocol/index.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What the client's sockets did, in one order: sockets opened, text frames sent, answers received. */
interface Wire {
  sockets: number;
  log: string[];
  /** When given: every STOR frame sent, whole. */
  stors?: string[];
}

/** A ws-backed WebSocket for the core that logs what it does into `wire`. */
function loggingWebSocket(wire: Wire): WebSocketConstructor {
  class LoggingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      const socket = (wire.sockets += 1);
      this.addEventListener('open', () => wire.log.push(`${socket} open`));
      this.addEventListener('close', () => wire.log.push(`${socket} closed`));
      this.addEventListener('message', (event) => {
        if (typeof event.data === 'string') wire.log.push(`${socket} ← ${event.data.slice(0, 60)}`);
      });
    }
    override send(data: unknown, ...rest: unknown[]): void {
      wire.log.push(`${wire.sockets} → ${typeof data === 'string' ? data.slice(0, 4) : 'data'}`);
      if (typeof data === 'string' && data.startsWith('STOR')) wire.stors?.push(data);
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  }
  return LoggingWebSocket as unknown as WebSocketConstructor;
}

/** A reference server in a temp folder; `failCommit` makes the commit of files so named fail (a 500). */
async function referenceServer(options: Partial<UploadServerOptions> = {}, failCommit?: RegExp) {
  const dir = await tempDir();
  const store = new FileStore({ dir });
  if (failCommit) {
    const create = store.create.bind(store);
    store.create = async (request) => {
      const partial = await create(request);
      if (failCommit.test(request.filename)) {
        partial.commit = () => Promise.reject(new Error('The disk refused the commit.'));
      }
      return partial;
    };
  }
  const server = await createUploadServer({ dir, store, port: 0, host: '127.0.0.1', ...options });
  cleanups.push(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { server, dir, url: server.url };
}

/** Runs a queue over `files` to completion, bounded; `during` may act on its events. */
async function runQueue(
  url: string,
  files: File[],
  options: {
    concurrency?: number;
    auth?: { login: string; password: string };
    wire: Wire;
    transfer?: UploadQueueOptions;
  },
  during: (queue: UploadQueue) => void | Promise<void> = () => undefined,
): Promise<UploadItem[]> {
  const queue = new UploadQueue({
    url,
    WebSocket: loggingWebSocket(options.wire),
    resumeStore: null,
    retryDelays: [],
    concurrency: options.concurrency ?? 1,
    ...options.transfer,
    ...(options.auth ? { auth: options.auth } : {}),
  });
  await during(queue);
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the queue did not finish within 30 s')), 30_000);
    queue.addEventListener('complete', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  queue.add(files);
  queue.start();
  await done;
  return queue.items;
}

const file = (name: string, size: number, seed: number) => {
  const data = bytes(size, seed);
  return { data, file: new File([new Uint8Array(data)], name) };
};

async function assertStored(dir: string, name: string, data: Buffer): Promise<void> {
  assert.equal(sha256(await readStored(dir, name)), sha256(data), `${name} stored byte for byte`);
}

describe('many files over one connection', () => {
  it('sends consecutive files over one socket with one AUTH, each STOR before the FIN answer before it', async () => {
    const { url, dir } = await referenceServer({ authenticate: () => true });
    const files = [1, 2, 3, 4, 5].map((n) => file(`f${n}.bin`, 50_000 + n * 7_000, n));
    const wire: Wire = { sockets: 0, log: [] };
    const items = await runQueue(
      url,
      files.map((f) => f.file),
      { wire, auth: { login: 'alice', password: 'pw' } },
    );
    assert.deepEqual(
      items.map((item) => item.status),
      ['complete', 'complete', 'complete', 'complete', 'complete'],
    );
    for (const f of files) await assertStored(dir, f.file.name, f.data);
    assert.equal(wire.sockets, 1, 'one socket for five files');
    assert.equal(wire.log.filter((line) => line.endsWith('→ AUTH')).length, 1, 'one AUTH');
    assert.equal(wire.log.filter((line) => line.endsWith('→ STOR')).length, 5);
    // Round trips overlap: after the first file, every STOR went out before the FIN answer ahead of it.
    /** Where the n-th (from 0) line matching `pattern` is in the log. */
    const index = (pattern: RegExp, n: number) =>
      wire.log.map((line, i) => (pattern.test(line) ? i : -1)).filter((i) => i >= 0)[n] ?? -1;
    for (let n = 1; n < 5; n++) {
      assert.ok(index(/ → STOR$/, n) < index(/"type":"FIN"/, n - 1), `STOR ${n + 1} before FIN answer ${n}`);
    }
    // Early data (§3.9): after the first file, each small file's bytes and FIN went right behind its STOR,
    // before its answer; the first file, on a socket with no terms known yet, waited for its answer.
    const storAnswer = (n: number) => index(/ ← \{"type":"STOR"/, n);
    assert.ok(index(/ → data$/, 0) > storAnswer(0), 'no byte before the first STOR answer');
    for (let n = 1; n < 5; n++) {
      const between = wire.log.slice(index(/ → STOR$/, n), storAnswer(n));
      assert.ok(between.includes(`1 → data`), `file ${n + 1}: data before its STOR answer`);
      assert.ok(between.includes(`1 → FIN:`), `file ${n + 1}: FIN before its STOR answer`);
    }
  });

  it('keeps several connections busy, each carrying many files', async () => {
    const { url, dir } = await referenceServer();
    const files = Array.from({ length: 12 }, (_, n) => file(`c${n}.bin`, 20_000 + n, n + 10));
    const wire: Wire = { sockets: 0, log: [] };
    const items = await runQueue(
      url,
      files.map((f) => f.file),
      { wire, concurrency: 3 },
    );
    assert.ok(items.every((item) => item.status === 'complete'));
    for (const f of files) await assertStored(dir, f.file.name, f.data);
    assert.ok(
      wire.sockets >= 2 && wire.sockets <= 3,
      `${wire.sockets} sockets for 12 files at concurrency 3`,
    );
  });

  it('a file that fails on a shared connection leaves the next one uploading, on a fresh socket', async () => {
    // bad.bin's commit fails (500) on FIN, while c.bin's STOR already waits behind it on the same socket.
    const { url, dir } = await referenceServer({}, /^bad/);
    const files = [file('a.bin', 30_000, 1), file('bad.bin', 30_000, 2), file('c.bin', 30_000, 3)];
    const wire: Wire = { sockets: 0, log: [] };
    const items = await runQueue(
      url,
      files.map((f) => f.file),
      { wire },
    );
    assert.deepEqual(
      items.map((item) => [item.file.name, item.status]),
      [
        ['a.bin', 'complete'],
        ['bad.bin', 'failed'],
        ['c.bin', 'complete'],
      ],
    );
    // The server answers a storage failure under FIN with a 500 typed DATA, which the client reads as a bad
    // answer; either way the file failed, and alone.
    assert.match(items[1]!.error?.message ?? '', /500|Storage failed|DATA answer/);
    await assertStored(dir, 'a.bin', files[0]!.data);
    await assertStored(dir, 'c.bin', files[2]!.data);
    assert.deepEqual(await storedFiles(dir), ['a.bin', 'c.bin']);
    assert.equal(wire.sockets, 2, 'the failure retired the shared socket; c.bin went on a fresh one');
  });

  it('a cancel on a shared connection cancels that file only', async () => {
    const { url, dir } = await referenceServer();
    const files = [file('a.bin', 30_000, 1), file('big.bin', 16_000_000, 2), file('c.bin', 30_000, 3)];
    const wire: Wire = { sockets: 0, log: [] };
    // Small chunks and window, so that the big file is still sending (no FIN yet) at its first ack.
    const transfer = { v2ChunkSize: 64 * 1024, window: 2 };
    const items = await runQueue(
      url,
      files.map((f) => f.file),
      { wire, transfer },
      (queue) =>
        queue.addEventListener('progress', (event) => {
          if (event.detail.item.file.name === 'big.bin') queue.cancel(event.detail.item);
        }),
    );
    assert.deepEqual(
      items.map((item) => item.status),
      ['complete', 'cancelled', 'complete'],
    );
    await assertStored(dir, 'a.bin', files[0]!.data);
    await assertStored(dir, 'c.bin', files[2]!.data);
    assert.deepEqual(await storedFiles(dir), ['a.bin', 'c.bin']);
    // The ABOR deleted the cancelled upload's partial file.
    await eventually(async () => (await partialFiles(dir)).every((name) => !name.endsWith('.part')), 'ABOR');
  });

  it('gives each file its own connection against the strict 2012 server, which grants no reuse', async () => {
    const server = await StrictV1Server.start();
    cleanups.push(() => server.close());
    const files = [file('x.bin', 20_000, 4), file('y.bin', 20_000, 5), file('z.bin', 20_000, 6)];
    const wire: Wire = { sockets: 0, log: [] };
    const items = await runQueue(
      server.url,
      files.map((f) => f.file),
      { wire },
    );
    assert.ok(items.every((item) => item.status === 'complete'));
    assert.equal(wire.sockets, 3);
    assert.equal(server.uploads.length, 3);
    for (const [n, f] of files.entries()) assert.equal(sha256(server.received(n)), sha256(f.data));
    for (const upload of server.uploads) assert.deepEqual(upload.violations, []);
  });

  it('the session takes a second STOR after a FIN, pipelined: FIN before the ack, STOR before the FIN answer', async () => {
    const { url, dir } = await referenceServer({ authenticate: () => true });
    const peer = await Peer.connect(url);
    cleanups.push(() => peer.close());
    const digest = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('base64')}`;
    const stor = (name: string, size: number) =>
      `STOR: ${JSON.stringify({
        filename: name,
        size,
        type: 'binary',
        parameters: [],
        v: 2,
        ext: { binary: true, window: 16, chunk: 65536, checksum: ['sha256'], fin: true, reuse: true },
      })}`;
    assert.equal((await peer.ask('AUTH: {"login":"alice","password":"pw"}')).code, 200);
    const first = bytes(70_000, 1);
    const second = bytes(90_000, 2);
    const granted = await peer.ask(stor('one.bin', first.length));
    assert.equal((granted.ext as { reuse?: boolean }).reuse, true);
    // Everything of the first upload and the second STOR at once, without waiting for an answer.
    peer.socket.send(first);
    peer.socket.send(`FIN: ${JSON.stringify({ size: first.length, checksum: digest(first) })}`);
    peer.socket.send(stor('two.bin', second.length));
    const answers = [await peer.next(), await peer.next(), await peer.next()];
    assert.deepEqual(
      answers.map((answer) => [answer.type, answer.code]),
      [
        ['DATA', 200],
        ['FIN', 200],
        ['STOR', 200],
      ],
    );
    assert.notEqual(answers[2]!.id, answers[1]!.id, 'a new upload, no AUTH again');
    assert.equal((await peer.ask(second)).offset, second.length);
    const fin = await peer.ask(`FIN: ${JSON.stringify({ size: second.length, checksum: digest(second) })}`);
    assert.equal(fin.code, 200);
    await assertStored(dir, 'one.bin', first);
    await assertStored(dir, 'two.bin', second);
  });
});

describe('fewer round trips on a fresh socket: preconnect, and the early grant the page remembers', () => {
  /** Where the n-th (from 0) line matching `pattern` is in the log, -1 when there is none. */
  const at = (wire: Wire, pattern: RegExp, n = 0) =>
    wire.log.map((line, i) => (pattern.test(line) ? i : -1)).filter((i) => i >= 0)[n] ?? -1;

  it('preconnect() opens one socket before any file; the first file takes it, nothing sent on it before', async () => {
    const { url, dir } = await referenceServer({ authenticate: () => true });
    const files = [file('p1.bin', 40_000, 1), file('p2.bin', 50_000, 2), file('p3.bin', 60_000, 3)];
    const wire: Wire = { sockets: 0, log: [] };
    const items = await runQueue(
      url,
      files.map((f) => f.file),
      { wire, auth: { login: 'alice', password: 'pw' } },
      async (queue) => {
        assert.equal(queue.preconnect(), true, 'a socket opened');
        assert.equal(queue.preconnect(), false, 'one is opening already: no second');
        assert.equal(wire.sockets, 1);
        await eventually(() => wire.log.includes('1 open'), 'the preconnected socket opens');
      },
    );
    assert.ok(items.every((item) => item.status === 'complete'));
    for (const f of files) await assertStored(dir, f.file.name, f.data);
    assert.equal(wire.sockets, 1, 'the preconnected socket carried all three files');
    // The socket opened before any file was added, and the first frame on it is the first upload's AUTH.
    assert.deepEqual(wire.log.slice(0, 2), ['1 open', '1 → AUTH']);
    assert.equal(wire.log.filter((line) => line.endsWith('→ AUTH')).length, 1, 'one AUTH');
  });

  it('a file added while the preconnected socket is still connecting waits for it, not for another', async () => {
    const { url, dir } = await referenceServer();
    const files = [file('c1.bin', 30_000, 4)];
    const wire: Wire = { sockets: 0, log: [] };
    const items = await runQueue(
      url,
      files.map((f) => f.file),
      { wire },
      (queue) => void queue.preconnect(),
    );
    assert.equal(items[0]!.status, 'complete');
    await assertStored(dir, 'c1.bin', files[0]!.data);
    assert.equal(wire.sockets, 1);
  });

  it('a preconnected socket no upload takes closes by itself after its idle time', async () => {
    const { url } = await referenceServer();
    const wire: Wire = { sockets: 0, log: [] };
    const queue = new UploadQueue({ url, WebSocket: loggingWebSocket(wire), resumeStore: null });
    assert.equal(queue.preconnect(50), true);
    await eventually(() => wire.log.includes('1 closed'), 'the unused socket closed');
    assert.deepEqual(wire.log, ['1 open', '1 closed'], 'nothing was sent on it');
    // Closed and forgotten: the next preconnect opens a new one.
    assert.equal(queue.preconnect(50), true);
    await eventually(() => wire.log.includes('2 closed'), 'the second unused socket closed');
  });

  it('a preconnected socket the server closed (its authTimeout) is forgotten: the file opens a fresh one', async () => {
    const { url, dir } = await referenceServer({ authTimeout: 150 });
    const one = file('late.bin', 25_000, 15);
    const wire: Wire = { sockets: 0, log: [] };
    const items = await runQueue(url, [one.file], { wire }, async (queue) => {
      assert.equal(queue.preconnect(60_000), true);
      await eventually(() => wire.log.includes('1 closed'), 'the server closed the unused socket');
    });
    assert.equal(items[0]!.status, 'complete', items[0]!.error?.message);
    assert.equal(wire.sockets, 2);
    await assertStored(dir, 'late.bin', one.data);
  });

  it('a preconnected socket that closes under its first STOR: the file starts over on a fresh one', async () => {
    const { url, dir } = await referenceServer();
    const one = file('raced.bin', 25_000, 16);
    const wire: Wire = { sockets: 0, log: [] };
    const Logging = loggingWebSocket(wire) as unknown as typeof WebSocket;
    // The first socket closes instead of sending its first STOR, as if the server had closed it just then.
    class ClosingFirst extends Logging {
      override send(data: unknown, ...rest: unknown[]): void {
        if (wire.sockets === 1 && typeof data === 'string' && data.startsWith('STOR')) return this.close();
        (super.send as (...args: unknown[]) => void)(data, ...rest);
      }
    }
    const queue = new UploadQueue({
      url,
      WebSocket: ClosingFirst as unknown as WebSocketConstructor,
      resumeStore: null,
      retryDelays: [],
    });
    assert.equal(queue.preconnect(), true);
    await eventually(() => wire.log.includes('1 open'), 'open');
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the queue did not finish within 30 s')), 30_000);
      queue.addEventListener('complete', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    queue.add([one.file]);
    queue.start();
    await done;
    assert.equal(queue.items[0]!.status, 'complete', queue.items[0]!.error?.message);
    assert.equal(wire.sockets, 2, 'a fresh socket, though no retry is allowed (retryDelays: [])');
    await assertStored(dir, 'raced.bin', one.data);
  });

  it('against the strict 2012 server, a preconnected socket carries the first file as v1, as any socket', async () => {
    const server = await StrictV1Server.start();
    cleanups.push(() => server.close());
    const files = [file('v1a.bin', 20_000, 7), file('v1b.bin', 20_000, 8)];
    const wire: Wire = { sockets: 0, log: [] };
    const items = await runQueue(
      server.url,
      files.map((f) => f.file),
      { wire },
      async (queue) => {
        queue.preconnect();
        await eventually(() => wire.log.includes('1 open'), 'open');
      },
    );
    assert.ok(items.every((item) => item.status === 'complete'));
    assert.equal(wire.sockets, 2, 'no reuse granted: one socket per file');
    for (const [n, f] of files.entries()) assert.equal(sha256(server.received(n)), sha256(f.data));
    for (const upload of server.uploads) assert.deepEqual(upload.violations, []);
  });

  it("a fresh socket's first upload sends early data right behind its STOR once the server granted it", async () => {
    const { url, dir } = await referenceServer();
    const first = file('first.bin', 40_000, 9);
    const later = file('later.bin', 300_000, 10);
    const before: Wire = { sockets: 0, log: [] };
    await runQueue(url, [first.file], { wire: before });
    assert.ok(at(before, / → data$/) > at(before, / ← \{"type":"STOR"/), 'nothing known yet: no early data');
    assert.equal(pageEarlyGrants.recall(url)?.early, true, 'the page remembers the grant');
    // Another queue, so another pool: a fresh socket, which carried no upload before.
    const wire: Wire = { sockets: 0, log: [] };
    const items = await runQueue(url, [later.file], { wire });
    assert.equal(items[0]!.status, 'complete');
    assert.equal(wire.sockets, 1);
    const beforeAnswer = wire.log.slice(at(wire, / → STOR$/), at(wire, / ← \{"type":"STOR"/));
    assert.ok(beforeAnswer.includes('1 → data'), `data before the STOR answer: ${beforeAnswer.join(' | ')}`);
    await assertStored(dir, 'first.bin', first.data);
    await assertStored(dir, 'later.bin', later.data);
  });

  it('with credentials, a server the page knows gets STOR and early data right behind AUTH; a refused AUTH stores nothing', async () => {
    const { url, dir } = await referenceServer({ authenticate: ({ login }) => login === 'alice' });
    const first = file('known.bin', 30_000, 12);
    const later = file('behind-auth.bin', 200_000, 13);
    const alice = { login: 'alice', password: 'pw' };
    const before: Wire = { sockets: 0, log: [] };
    await runQueue(url, [first.file], { wire: before, auth: alice });
    // Nothing known yet: STOR waited for the AUTH answer.
    assert.ok(at(before, / → STOR$/) > at(before, / ← \{"type":"AUTH"/), 'STOR after the AUTH answer');
    const wire: Wire = { sockets: 0, log: [], stors: [] };
    const items = await runQueue(url, [later.file], { wire, auth: alice });
    assert.equal(items[0]!.status, 'complete', items[0]!.error?.message);
    const authAnswer = at(wire, / ← \{"type":"AUTH"/);
    assert.ok(at(wire, / → STOR$/) < authAnswer, `STOR before the AUTH answer: ${wire.log.join(' | ')}`);
    // Its early data follows (on loopback the AUTH answer may overtake the file's first read).
    assert.match(wire.stors![0]!, /"early":[1-9]/, 'the STOR announces early data');
    assert.ok(at(wire, / → data$/) < at(wire, / ← \{"type":"STOR"/), 'data before the STOR answer');
    await assertStored(dir, 'behind-auth.bin', later.data);
    // The same, refused: the upload fails as an AUTH refusal, and the server stored none of its bytes.
    const refused: Wire = { sockets: 0, log: [] };
    const stranger = file('stranger.bin', 50_000, 14);
    const failed = await runQueue(url, [stranger.file], {
      wire: refused,
      auth: { login: 'mallory', password: 'x' },
    });
    assert.equal(failed[0]!.status, 'failed');
    assert.equal(failed[0]!.error?.code, 'authRejected');
    assert.deepEqual(await storedFiles(dir), ['behind-auth.bin', 'known.bin']);
    assert.equal(await partialBytes(dir), 0, 'no partial upload of the refused client');
  });

  it('a remembered grant the server no longer honours (a 2012 server now): forgotten, the file still stored', async () => {
    const server = await StrictV1Server.start();
    cleanups.push(() => server.close());
    // As if a v2 server had granted early data at this URL earlier in the tab.
    const granted: Terms = {
      ...V1_TERMS,
      version: 2,
      encoding: 'binary',
      window: 16,
      maxChunk: 1024 * 1024,
      fin: true,
      credit: 8 * 1024 * 1024,
      early: true,
    };
    pageEarlyGrants.remember(server.url, granted);
    const one = file('once.bin', 20_000, 11);
    const wire: Wire = { sockets: 0, log: [] };
    const items = await runQueue(server.url, [one.file], { wire, transfer: { checksum: false } });
    assert.equal(items[0]!.status, 'complete', items[0]!.error?.message);
    assert.equal(pageEarlyGrants.recall(server.url), null, 'the page forgot the grant');
    assert.equal(wire.sockets, 2, 'the v1 answer did not take the early data: a fresh socket, without it');
    const last = server.uploads.length - 1;
    assert.equal(sha256(server.received(last)), sha256(one.data));
    assert.deepEqual(server.uploads[last]!.violations, [], 'the second socket was plain v1');
  });
});
