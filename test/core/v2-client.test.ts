import { expect } from '@open-wc/testing';
import {
  DEFAULT_RETRY_DELAYS,
  defaultResumeStore,
  fingerprint,
  LocalResumeStore,
  NullResumeStore,
  retryDelay,
  WebSocketFileTransfer,
} from '../../src/core/index.ts';
import { makeBytes, makeFile } from '../helpers/make-file.ts';
import { MockServer, MockWebSocketClass } from '../helpers/mock-server.ts';
import { nextEvent } from '../helpers/transfer-events.ts';

const servers: MockServer[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.stop();
  for (const key of Object.keys(localStorage))
    if (key.startsWith('ws-file-upload:')) localStorage.removeItem(key);
});

/** A v2 STOR answer from the manual mock: binary, FIN, no checksum, chunks of at most 1000 bytes. */
function v2Grant(id: string, window: number, offset = 0) {
  return {
    type: 'STOR' as const,
    code: 200,
    message: 'ok',
    v: 2,
    id,
    offset,
    ext: { binary: true, window, maxChunk: 1000, checksum: null, fin: true, expires: '2999-01-01T00:00:00Z' },
  };
}

describe('WebSocketFileTransfer with protocol v2 on offer', () => {
  describe('against the 2012 PHP server (php2012 mock)', () => {
    it('falls back to exact v1: base64 text chunks of the v1 size, one per answer, success after the last', async () => {
      const server = new MockServer({ mode: 'php2012' });
      servers.push(server);
      const bytes = makeBytes(120_000);
      const transfer = new WebSocketFileTransfer({
        url: server.url,
        file: new File([bytes], 'old.bin'),
        WebSocket: MockWebSocketClass,
        resumeStore: null,
      });
      const ended = nextEvent(transfer, 'close');
      const outcome = new Promise<string>((resolve) => {
        transfer.addEventListener('success', () => resolve('success'));
        transfer.addEventListener('error', (event) => resolve(event.detail.error.code));
      });
      transfer.start();
      expect(await outcome).to.equal('success');
      await ended;
      expect(server.stor?.v).to.equal(2);
      expect(server.dataFrames.every((frame) => frame.kind === 'text')).to.equal(true);
      expect(server.dataFrames).to.have.length(Math.ceil(120_000 / (48 * 1024)));
      expect(server.received).to.deep.equal(bytes);
      expect(server.frames.some((f) => f.kind === 'text' && /^(FIN|ABOR)/.test(f.text))).to.equal(false);
    });
  });

  describe('against a v2 server (manual mock)', () => {
    it('sends binary chunks up to the window before any ack, and counts sent apart from loaded', async () => {
      const server = new MockServer({ mode: 'manual' });
      servers.push(server);
      const transfer = new WebSocketFileTransfer({
        url: server.url,
        file: makeFile(10_000),
        WebSocket: MockWebSocketClass,
        resumeStore: null,
        v2ChunkSize: 1000,
        window: 3,
      });
      transfer.start();
      await server.nextText();
      server.send(v2Grant('u_test', 3));
      for (let i = 0; i < 3; i++) expect((await server.nextFrame()).kind).to.equal('binary');
      let fourth = false;
      void server.nextFrame(300).then(
        () => (fourth = true),
        () => undefined,
      );
      await new Promise((r) => setTimeout(r, 100));
      expect(fourth).to.equal(false, 'no fourth chunk before an ack');
      expect(transfer.progress.sent).to.equal(3000);
      expect(transfer.progress.loaded).to.equal(0);
      server.send({ type: 'DATA', code: 200, bytesRead: 1000, offset: 1000 });
      await new Promise((r) => setTimeout(r, 50));
      expect(transfer.progress.loaded).to.equal(1000);
      transfer.abort();
    });
  });
});

describe('WebSocketFileTransfer reading a small file under v2 (manual mock)', () => {
  it('reads it once: the chunks of the v2 size come from the block read while STOR was answered', async () => {
    const server = new MockServer({ mode: 'manual' });
    servers.push(server);
    const bytes = makeBytes(3000);
    const file = new File([bytes], 'small.bin');
    let reads = 0;
    const slice = file.slice.bind(file);
    file.slice = (start?: number, end?: number) => {
      reads += 1;
      return slice(start, end);
    };
    const transfer = new WebSocketFileTransfer({
      url: server.url,
      file,
      WebSocket: MockWebSocketClass,
      resumeStore: null,
      chunkSize: 48 * 1024,
      v2ChunkSize: 1000,
      window: 3,
    });
    transfer.start();
    await server.nextText();
    server.send(v2Grant('u_small', 3));
    for (let i = 0; i < 3; i++) {
      const frame = await server.nextFrame();
      if (frame.kind !== 'binary') throw new Error(`chunk ${i} came as text`);
      expect(frame.bytes).to.deep.equal(bytes.slice(i * 1000, (i + 1) * 1000));
    }
    expect(reads).to.equal(1);
    transfer.abort();
  });
});

