// The queue's per-file data (issue 14 items 2 and 5), with the real browser core in Node (ws stands in for
// the browser's WebSocket) against the real reference server: a folder path recreated on disk, prepare()'s
// parameters, token and refusal, and a token provider asked on every connection and once more after a 401.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import WebSocket from 'ws';
import {
  UploadQueue,
  type UploadItem,
  type UploadQueueOptions,
  type WebSocketConstructor,
} from '../../src/core/index.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { bytes, readStored, sha256, startServer } from '../server/peer.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const fileOf = (data: Buffer, name: string) => new File([new Uint8Array(data)], name);

async function serve(options: Parameters<typeof startServer>[0] = {}) {
  const started = await startServer(options);
  cleanups.push(() => started.stop());
  return started;
}

function queueFor(url: string, options: UploadQueueOptions = {}): UploadQueue {
  const queue = new UploadQueue({
    url,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    resumeStore: null,
    retryDelays: [0, 20, 50],
    ...options,
  });
  cleanups.push(() => queue.remove());
  return queue;
}

/** Resolves when the queue went idle, bounded. */
function idle(queue: UploadQueue, timeout = 20_000): Promise<UploadItem[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the queue did not finish')), timeout);
    queue.addEventListener('complete', (event) => {
      clearTimeout(timer);
      resolve(event.detail.items);
    });
  });
}

describe('UploadQueue folders', () => {
  it('sends each file with its folder: the same three-level tree on disk, identical files', async () => {
    const started = await serve();
    const queue = queueFor(started.url, { autoStart: true });
    const files = [
      { path: 'album', data: bytes(3000, 1), name: 'a.jpg' },
      { path: 'album/2024', data: bytes(100_000, 2), name: 'b.jpg' },
      { path: 'album/2024/summer', data: bytes(10, 3), name: 'c.txt' },
    ];
    const done = idle(queue);
    const { added } = queue.add(files.map((f) => ({ file: fileOf(f.data, f.name), path: f.path })));
    assert.deepEqual(
      added.map((item) => item.path),
      files.map((f) => f.path),
    );
    const items = await done;
    for (const [i, file] of files.entries()) {
      assert.equal(items[i]!.status, 'complete', items[i]!.error?.message);
      assert.equal(items[i]!.storedAs, `${file.path}/${file.name}`, 'the stored relative path');
      const stored = await readFile(path.join(started.dir, file.path, file.name));
      assert.equal(sha256(stored), sha256(file.data));
    }
  });

  it('takes the folder of a file from a webkitdirectory input from its webkitRelativePath', () => {
    const queue = queueFor('ws://127.0.0.1:9/upload');
    const file = fileOf(bytes(4), 'x.txt');
    Object.defineProperty(file, 'webkitRelativePath', { value: 'top/sub/x.txt' });
    const { added } = queue.add([file, fileOf(bytes(4), 'y.txt')]);
    assert.deepEqual(
      added.map((item) => item.path),
      ['top/sub', ''],
    );
  });
});

describe('UploadQueue prepare()', () => {
  it('gives each file its own parameters and token, asynchronously', async () => {
    const tokens: string[] = [];
    const started = await serve({
      authenticate: ({ token }) => {
        tokens.push(String(token));
        return token === 'tok-a.bin' || token === 'tok-b.bin';
      },
    });
    const seen: unknown[] = [];
    started.server.on('stored', (file) => seen.push([file.filename, file.parameters]));
    const queue = queueFor(started.url, {
      autoStart: true,
      prepare: async (file) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { parameters: { name: file.name }, token: `tok-${file.name}` };
      },
    });
    const done = idle(queue);
    queue.add([fileOf(bytes(10, 1), 'a.bin'), fileOf(bytes(10, 2), 'b.bin')]);
    const items = await done;
    assert.deepEqual(
      items.map((item) => item.status),
      ['complete', 'complete'],
    );
    assert.deepEqual(tokens.sort(), ['tok-a.bin', 'tok-b.bin']);
    assert.deepEqual(seen.sort(), [
      ['a.bin', { name: 'a.bin' }],
      ['b.bin', { name: 'b.bin' }],
    ]);
  });

  it('refuses a file with the hook’s message (returned or thrown), sending nothing for it', async () => {
    const started = await serve();
    const stored: string[] = [];
    started.server.on('stored', (file) => stored.push(file.filename));
    const queue = queueFor(started.url, {
      autoStart: true,
      prepare: (file) => {
        if (file.name === 'no.exe') return { reject: 'Executables are not allowed.' };
        if (file.name === 'boom.bin') throw new Error('The quota service is down.');
        return undefined;
      },
    });
    const done = idle(queue);
    queue.add([fileOf(bytes(5), 'no.exe'), fileOf(bytes(5), 'ok.txt'), fileOf(bytes(5), 'boom.bin')]);
    const items = await done;
    assert.deepEqual(
      items.map((item) => [item.status, item.error?.code, item.error?.message]),
      [
        ['failed', 'prepareRefused', 'Executables are not allowed.'],
        ['complete', undefined, undefined],
        ['failed', 'prepareRefused', 'The quota service is down.'],
      ],
    );
    assert.deepEqual(stored, ['ok.txt']);
  });

  it('ignores a prepare() answer that comes after the item was cancelled', async () => {
    const started = await serve();
    let release!: () => void;
    const queue = queueFor(started.url, {
      prepare: () => new Promise<undefined>((resolve) => (release = () => resolve(undefined))),
    });
    const [item] = queue.add([fileOf(bytes(5), 'late.bin')]).added;
    queue.start();
    assert.equal(item!.status, 'connecting');
    queue.cancel(item);
    release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(item!.status, 'cancelled');
  });
});

