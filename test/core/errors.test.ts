import { expect } from '@open-wc/testing';
import {
  UploadError,
  WebSocketFileTransfer,
  type UploadErrorCode,
  type WebSocketFileTransferOptions,
} from '../../src/core/index.ts';
import { makeFile } from '../helpers/make-file.ts';
import { MockServer, MockWebSocketClass, uniqueUrl, type MockServerOptions } from '../helpers/mock-server.ts';
import { delay, nextEvent, recordEvents, until } from '../helpers/transfer-events.ts';

const CHUNK = 1000;

const servers: MockServer[] = [];
const transfers: WebSocketFileTransfer[] = [];
const errors = new WeakMap<WebSocketFileTransfer, UploadError>();

function serve(options: MockServerOptions = {}): MockServer {
  const server = new MockServer(options);
  servers.push(server);
  return server;
}

function transferTo(
  url: string,
  options: Partial<WebSocketFileTransferOptions> = {},
): { transfer: WebSocketFileTransfer; events: CustomEvent[]; types: () => string[] } {
  const transfer = new WebSocketFileTransfer({
    url,
    file: makeFile(3 * CHUNK),
    chunkSize: CHUNK,
    WebSocket: MockWebSocketClass,
    ...options,
  });
  transfers.push(transfer);
  const events = recordEvents(transfer);
  transfer.addEventListener('error', (event) => errors.set(transfer, event.detail.error));
  return { transfer, events, types: () => events.map((event) => event.type) };
}

/** Starts a transfer and returns its one error, after checking that it ended with `error` then `close`. */
async function failure(
  url: string,
  options: Partial<WebSocketFileTransferOptions> = {},
  login?: string,
): Promise<{
  error: UploadError;
  transfer: WebSocketFileTransfer;
  types: () => string[];
  close: CustomEvent;
}> {
  const { transfer, types } = transferTo(url, options);
  const closed = nextEvent(transfer, 'close');
  transfer.start(login);
  const close = await closed;
  expect(types().filter((type) => type === 'error')).to.have.length(1);
  expect(types().slice(-2)).to.deep.equal(['error', 'close']);
  expect(transfer.state).to.equal('failed');
  const detail = (close as CustomEvent).detail as { file: Blob };
  expect(detail.file).to.equal(transfer.file);
  const error = errorOf(transfer);
  return { error, transfer, types, close };
}

function errorOf(transfer: WebSocketFileTransfer): UploadError {
  const error = errors.get(transfer);
  if (!error) throw new Error('The transfer fired no error event.');
  return error;
}

function expectError(error: UploadError, code: UploadErrorCode, message?: RegExp | string): void {
  expect(error).to.be.instanceOf(UploadError);
  expect(error).to.be.instanceOf(Error);
  expect(error.name).to.equal('UploadError');
  expect(error.code).to.equal(code);
  expect(error.message).to.be.a('string').and.not.equal('');
  if (typeof message === 'string') expect(error.message).to.equal(message);
  else if (message) expect(error.message).to.match(message);
}

/** After a failure, nothing more may happen, however long the server keeps talking. */
async function expectQuietAfter(types: () => string[], server?: MockServer): Promise<void> {
  const before = types().length;
  try {
    server?.send({ type: 'DATA', code: 200, bytesRead: CHUNK });
  } catch {
    // No client left to talk to: quiet by construction.
  }
  await delay(80);
  expect(types()).to.have.length(before);
}

afterEach(() => {
  for (const transfer of transfers.splice(0)) transfer.abort();
  for (const server of servers.splice(0)) server.stop();
});