describe('WebSocketFileTransfer reconnecting under v2 (manual mock)', () => {
  const grant = (offset: number) => v2Grant('u_again', 2, offset);

  it('reconnects after a drop, offers the id, continues from the server offset, and honours retryAfter', async () => {
    const server = new MockServer({ mode: 'manual' });
    servers.push(server);
    const transfer = new WebSocketFileTransfer({
      url: server.url,
      file: makeFile(3000),
      WebSocket: MockWebSocketClass,
      resumeStore: null,
      v2ChunkSize: 1000,
      window: 2,
      retryDelays: [0, 0, 0],
    });
    const outcome = new Promise<string>((resolve) => {
      transfer.addEventListener('success', () => resolve('success'));
      transfer.addEventListener('error', (event) => resolve(event.detail.error.code));
    });
    transfer.start();
    await server.nextText();
    server.send(grant(0));
    await server.nextFrame();
    await server.nextFrame();
    server.closeClient(1006);
    const resumed = JSON.parse((await server.nextText()).slice(5)) as { ext: { resume: string } };
    expect(resumed.ext.resume).to.equal('u_again');
    expect(server.connections).to.equal(2);
    const refusedAt = performance.now();
    server.send({ type: 'STOR', code: 409, message: 'held', retryAfter: 300 });
    server.closeClient(1013);
    await server.nextText(3000);
    expect(performance.now() - refusedAt).to.be.at.least(280, 'waited for retryAfter');
    expect(server.connections).to.equal(3);
    server.send(grant(2000));
    const frame = await server.nextFrame();
    expect(frame.kind === 'binary' && frame.bytes.length).to.equal(1000, 'only the last chunk is sent again');
    server.send({ type: 'DATA', code: 200, bytesRead: 1000, offset: 3000 });
    expect(await server.nextText()).to.match(/^FIN: \{"size":3000\}$/);
    server.send({ type: 'FIN', code: 200, id: 'u_again', size: 3000 });
    expect(await outcome).to.equal('success');
  });
});

describe('retryDelay', () => {
  it('follows the delays as data, with at most 20 % jitter, and honours retryAfter', () => {
    expect(retryDelay([1000], 0, undefined, 0)).to.equal(800);
    expect(retryDelay([1000], 0, undefined, 0.999999)).to.equal(1200);
    expect(retryDelay([1000], 0, 5000, 0.5)).to.equal(5000);
    expect(retryDelay([1000], 1, undefined)).to.equal(null);
    expect(DEFAULT_RETRY_DELAYS[0]).to.equal(0);
  });
});

describe('resume stores', () => {
  it('keep, read and remove a record under a fingerprint of name, type, size, lastModified and url', () => {
    const store = new LocalResumeStore();
    const file = new File(['abc'], 'a.txt', { type: 'text/plain', lastModified: 5 });
    const key = fingerprint(file, 'ws://x/upload');
    expect(key).to.equal(
      fingerprint(new File(['xyz'], 'a.txt', { type: 'text/plain', lastModified: 5 }), 'ws://x/upload'),
    );
    expect(key).not.to.equal(fingerprint(file, 'ws://y/upload'));
    const record = { id: 'u_1', offset: 3, expires: Date.now() + 1000 };
    store.set(key, record);
    expect(store.get(key)).to.deep.equal(record);
    store.remove(key);
    expect(store.get(key)).to.equal(null);
  });
  it('default to localStorage, probed with a write once rather than once per transfer', () => {
    const writes: string[] = [];
    const setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function (this: Storage, key: string, value: string) {
      writes.push(key);
      setItem.call(this, key, value);
    };
    try {
      const first = defaultResumeStore();
      for (let i = 0; i < 3; i++) {
        new WebSocketFileTransfer({ url: 'ws://x/upload', file: makeFile(1) });
        expect(defaultResumeStore()).to.equal(first);
      }
      expect(first).to.be.instanceOf(LocalResumeStore);
    } finally {
      Storage.prototype.setItem = setItem;
    }
    expect(writes.filter((key) => key.endsWith('probe')).length).to.be.at.most(1);
  });
  it('ignore a corrupt record, and the null store keeps nothing', () => {
    localStorage.setItem('ws-file-upload:k', '{not json');
    expect(new LocalResumeStore().get('k')).to.equal(null);
    const none = new NullResumeStore();
    none.set();
    expect(none.get()).to.equal(null);
  });
});