describe('UploadQueue token provider', () => {
  it('asks on every connection, and once more with refresh after a 401: one retry only', async () => {
    let valid = 'fresh-1';
    const started = await serve({ authenticate: ({ token }) => token === valid });
    const requests: [string, boolean][] = [];
    let issued = 0;
    const queue = queueFor(started.url, {
      autoStart: true,
      concurrency: 1,
      auth: {
        token: async ({ file, refresh }) => {
          requests.push([file.name, refresh]);
          issued += 1;
          // The first token handed out for b.bin has expired by the time it is used.
          return file.name === 'b.bin' && !refresh ? 'expired' : `fresh-${issued === 3 ? 1 : issued}`;
        },
      },
    });
    // a.bin: fresh-1 works. b.bin: "expired" gets 401, the refresh gives fresh-3 → mapped to fresh-1.
    const done = idle(queue);
    queue.add([fileOf(bytes(10, 1), 'a.bin'), fileOf(bytes(10, 2), 'b.bin')]);
    let items = await done;
    assert.deepEqual(
      items.map((item) => item.status),
      ['complete', 'complete'],
      items.map((item) => item.error?.message).join(),
    );
    assert.deepEqual(requests, [
      ['a.bin', false],
      ['b.bin', false],
      ['b.bin', true],
    ]);
    // A provider whose tokens are all refused: one refresh, then the item fails with the server's 401.
    valid = 'nothing-matches';
    requests.length = 0;
    const again = idle(queue);
    queue.add([fileOf(bytes(10, 3), 'c.bin')]);
    items = await again;
    const c = items.find((item) => item.file.name === 'c.bin')!;
    assert.equal(c.status, 'failed');
    assert.equal(c.error?.code, 'authRejected');
    assert.equal(c.error?.status, 401);
    assert.deepEqual(requests, [
      ['c.bin', false],
      ['c.bin', true],
    ]);
  });

  it('asks again when the transfer reconnects after a cut connection (v2 resume)', async () => {
    // Each connection brings another token of the same user: the upload is bound to the user, not the token.
    const started = await serve({
      authenticate: ({ token }) => (token?.startsWith('token-') ? { user: 'alice' } : false),
    });
    const size = 600_000;
    const proxy = await TcpProxy.start(started.server.port, { cutAt: [300_000] });
    cleanups.push(() => proxy.close());
    let asked = 0;
    const queue = queueFor(`ws://127.0.0.1:${proxy.port}/upload`, {
      autoStart: true,
      v2ChunkSize: 64 * 1024,
      auth: { token: () => `token-${++asked}` },
    });
    const done = idle(queue);
    const data = bytes(size, 9);
    queue.add([fileOf(data, 'long.bin')]);
    const [item] = await done;
    assert.equal(item!.status, 'complete', item!.error?.message);
    assert.equal(proxy.cuts, 1);
    assert.equal(asked, 2, 'one token per connection');
    assert.deepEqual(await readStored(started.dir, 'long.bin'), data);
  });

  it('asks prepare() again after a 401 when the token came from it', async () => {
    const started = await serve({ authenticate: ({ token }) => token === 'second' });
    const asked: string[] = [];
    const queue = queueFor(started.url, {
      autoStart: true,
      prepare: (file) => {
        asked.push(file.name);
        return { token: asked.length === 1 ? 'first' : 'second' };
      },
    });
    const done = idle(queue);
    queue.add([fileOf(bytes(10), 'p.bin')]);
    const [item] = await done;
    assert.equal(item!.status, 'complete', item!.error?.message);
    assert.deepEqual(asked, ['p.bin', 'p.bin']);
  });

  it('fails with tokenUnavailable when the provider throws', async () => {
    const started = await serve({ authenticate: () => true });
    const queue = queueFor(started.url, {
      autoStart: true,
      auth: {
        token: () => {
          throw new Error('signed out');
        },
      },
    });
    const done = idle(queue);
    queue.add([fileOf(bytes(10), 'a.bin')]);
    const [item] = await done;
    assert.equal(item!.error?.code, 'tokenUnavailable');
    assert.match(item!.error!.message, /signed out/);
  });
});
