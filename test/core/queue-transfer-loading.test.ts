// The queue's code that sends files (queue-transfer.ts and what it imports) is loaded with import() when a
// file first starts (upload-queue.ts): preload() fetches it ahead, and a file waiting for its `prepare` (or
// for that code) holds nothing on the server, so it pauses as a queued one does and resumes whole.
import { expect } from '@open-wc/testing';
import { UploadQueue } from '../../src/core/index.ts';
import { bytesOf, makeFile } from '../helpers/make-file.ts';
import { MockWebSocketClass } from '../helpers/mock-server.ts';
import { QueueServer } from '../helpers/queue-server.ts';
import { until } from '../helpers/transfer-events.ts';

describe('UploadQueue: loading the code that sends files', () => {
  it('preload() resolves once the code is loaded', async () => {
    expect(await UploadQueue.preload()).to.equal(undefined);
  });

  it('pauses a file whose prepare is pending (nothing sent yet), and sends it whole on resume', async () => {
    const server = new QueueServer();
    let release: () => void = () => {};
    const prepared = new Promise<void>((resolve) => (release = resolve));
    const queue = new UploadQueue({
      url: server.url,
      WebSocket: MockWebSocketClass,
      chunkSize: 1000,
      autoStart: true,
      prepare: async () => {
        await prepared;
        return {};
      },
    });
    try {
      const file = makeFile(2500, 'held.bin', 4);
      const [item] = queue.add([file]).added;
      expect(item!.status).to.equal('connecting');
      const { paused, refused } = queue.pause(item);
      expect([paused.length, refused.length]).to.deep.equal([1, 0]);
      release();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(server.connections.length).to.equal(0, 'a paused file does not start when its prepare answers');
      queue.resume(item);
      await until(() => item!.status === 'complete', 'the file to be stored', 4000);
      expect(server.connections.at(-1)!.bytes).to.deep.equal(Array.from(await bytesOf(file)));
    } finally {
      queue.remove();
      server.stop();
    }
  });
});