describe('v2 options', () => {
  it('name the option in TypeError and RangeError', () => {
    const base = { url: 'ws://x', file: makeFile(1) };
    expect(() => new WebSocketFileTransfer({ ...base, window: 0 })).to.throw(RangeError, /"window"/);
    expect(() => new WebSocketFileTransfer({ ...base, v2ChunkSize: 1.5 })).to.throw(
      RangeError,
      /"v2ChunkSize"/,
    );
    expect(() => new WebSocketFileTransfer({ ...base, retryDelays: [-1] })).to.throw(
      RangeError,
      /"retryDelays"/,
    );
    expect(() => new WebSocketFileTransfer({ ...base, offerV2: 'yes' as unknown as boolean })).to.throw(
      TypeError,
      /"offerV2"/,
    );
    expect(() => new WebSocketFileTransfer({ ...base, resumeStore: {} as never })).to.throw(
      TypeError,
      /"resumeStore"/,
    );
  });
});

describe('WebSocketFileTransfer between connections under v2 (manual mock)', () => {
  const grant = v2Grant('u_between', 2);
  const start = async (retryDelays: number[]) => {
    const server = new MockServer({ mode: 'manual' });
    servers.push(server);
    const transfer = new WebSocketFileTransfer({
      url: server.url,
      file: makeFile(3000),
      WebSocket: MockWebSocketClass,
      resumeStore: null,
      v2ChunkSize: 1000,
      window: 2,
      retryDelays,
    });
    transfer.start();
    await server.nextText();
    server.send(grant);
    await server.nextFrame();
    await server.nextFrame(); // the window: two chunks before any ack
    return { server, transfer };
  };
  const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('waits for the browser to be back online before it reconnects', async () => {
    const { server, transfer } = await start([0]);
    Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => false });
    try {
      server.closeClient(1006);
      await delay(150);
      expect(transfer.state).to.equal('retrying');
      expect(server.connections).to.equal(1, 'no reconnect while offline');
    } finally {
      delete (navigator as { onLine?: boolean }).onLine;
    }
    window.dispatchEvent(new Event('online'));
    const resumed = JSON.parse((await server.nextText()).slice(5)) as { ext: { resume: string } };
    expect(resumed.ext.resume).to.equal('u_between');
    expect(server.connections).to.equal(2);
    transfer.abort();
  });

  it('sends ABOR on a connection of its own when aborted while waiting to reconnect', async () => {
    const { server, transfer } = await start([5000]);
    server.closeClient(1006);
    await delay(50);
    expect(transfer.state).to.equal('retrying');
    const aborted = nextEvent(transfer, 'abort');
    transfer.abort();
    await aborted;
    expect(await server.nextText()).to.equal('ABOR: {"id":"u_between"}');
    expect(server.connections).to.equal(2);
    expect(transfer.state).to.equal('aborted');
  });
});

