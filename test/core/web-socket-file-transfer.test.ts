import { expect } from '@open-wc/testing';
import {
  DEFAULT_CHUNK_SIZE,
  WebSocketFileTransfer,
  type ProgressDetail,
  type WebSocketFileTransferOptions,
} from '../../src/core/index.ts';
import { READ_BLOCK_SIZE, SequentialReader } from '../../src/core/file-source.ts';
import { makeBytes, makeFile } from '../helpers/make-file.ts';
import {
  decodeBase64,
  MockServer,
  MockWebSocketClass,
  type MockServerOptions,
} from '../helpers/mock-server.ts';
import { delay, nextEvent, recordEvents, until } from '../helpers/transfer-events.ts';

/** The events of a transfer cancelled after its first progress: `cancel`, then its 2012 name `abort`. */
const CANCELLED_AFTER_PROGRESS = ['open', 'progress', 'cancel', 'abort', 'close'];

const CHUNK = 1000;

/**
 * Starts a v1 transfer against a `manual` server and answers its STOR and first chunk by hand, so that the
 * second chunk is the last frame sent.
 */
async function startToSecondChunk(server: MockServer, transfer: WebSocketFileTransfer): Promise<void> {
  transfer.start();
  await server.nextText();
  server.send({ type: 'STOR', code: 200 });
  await server.nextText();
  server.send({ type: 'DATA', code: 200, bytesRead: CHUNK });
  await server.nextText();
}

const servers: MockServer[] = [];
const transfers: WebSocketFileTransfer[] = [];

function serve(options: MockServerOptions = {}): MockServer {
  const server = new MockServer(options);
  servers.push(server);
  return server;
}

function transferTo(
  server: MockServer,
  options: Partial<WebSocketFileTransferOptions> & Pick<WebSocketFileTransferOptions, 'file'>,
): WebSocketFileTransfer {
  const transfer = new WebSocketFileTransfer({ url: server.url, WebSocket: MockWebSocketClass, ...options });
  transfers.push(transfer);
  return transfer;
}

/** Runs an upload to its end (the `close` event) and returns what happened. */
async function upload(
  server: MockServer,
  options: Partial<WebSocketFileTransferOptions> & Pick<WebSocketFileTransferOptions, 'file'>,
  login?: string,
  password?: string,
) {
  const transfer = transferTo(server, options);
  const events = recordEvents(transfer, server.log);
  const closed = nextEvent(transfer, 'close');
  transfer.start(login, password);
  const close = await closed;
  return { transfer, events, types: events.map((event) => event.type), close };
}

function dataFrameBytes(server: MockServer): Uint8Array[] {
  return server.dataFrames.map((frame) => (frame.kind === 'binary' ? frame.bytes : decodeBase64(frame.text)));
}

afterEach(() => {
  for (const transfer of transfers.splice(0)) transfer.abort();
  for (const server of servers.splice(0)) server.stop();
});