describe('WebSocketFileTransfer', () => {
  describe('when the connection cannot be opened', () => {
    it('fails with connectionFailed', async () => {
      const { error, types } = await failure(uniqueUrl());
      expectError(error, 'connectionFailed', /Cannot connect/);
      expect(types()).to.deep.equal(['error', 'close']);
      expect(error.status).to.equal(undefined);
    });

    it('fails with connectionFailed when the URL is refused by the WebSocket constructor', async () => {
      const { error } = await failure('http://[bad');
      expectError(error, 'connectionFailed');
      expect(error.cause).to.be.instanceOf(Error);
    });

    it('fails with notSupported without a WebSocket', async () => {
      const original = globalThis.WebSocket;
      (globalThis as { WebSocket?: unknown }).WebSocket = undefined;
      try {
        const { transfer, types } = transferTo(uniqueUrl(), { WebSocket: undefined });
        const closed = nextEvent(transfer, 'close');
        transfer.start();
        await closed;
        expect(types()).to.deep.equal(['error', 'close']);
        expectError(errorOf(transfer), 'notSupported');
      } finally {
        globalThis.WebSocket = original;
      }
    });
  });

  describe('when AUTH goes wrong', () => {
    it('fails with authTimeout against a 2012 PHP server, which never answers AUTH', async () => {
      const server = serve({ mode: 'php2012' });
      const started = Date.now();
      const { error, types } = await failure(server.url, { authTimeout: 60 }, 'alice');
      expect(Date.now() - started).to.be.within(50, 1000);
      expectError(error, 'authTimeout', /AUTH within 60 ms/);
      expect(types()).to.deep.equal(['open', 'error', 'close']);
      expect(server.frames).to.have.length(1, 'no STOR after an unanswered AUTH');
      await until(() => server.closes.length === 1, 'the client to close');
      await expectQuietAfter(types);
    });

    it('fails with authRejected, the status and the server message when AUTH is refused', async () => {
      const server = serve({
        reply: (step) =>
          step.kind === 'AUTH'
            ? { type: 'AUTH', code: 401, message: 'Unknown login or wrong password.' }
            : undefined,
      });
      const { error, types } = await failure(server.url, {}, 'mallory');
      expectError(error, 'authRejected', 'Unknown login or wrong password.');
      expect(error.status).to.equal(401);
      expect(error.answer).to.deep.equal({
        type: 'AUTH',
        code: 401,
        message: 'Unknown login or wrong password.',
      });
      expect(server.frames).to.have.length(1);
      await expectQuietAfter(types, server);
    });
  });

  describe('when the server refuses', () => {
    it('fails with serverRefused and status 413 when STOR is refused, sending no data', async () => {
      const server = serve({
        reply: (step) =>
          step.kind === 'STOR' ? { type: 'STOR', code: 413, message: 'File too large.' } : undefined,
      });
      const { error, types } = await failure(server.url);
      expectError(error, 'serverRefused', 'File too large.');
      expect(error.status).to.equal(413);
      expect(server.dataFrames).to.have.length(0);
      await until(() => server.closes.length === 1, 'the client to close');
      await expectQuietAfter(types, server);
    });

    it('fails with serverRefused and status 500 when a chunk is refused, and sends no further chunk', async () => {
      const server = serve({
        reply: (step) =>
          step.kind === 'DATA' && step.index === 1
            ? { type: 'DATA', code: 500, message: 'Disk full.' }
            : undefined,
      });
      const { error, types } = await failure(server.url);
      expectError(error, 'serverRefused', 'Disk full.');
      expect(error.status).to.equal(500);
      expect(types()).to.deep.equal(['open', 'progress', 'error', 'close']);
      expect(server.dataFrames).to.have.length(2);
      await expectQuietAfter(types, server);
    });

    it('takes an ERROR answer with a failure code as a refusal', async () => {
      const server = serve({
        reply: (step) =>
          step.kind === 'DATA' ? { type: 'ERROR', code: 400, message: 'Bad base64.' } : undefined,
      });
      const { error } = await failure(server.url);
      expectError(error, 'serverRefused', 'Bad base64.');
      expect(error.status).to.equal(400);
    });

    it('writes its own message when the server gives none', async () => {
      const server = serve({
        reply: (step) => (step.kind === 'STOR' ? { type: 'STOR', code: 503 } : undefined),
      });
      const { error } = await failure(server.url);
      expectError(error, 'serverRefused', /STOR with code 503/);
    });
  });

  describe('when an answer is wrong', () => {
    it('fails with badAnswer on text that is not JSON', async () => {
      const server = serve({ reply: (step) => (step.kind === 'STOR' ? 'OK, go on' : undefined) });
      const { error, types } = await failure(server.url);
      expectError(error, 'badAnswer', /not valid JSON/);
      expect(error.answer).to.equal(undefined);
      await expectQuietAfter(types, server);
    });

    it('fails with badAnswer on JSON without a known type or an integer code', async () => {
      const server = serve({
        reply: (step) => (step.kind === 'STOR' ? '{"type":"STOR","code":"200"}' : undefined),
      });
      const { error } = await failure(server.url);
      expectError(error, 'badAnswer', /integer "code"/);
    });

    it('fails with badAnswer on an answer of the wrong type', async () => {
      const server = serve({
        reply: (step) => (step.kind === 'STOR' ? { type: 'DATA', code: 200, bytesRead: 0 } : undefined),
      });
      const { error } = await failure(server.url);
      expectError(error, 'badAnswer', /DATA answer where a STOR answer was due/);
      expect(error.answer).to.deep.equal({ type: 'DATA', code: 200, bytesRead: 0 });
    });

    it('fails with badAnswer on an unsolicited answer', async () => {
      const server = serve({ mode: 'manual' });
      const { transfer, types } = transferTo(server.url);
      transfer.start();
      await server.nextText();
      server.send({ type: 'STOR', code: 200 });
      server.send({ type: 'DATA', code: 200, bytesRead: CHUNK });
      expect(types()).to.deep.equal(['open', 'error', 'close']);
      expectError(errorOf(transfer), 'badAnswer', /DATA answer when none was due/);
      await delay(30);
      expect(server.dataFrames).to.have.length(0);
    });

    it('fails with badAnswer on a binary frame from the server', async () => {
      const server = serve({ mode: 'manual' });
      const { transfer, types } = transferTo(server.url);
      transfer.start();
      await server.nextText();
      server.send(new Uint8Array([123, 125]).buffer);
      expect(types()).to.deep.equal(['open', 'error', 'close']);
      expectError(errorOf(transfer), 'badAnswer', /binary frame/);
    });
  });

  describe('when the connection ends early', () => {
    it('fails with connectionClosed and the close code when the server closes mid-upload', async () => {
      const server = serve({ mode: 'manual' });
      const { transfer, types } = transferTo(server.url);
      const closed = nextEvent(transfer, 'close');
      transfer.start();
      await server.nextText();
      server.send({ type: 'STOR', code: 200 });
      await server.nextFrame();
      server.send({ type: 'DATA', code: 200, bytesRead: CHUNK });
      await server.nextFrame();
      server.closeClient(4001, 'going away');
      const close = await closed;
      expect(types()).to.deep.equal(['open', 'progress', 'error', 'close']);
      const error = errorOf(transfer);
      expectError(error, 'connectionClosed', /code 4001: going away/);
      expect(error.closeCode).to.equal(4001);
      expect(close.detail).to.include({ code: 4001, reason: 'going away', wasClean: false });
    });

    it('fails with connectionClosed when the socket reports an error mid-upload', async () => {
      const server = serve({ mode: 'manual' });
      const { transfer, types } = transferTo(server.url);
      transfer.start();
      await server.nextText();
      server.send({ type: 'STOR', code: 200 });
      await server.nextFrame();
      server.simulateError();
      expect(types()).to.deep.equal(['open', 'error', 'close']);
      expectError(errorOf(transfer), 'connectionClosed', /broke/);
    });
  });

  describe('when answers stop', () => {
    it('fails with answerTimeout when STOR is not answered', async () => {
      const server = serve({ mode: 'manual' });
      const { error, types } = await failure(server.url, { answerTimeout: 50 });
      expectError(error, 'answerTimeout', /STOR within 50 ms/);
      expect(types()).to.deep.equal(['open', 'error', 'close']);
      await until(() => server.closes.length === 1, 'the client to close');
    });

    it('fails with answerTimeout when a chunk is not answered', async () => {
      const server = serve({
        reply: (step) => (step.kind === 'DATA' && step.index === 2 ? null : undefined),
      });
      const { error, types } = await failure(server.url, { answerTimeout: 50 });
      expectError(error, 'answerTimeout', /DATA within 50 ms/);
      expect(types()).to.deep.equal(['open', 'progress', 'progress', 'error', 'close']);
      await until(() => server.closes.length === 1, 'the client to close');
      await expectQuietAfter(types, server);
    });

    it('clears the answer timer once the answer came', async () => {
      const server = serve();
      const { transfer, types } = transferTo(server.url, { answerTimeout: 40, authTimeout: 40 });
      const closed = nextEvent(transfer, 'close');
      transfer.start('alice');
      await closed;
      await delay(100);
      expect(types()).to.deep.equal(['open', 'progress', 'progress', 'progress', 'success', 'close']);
    });
  });

  describe('when the file cannot be read', () => {
    it('fails with readFailed', async () => {
      const server = serve();
      const file = makeFile(3 * CHUNK);
      // What a picked file that changed on disk does: every way of reading it fails with NotReadableError.
      const changed = () => new DOMException('The file changed.', 'NotReadableError');
      file.slice = () =>
        ({
          arrayBuffer: () => Promise.reject(changed()),
          stream: () => new ReadableStream({ pull: (controller) => controller.error(changed()) }),
        }) as unknown as Blob;
      const { error } = await failure(server.url, { file });
      expectError(error, 'readFailed', /The file changed/);
      expect(error.cause).to.be.instanceOf(DOMException);
      expect(server.dataFrames).to.have.length(0);
    });
  });
});