describe('WebSocketFileTransfer under v2 with block integrity (manual mock)', () => {
  const sha256 = async (bytes: Uint8Array) =>
    btoa(
      String.fromCharCode(
        ...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)),
      ),
    );
  const withBlocks = (offset: number) => {
    const grant = v2Grant('u_blk', 4, offset);
    return { ...grant, ext: { ...grant.ext, checksum: 'sha256-blocks', block: 1000 } };
  };
  const ack = (offset: number, extra: Record<string, unknown> = {}) => ({
    type: 'DATA' as const,
    code: 200,
    bytesRead: 500,
    offset,
    ...extra,
  });

  it('sends SUM before each block, a damaged block again after BLK, resumes at a block and ends with the content hash', async () => {
    const server = new MockServer({ mode: 'manual' });
    servers.push(server);
    const bytes = makeBytes(3000, 3);
    const transfer = new WebSocketFileTransfer({
      url: server.url,
      file: new File([bytes], 'blk.bin'),
      WebSocket: MockWebSocketClass,
      resumeStore: null,
      v2ChunkSize: 500,
      window: 4,
      retryDelays: [0, 0],
    });
    const outcome = new Promise<string>((resolve) => {
      transfer.addEventListener('success', () => resolve('success'));
      transfer.addEventListener('error', (event) => resolve(event.detail.error.code));
    });
    transfer.start();
    const stor = JSON.parse((await server.nextText()).slice(5)) as {
      ext: { checksum: string[]; block: number };
    };
    expect([stor.ext.checksum, stor.ext.block]).to.deep.equal([['sha256-blocks'], 4 * 1024 * 1024]);
    server.send(withBlocks(0));
    expect(await server.nextText()).to.equal(
      `SUM: {"block":0,"sha256":"${await sha256(bytes.slice(0, 1000))}"}`,
    );
    expect((await server.nextFrame()).kind).to.equal('binary');
    expect((await server.nextFrame()).kind).to.equal('binary');
    expect(await server.nextText()).to.match(/^SUM: \{"block":1,/);
    await server.nextFrame();
    await server.nextFrame();
    // Block 0 arrived damaged: the ack of its last chunk asks for it again.
    server.send(ack(500));
    server.send(ack(1000, { resend: [0] }));
    expect(await server.nextText()).to.match(/^SUM: \{"block":2,/, 'the window moved on');
    await server.nextFrame();
    await server.nextFrame();
    expect(await server.nextText()).to.equal('BLK: {"block":0}');
    const again = [await server.nextFrame(), await server.nextFrame()];
    expect(again.map((frame) => frame.kind === 'binary' && Array.from(frame.bytes))).to.deep.equal([
      Array.from(bytes.slice(0, 500)),
      Array.from(bytes.slice(500, 1000)),
    ]);
    server.send({ type: 'BLK', code: 200, block: 0, verified: true });
    // The connection drops with block 1 half acknowledged: the server continues at the end of block 0.
    server.send(ack(1500));
    server.closeClient(1006);
    await server.nextText();
    server.send(withBlocks(1000));
    expect(await server.nextText()).to.match(/^SUM: \{"block":1,/);
    for (let i = 0; i < 2; i++) await server.nextFrame();
    expect(await server.nextText()).to.match(/^SUM: \{"block":2,/);
    for (let i = 0; i < 2; i++) await server.nextFrame();
    for (const offset of [1500, 2000, 2500, 3000]) server.send(ack(offset));
    const fin = JSON.parse((await server.nextText()).slice(5)) as { checksum: string };
    const digests = await Promise.all(
      [0, 1000, 2000].map(
        async (at) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes.slice(at, at + 1000))),
      ),
    );
    const joined = new Uint8Array(96);
    digests.forEach((digest, i) => joined.set(digest, i * 32));
    expect(fin.checksum).to.equal(`sha256-blocks:${await sha256(joined)}`);
    server.send({ type: 'FIN', code: 200, id: 'u_blk', size: 3000 });
    expect(await outcome).to.equal('success');
  });

  it('waits for the verdict on a block sent again before FIN, and fails cleanly when it stays damaged', async () => {
    const server = new MockServer({ mode: 'manual' });
    servers.push(server);
    const bytes = makeBytes(1000, 4);
    const transfer = new WebSocketFileTransfer({
      url: server.url,
      file: new File([bytes], 'bad.bin'),
      WebSocket: MockWebSocketClass,
      resumeStore: null,
      v2ChunkSize: 500,
      window: 4,
    });
    const failed = nextEvent(transfer, 'error');
    transfer.start();
    await server.nextText();
    server.send(withBlocks(0));
    await server.nextText();
    await server.nextFrame();
    await server.nextFrame();
    server.send(ack(500));
    server.send(ack(1000, { resend: [0] }));
    expect(await server.nextText()).to.equal('BLK: {"block":0}');
    await server.nextFrame();
    await server.nextFrame();
    server.send({ type: 'BLK', code: 200, block: 0, verified: false });
    expect(await server.nextText()).to.equal('BLK: {"block":0}', 'sent once more, and no FIN yet');
    await server.nextFrame();
    await server.nextFrame();
    server.send({
      type: 'BLK',
      code: 422,
      message: 'Block 0 arrived damaged 3 times: the upload is given up.',
    });
    const { error } = (await failed).detail;
    expect([error.code, error.status]).to.deep.equal(['checksumMismatch', 422]);
  });
});