describe('WebSocketFileTransfer', () => {
  describe('the v1 conversation', () => {
    it('sends AUTH, STOR, then one chunk per answer, and succeeds only after the last answer', async () => {
      const server = serve({ mode: 'manual' });
      const bytes = makeBytes(2 * CHUNK + 10);
      const file = new File([bytes], 'report.pdf');
      // offerV2: false sends the 2012 STOR byte for byte; the v2 offer is tested in test/compat.
      const transfer = transferTo(server, { file, chunkSize: CHUNK, offerV2: false });
      const events = recordEvents(transfer, server.log);
      const types = (): string[] => events.map((event) => event.type);
      transfer.start('alice', 's3cret');

      expect(await server.nextText()).to.equal('AUTH: {"login":"alice","password":"s3cret"}');
      expect(transfer.state).to.equal('authenticating');
      await delay(20);
      expect(server.frames).to.have.length(1, 'nothing is sent before the AUTH answer');
      server.send({ type: 'AUTH', code: 200, message: 'Welcome' });

      expect(await server.nextText()).to.equal(
        'STOR: {"filename":"report.pdf","size":2010,"type":"base64","parameters":[]}',
      );
      expect(transfer.state).to.equal('storing');
      await delay(20);
      expect(server.frames).to.have.length(2, 'no data before the STOR answer');
      server.send({ type: 'STOR', code: 200, message: 'Upload initialized. Wait for data' });

      const lengths = [CHUNK, CHUNK, 10];
      let offset = 0;
      for (const [index, length] of lengths.entries()) {
        const text = await server.nextText();
        expect(decodeBase64(text)).to.deep.equal(bytes.slice(offset, offset + length));
        offset += length;
        await delay(20);
        expect(server.frames).to.have.length(3 + index, 'one chunk in flight at a time');
        expect(types().filter((type) => type === 'progress')).to.have.length(index);
        expect(types()).not.to.include('success');
        server.send({ type: 'DATA', code: 200, bytesRead: length });
      }
      await until(() => server.closes.length === 1, 'the client to close');

      expect(types()).to.deep.equal(['open', 'progress', 'progress', 'progress', 'success', 'close']);
      expect(server.log.filter((line) => line !== 'connection')).to.deep.equal([
        'event open',
        'recv AUTH',
        'send AUTH 200',
        'recv STOR',
        'send STOR 200',
        'recv text 1336',
        'send DATA 200',
        'event progress',
        'recv text 1336',
        'send DATA 200',
        'event progress',
        'recv text 16',
        'send DATA 200',
        'event progress',
        'event success',
        'event close',
        'close 1000',
      ]);
      expect(server.closes).to.deep.equal([1000]);
      expect(transfer.state).to.equal('complete');
    });

    it('sends no AUTH when start() gets no login', async () => {
      const server = serve();
      const { types } = await upload(server, { file: makeFile(10) });
      expect(types).to.deep.equal(['open', 'progress', 'success', 'close']);
      expect((server.frames[0] as { text: string }).text).to.match(/^STOR: /);
    });

    it('sends an empty password when start() gets only a login', async () => {
      const server = serve();
      await upload(server, { file: makeFile(1) }, 'bob');
      expect((server.frames[0] as { text: string }).text).to.equal('AUTH: {"login":"bob","password":""}');
    });

    it('names a nameless Blob "blob" and passes parameters and type in STOR', async () => {
      const server = serve();
      const file = new Blob([makeBytes(5)]);
      await upload(server, { file, type: 'binary', parameters: ['album', { id: 7 }], offerV2: false });
      expect(server.stor).to.deep.equal({
        command: 'STOR',
        filename: 'blob',
        size: 5,
        type: 'binary',
        parameters: ['album', { id: 7 }],
      });
    });

    it('runs the seed snippet as written, with the global WebSocket', async () => {
      const server = serve({ mockGlobal: true });
      const file = makeFile(3000, 'seed.bin');
      const seen: { progress: ProgressDetail[]; success?: ProgressDetail } = { progress: [] };
      const done = new Promise<void>((resolve) => {
        const url = server.url;
        const transfer = new WebSocketFileTransfer({
          url: url,
          file: file,
          progress: function (event) {
            seen.progress.push(event);
          },
          success: function (event) {
            seen.success = event;
            resolve();
          },
        });
        transfers.push(transfer);
        transfer.start();
      });
      await Promise.race([done, delay(3000).then(() => Promise.reject(new Error('no success')))]);
      expect(seen.progress).to.have.length(1);
      expect(seen.success!.loaded).to.equal(3000);
      expect(server.received).to.deep.equal(makeBytes(3000));
    });

    it('sends AUTH with the token option when start() gets no login, and a login wins over it', async () => {
      const server = serve({ mode: 'manual' });
      const transfer = transferTo(server, { file: makeFile(10), token: 'tok-1' });
      transfer.start();
      expect(await server.nextText()).to.equal('AUTH: {"token":"tok-1"}');
      const other = serve({ mode: 'manual' });
      transferTo(other, { file: makeFile(10), token: 'tok-1' }).start('bob', 'pw');
      expect(await other.nextText()).to.equal('AUTH: {"login":"bob","password":"pw"}');
      expect(() => transferTo(server, { file: makeFile(1), token: '' })).to.throw(TypeError, /"token"/);
    });
  });

  describe('byte-exact transfer', () => {
    for (const type of ['base64', 'binary'] as const) {
      for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK]) {
        it(`stores ${size} bytes as ${type} exactly as read`, async () => {
          const server = serve();
          const bytes = makeBytes(size, size + 7);
          const { types, close } = await upload(server, {
            file: new File([bytes], 'f.bin'),
            chunkSize: CHUNK,
            type,
          });
          const progresses = size === 0 ? [] : Array<string>(Math.ceil(size / CHUNK)).fill('progress');
          expect(types).to.deep.equal(['open', ...progresses, 'success', 'close']);
          expect(server.received).to.deep.equal(bytes);
          expect(server.dataFrames).to.have.length(Math.ceil(size / CHUNK));
          for (const frame of server.dataFrames)
            expect(frame.kind).to.equal(type === 'binary' ? 'binary' : 'text');
          expect(close.detail).to.include({ code: 1000, wasClean: true });
          await until(() => server.closes.length === 1, 'the client to close');
        });
      }
    }

    it('sends nothing after STOR for an empty file and succeeds at 100 %', async () => {
      const server = serve();
      const { events } = await upload(server, { file: makeFile(0) });
      expect(server.frames).to.have.length(1);
      const success = events.find((event) => event.type === 'success')!.detail as ProgressDetail;
      expect(success).to.include({ loaded: 0, sent: 0, total: 0, percentage: 100, remainingTime: 0 });
    });

    it('uses 48 KiB chunks by default, whose base64 frames stay within 64 KiB', async () => {
      const server = serve();
      const size = DEFAULT_CHUNK_SIZE + 1;
      await upload(server, { file: makeFile(size) });
      expect(DEFAULT_CHUNK_SIZE).to.equal(49152);
      const lengths = server.dataFrames.map((frame) => (frame.kind === 'text' ? frame.text.length : -1));
      expect(lengths).to.deep.equal([65536, 4]);
      expect(server.received).to.deep.equal(makeBytes(size));
    });

    it('sends binary chunks as ArrayBuffers of the chunk size', async () => {
      const server = serve();
      await upload(server, { file: makeFile(2500), chunkSize: CHUNK, type: 'binary' });
      expect(dataFrameBytes(server).map((bytes) => bytes.length)).to.deep.equal([1000, 1000, 500]);
    });
  });

  describe('chunk size options', () => {
    it('honours the 2012 blockSize option', async () => {
      const server = serve();
      await upload(server, { file: makeFile(1200), blockSize: 500 });
      expect(dataFrameBytes(server).map((bytes) => bytes.length)).to.deep.equal([500, 500, 200]);
    });

    it('prefers chunkSize when both chunkSize and blockSize are given', async () => {
      const server = serve();
      await upload(server, { file: makeFile(1200), blockSize: 500, chunkSize: 700 });
      expect(dataFrameBytes(server).map((bytes) => bytes.length)).to.deep.equal([700, 500]);
    });
  });

  describe('progress', () => {
    it('counts the bytes of each acknowledged chunk, not the bytesRead of a 2012 PHP server', async () => {
      const server = serve({ mode: 'php2012' });
      const size = 3 * CHUNK + 123;
      const file = makeFile(size);
      const progress: ProgressDetail[] = [];
      let success: ProgressDetail | undefined;
      await upload(server, {
        file,
        chunkSize: CHUNK,
        progress: (detail) => progress.push(detail),
        success: (detail) => (success = detail),
      });
      expect(server.received).to.deep.equal(makeBytes(size));
      expect(progress.map((detail) => detail.loaded)).to.deep.equal([1000, 2000, 3000, size]);
      const percentages = progress.map((detail) => detail.percentage);
      for (let i = 1; i < percentages.length; i++)
        expect(percentages[i]).to.be.greaterThan(percentages[i - 1]!);
      expect(percentages.at(-1)).to.equal(100);
      for (const detail of progress) {
        expect(detail.total).to.equal(size);
        expect(detail.sent).to.be.at.least(detail.loaded);
        expect(detail.file).to.equal(file);
        expect(detail.speed).to.be.at.least(0);
        expect(detail.elapsedTime).to.be.within(0, 5);
        expect(detail.remainingTime).to.be.at.least(0);
      }
      expect(progress.at(-1)!.remainingTime).to.equal(0);
      expect(success).to.include({
        loaded: size,
        sent: size,
        total: size,
        percentage: 100,
        remainingTime: 0,
      });
      expect(success!.elapsedTime).to.be.at.least(progress.at(-1)!.elapsedTime);
    });

    it('reports speed as acknowledged bytes per second and elapsed time in seconds', async () => {
      const server = serve({
        reply: (step) => {
          // Hold the single chunk's answer ~100 ms so that the figures are measurable.
          if (step.kind === 'DATA') {
            setTimeout(() => server.send(step.answer!), 100);
            return null;
          }
          return undefined;
        },
      });
      const { events } = await upload(server, { file: makeFile(1000) });
      const success = events.find((event) => event.type === 'success')!.detail as ProgressDetail;
      expect(success.elapsedTime).to.be.within(0.09, 2);
      expect(success.speed).to.be.closeTo(1000 / success.elapsedTime, 1e-6);
    });

    it('calls callbacks with the transfer as this and the event detail as argument', async () => {
      const server = serve();
      let self: unknown;
      let arg: unknown;
      const { transfer, events } = await upload(server, {
        file: makeFile(1),
        success(detail) {
          // eslint-disable-next-line @typescript-eslint/no-this-alias
          self = this;
          arg = detail;
        },
      });
      expect(self).to.equal(transfer);
      expect(arg).to.equal(events.find((event) => event.type === 'success')!.detail);
    });
  });

  describe('with a 2012 PHP server', () => {
    it('uploads base64 chunks byte for byte', async () => {
      const server = serve({ mode: 'php2012' });
      const { types } = await upload(server, { file: makeFile(2 * CHUNK + 1), chunkSize: CHUNK });
      expect(types).to.deep.equal(['open', 'progress', 'progress', 'progress', 'success', 'close']);
      expect(server.received).to.deep.equal(makeBytes(2 * CHUNK + 1));
    });

    it('does not report the socket error right after the last answer', async () => {
      const server = serve({
        reply: (step) => {
          if (step.kind !== 'DATA') return undefined;
          // What the masked close frame of the PHP server looks like to a browser.
          server.send(step.answer!);
          server.simulateError();
          return null;
        },
      });
      const { types } = await upload(server, { file: makeFile(10) });
      await delay(30);
      expect(types).to.deep.equal(['open', 'progress', 'success', 'close']);
    });

    it('does not report a server close after success', async () => {
      const server = serve({
        reply: (step) => {
          if (step.kind !== 'DATA') return undefined;
          server.send(step.answer!);
          server.closeClient(1006);
          return null;
        },
      });
      const { types, close } = await upload(server, { file: makeFile(10) });
      await delay(30);
      expect(types).to.deep.equal(['open', 'progress', 'success', 'close']);
      expect(close.detail.code).to.equal(1000);
    });
  });

  describe('abort()', () => {
    it('stops mid-upload: abort then close, socket closed, no success or error afterwards', async () => {
      const server = serve({ mode: 'manual' });
      const transfer = transferTo(server, { file: makeFile(3 * CHUNK), chunkSize: CHUNK });
      const events = recordEvents(transfer);
      await startToSecondChunk(server, transfer);

      transfer.abort();
      expect(transfer.state).to.equal('aborted');
      expect(events.map((event) => event.type)).to.deep.equal(CANCELLED_AFTER_PROGRESS);
      expect(events[2]!.detail).to.include({ loaded: CHUNK, sent: 2 * CHUNK, total: 3 * CHUNK });
      await until(() => server.closes.length === 1, 'the client to close');
      expect(server.closes).to.deep.equal([1000]);

      server.send({ type: 'DATA', code: 200, bytesRead: CHUNK });
      transfer.abort();
      await delay(30);
      expect(events.map((event) => event.type)).to.deep.equal(CANCELLED_AFTER_PROGRESS);
      expect(server.frames).to.have.length(3);
    });

    it('stops while connecting', async () => {
      const server = serve();
      const transfer = transferTo(server, { file: makeFile(10) });
      const events = recordEvents(transfer);
      transfer.start();
      transfer.abort();
      await delay(30);
      expect(events.map((event) => event.type)).to.deep.equal(['cancel', 'abort', 'close']);
      expect(server.frames).to.have.length(0);
    });

    it('can be called from a progress listener', async () => {
      const server = serve();
      const transfer = transferTo(server, { file: makeFile(3 * CHUNK), chunkSize: CHUNK });
      const events = recordEvents(transfer);
      transfer.addEventListener('progress', () => transfer.abort());
      transfer.start();
      await nextEvent(transfer, 'close');
      await delay(30);
      expect(events.map((event) => event.type)).to.deep.equal(CANCELLED_AFTER_PROGRESS);
      expect(server.dataFrames).to.have.length(1);
    });

    it('fires `cancel`, then `abort` (its 2012 name) with the same figures, and calls both callbacks', async () => {
      const server = serve({ mode: 'manual' });
      const calls: [string, unknown][] = [];
      const transfer = transferTo(server, {
        file: makeFile(3 * CHUNK),
        chunkSize: CHUNK,
        cancel: (detail) => calls.push(['cancel', detail]),
        abort: (detail) => calls.push(['abort', detail]),
      });
      const events = recordEvents(transfer);
      await startToSecondChunk(server, transfer);
      transfer.cancel();
      const cancel = events.find((event) => event.type === 'cancel')!;
      const abort = events.find((event) => event.type === 'abort')!;
      expect(cancel.detail).to.include({ loaded: CHUNK, total: 3 * CHUNK });
      expect(abort.detail).to.equal(cancel.detail);
      expect(calls.map(([name]) => name)).to.deep.equal(['cancel', 'abort']);
      expect(calls[0]![1]).to.equal(cancel.detail);
      await delay(30);
      expect(events.map((event) => event.type)).to.deep.equal(CANCELLED_AFTER_PROGRESS);
    });

    it('before start() marks the transfer aborted, and start() then throws', () => {
      const transfer = new WebSocketFileTransfer({ url: 'ws://nowhere.test/', file: makeFile(1) });
      const events = recordEvents(transfer);
      transfer.abort();
      transfer.abort();
      expect(events.map((event) => event.type)).to.deep.equal(['cancel', 'abort']);
      expect(() => transfer.start())
        .to.throw(DOMException)
        .with.property('name', 'InvalidStateError');
    });
  });

  describe('start()', () => {
    it('throws InvalidStateError when called twice, and the first run goes on', async () => {
      const server = serve();
      const transfer = transferTo(server, { file: makeFile(10) });
      const closed = nextEvent(transfer, 'close');
      const succeeded = nextEvent(transfer, 'success');
      transfer.start();
      expect(() => transfer.start())
        .to.throw(DOMException, /already started/)
        .with.property('name', 'InvalidStateError');
      await succeeded;
      await closed;
      expect(() => transfer.start()).to.throw(DOMException);
      expect(server.connections).to.equal(1);
    });

    it('reports nothing synchronously, so listeners added after start() hear every event', async () => {
      const transfer = new WebSocketFileTransfer({
        url: 'ws://nowhere.test/',
        file: makeFile(1),
        WebSocket: MockWebSocketClass,
      });
      transfers.push(transfer);
      transfer.start();
      const events = recordEvents(transfer);
      await nextEvent(transfer, 'close');
      expect(events.map((event) => event.type)).to.deep.equal(['error', 'close']);
    });

    it('reads at most one chunk ahead of the acknowledged chunk in v1', async () => {
      const server = serve({ mode: 'manual' });
      const file = makeFile(10 * READ_BLOCK_SIZE);
      const filled: number[] = [];
      const read = SequentialReader.prototype.read;
      const spy = function (this: SequentialReader, start: number, end: number) {
        filled.push(start);
        return read.call(this, start, end);
      };
      SequentialReader.prototype.read = spy;
      try {
        const transfer = transferTo(server, { file, chunkSize: READ_BLOCK_SIZE, type: 'binary' });
        transfer.start();
        await server.nextText();
        server.send({ type: 'STOR', code: 200 });
        await server.nextFrame();
        await delay(30);
        expect(filled).to.deep.equal([0, READ_BLOCK_SIZE]);
      } finally {
        SequentialReader.prototype.read = read;
      }
    });
  });

  describe('supported()', () => {
    it('is true in this browser and false without a WebSocket constructor', () => {
      expect(WebSocketFileTransfer.supported()).to.equal(true);
      expect(WebSocketFileTransfer.supported(undefined)).to.equal(true, 'undefined means the default');
      expect(WebSocketFileTransfer.supported(null)).to.equal(false);
    });
  });
});
