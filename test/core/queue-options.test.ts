// The queue's options are the transfer's (derived, not copied): every transfer option reaches each file's
// transfer, is checked where it is set, and the queue shows `retrying` while a transfer reconnects.
import { expect } from '@open-wc/testing';
import { UploadQueue, type UploadItem, type UploadStatus } from '../../src/core/index.ts';
import { makeFile } from '../helpers/make-file.ts';
import { MockServer, MockWebSocketClass } from '../helpers/mock-server.ts';

const servers: MockServer[] = [];
const queues: UploadQueue[] = [];
afterEach(() => {
  for (const queue of queues.splice(0)) queue.remove();
  for (const server of servers.splice(0)) server.stop();
});

function manualServer(): MockServer {
  const server = new MockServer({ mode: 'manual' });
  servers.push(server);
  return server;
}

function statusesOf(queue: UploadQueue): UploadStatus[] {
  const seen: UploadStatus[] = [];
  queue.addEventListener('status', (event) => seen.push(event.detail.item.status));
  return seen;
}

const grant = (offset: number) => ({
  type: 'STOR' as const,
  code: 200,
  v: 2,
  id: 'u_queue',
  offset,
  ext: {
    binary: true,
    window: 2,
    maxChunk: 1000,
    checksum: null,
    fin: true,
    expires: '2999-01-01T00:00:00Z',
  },
});

describe('UploadQueue options derived from the transfer', () => {
  it('passes v2 options through to the offer: window, v2ChunkSize, checksum', async () => {
    const server = manualServer();
    const queue = new UploadQueue({
      url: server.url,
      WebSocket: MockWebSocketClass,
      resumeStore: null,
      window: 3,
      v2ChunkSize: 2000,
      checksum: false,
      autoStart: true,
    });
    queues.push(queue);
    queue.add([makeFile(10, 'a.bin')]);
    const stor = JSON.parse((await server.nextText()).slice(5)) as { ext: Record<string, unknown> };
    expect(stor.ext).to.include({ window: 3, chunk: 2000, fin: true });
    expect(stor.ext.checksum).to.deep.equal([]);
  });

  it('sends the 2012 STOR with offerV2: false', async () => {
    const server = manualServer();
    const queue = new UploadQueue({ url: server.url, WebSocket: MockWebSocketClass, offerV2: false });
    queues.push(queue);
    queue.add([makeFile(10, 'b.bin')]);
    queue.start();
    expect(await server.nextText()).to.equal(
      'STOR: {"filename":"b.bin","size":10,"type":"base64","parameters":[]}',
    );
  });

  it('checks transfer options where they are set, naming them', () => {
    expect(() => new UploadQueue({ window: 0 })).to.throw(RangeError, /^UploadQueue: "window"/);
    expect(() => new UploadQueue({ retryDelays: 'soon' as never })).to.throw(TypeError, /"retryDelays"/);
    expect(() => new UploadQueue({ shouldRetry: 1 as never })).to.throw(TypeError, /"shouldRetry"/);
    expect(() => new UploadQueue({ chunkSize: 0 })).not.to.throw();
  });

  it('shows retrying while the transfer reconnects, then sending, then complete', async () => {
    const server = manualServer();
    const queue = new UploadQueue({
      url: server.url,
      WebSocket: MockWebSocketClass,
      resumeStore: null,
      v2ChunkSize: 1000,
      retryDelays: [0],
      autoStart: true,
    });
    queues.push(queue);
    const statuses = statusesOf(queue);
    const [item] = queue.add([makeFile(2000, 'c.bin')]).added as [UploadItem];
    await server.nextText();
    server.send(grant(0));
    await server.nextFrame();
    server.send({ type: 'DATA', code: 200, bytesRead: 1000, offset: 1000 });
    await server.nextFrame();
    server.closeClient(1006);
    await server.nextText();
    expect(item.status).to.equal('retrying');
    expect(queue.busy).to.equal(true);
    server.send(grant(1000));
    await server.nextFrame();
    server.send({ type: 'DATA', code: 200, bytesRead: 1000, offset: 2000 });
    await server.nextText();
    const completed = new Promise<void>((resolve) =>
      queue.addEventListener('complete', () => resolve(), { once: true }),
    );
    server.send({ type: 'FIN', code: 200, id: 'u_queue', size: 2000 });
    await completed;
    expect(statuses).to.deep.equal(['connecting', 'sending', 'retrying', 'sending', 'complete']);
  });

  it('lets a shouldRetry hook turn a reconnection into a failure', async () => {
    const server = manualServer();
    const asked: string[] = [];
    const queue = new UploadQueue({
      url: server.url,
      WebSocket: MockWebSocketClass,
      resumeStore: null,
      v2ChunkSize: 1000,
      retryDelays: [0],
      shouldRetry: (situation) => {
        asked.push(situation.cause);
        return false;
      },
      autoStart: true,
    });
    queues.push(queue);
    const failed = new Promise<string>((resolve) =>
      queue.addEventListener('error', (event) => resolve(event.detail.error.code)),
    );
    queue.add([makeFile(2000, 'd.bin')]);
    await server.nextText();
    server.send(grant(0));
    await server.nextFrame();
    server.closeClient(1006);
    expect(await failed).to.equal('connectionClosed');
    expect(asked).to.deep.equal(['socketClosed']);
  });
});
