// Pause and resume through the core's UploadQueue (usable without the element) against the real server over
// real sockets: a paused upload sends nothing and the server's partial copy does not grow; resumed, it
// continues on a new connection from the server's offset and the stored file is identical. Against a v1
// conversation pause is refused with a reason; a cancelled paused upload is deleted on the server.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UploadQueue, type UploadItem } from '../../src/core/index.ts';
import { MemoryStore } from '../helpers/memory-store.ts';
import { countingWebSocket, type SendCounter } from '../helpers/node-client.ts';
import { bytes, eventually, partialBytes, partialFiles, readStored, startServer } from '../server/peer.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const MIB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function untilStatus(item: UploadItem, status: string, timeout = 30_000): Promise<void> {
  return eventually(() => item.status === status, `item to be ${status}`, timeout);
}

async function setUp(options: { offerV2?: boolean } = {}) {
  const started = await startServer();
  cleanups.push(() => started.stop());
  let connections = 0;
  started.server.on('connection', () => (connections += 1));
  const counter: SendCounter = { dataBytes: 0, textFrames: [], binaryFrames: 0 };
  const store = new MemoryStore();
  const queue = new UploadQueue({
    url: started.url,
    WebSocket: countingWebSocket(counter),
    resumeStore: store,
    v2ChunkSize: 64 * 1024,
    window: 2,
    ...options,
  });
  cleanups.push(() => queue.remove());
  return { ...started, queue, counter, store, connections: () => connections };
}

describe('UploadQueue pause and resume against the real server', () => {
  it('pauses mid-upload (nothing moves for 5 s, server side), then resumes from the offset: identical file', async () => {
    const { queue, counter, store, dir, connections } = await setUp();
    const size = 24 * MIB + 321;
    const data = bytes(size, 31);
    const file = new File([new Uint8Array(data)], 'paused.bin');
    const events: string[] = [];
    queue.addEventListener('pause', () => events.push('pause'));
    queue.addEventListener('resume', () => events.push('resume'));
    let paused: ReturnType<UploadQueue['pause']> | undefined;
    queue.addEventListener('progress', (event) => {
      if (!paused && event.detail.item.loaded >= 2 * MIB) paused = queue.pause(file);
    });
    const [item] = queue.add([file]).added;
    queue.start();
    await untilStatus(item!, 'paused');
    assert.deepEqual(paused?.refused, []);
    assert.equal(paused?.paused[0], item);
    assert.equal(item!.pausable, false, 'a paused item is not running');
    assert.equal(store.records.size, 1, 'the resume record is kept');
    const record = [...store.records.values()][0]!;
    assert.ok(record.offset >= 2 * MIB && record.offset < size, `record at ${record.offset}`);
    assert.equal(counter.textFrames.filter((frame) => frame.startsWith('ABOR')).length, 0, 'no ABOR');

    // Answers to chunks already on the wire may still land in the first moment; from then on, nothing moves.
    await sleep(500);
    const [sentAtPause, heldAtPause, connectionsAtPause] = [
      counter.dataBytes,
      await partialBytes(dir),
      connections(),
    ];
    assert.ok(heldAtPause >= record.offset, `the server holds ${heldAtPause} bytes`);
    assert.ok(heldAtPause < size);
    await sleep(5000);
    assert.equal(counter.dataBytes, sentAtPause, 'the client sent nothing while paused');
    assert.equal(await partialBytes(dir), heldAtPause, 'the server received nothing while paused');
    assert.equal(connections(), connectionsAtPause, 'no connection was opened while paused');
    assert.equal(item!.status, 'paused');

    const resumed = queue.resume(file);
    assert.deepEqual(resumed, [item]);
    await untilStatus(item!, 'complete', 60_000);
    assert.deepEqual(events, ['pause', 'resume']);
    assert.equal(connections(), connectionsAtPause + 1, 'resumed on one new connection');
    const stors = counter.textFrames.filter((frame) => frame.startsWith('STOR'));
    assert.equal(stors.length, 2);
    assert.match(stors[1]!, new RegExp(`"resume":"${record.id}"`), 'the second STOR resumes the upload');
    // Continued from the server's offset: at most the window in flight at the pause is sent twice.
    assert.ok(counter.dataBytes - size <= 2 * 64 * 1024, `re-sent ${counter.dataBytes - size} bytes`);
    assert.deepEqual(await readStored(dir, 'paused.bin'), data);
    assert.equal(store.records.size, 0, 'the record is removed on success');
  });

  it('refuses to pause a v1 upload, with a reason, and the upload goes on', async () => {
    const { queue, dir } = await setUp({ offerV2: false });
    const data = bytes(2 * MIB, 32);
    const file = new File([new Uint8Array(data)], 'v1.bin');
    let answer: ReturnType<UploadQueue['pause']> | undefined;
    let pausable: boolean | undefined;
    queue.addEventListener('progress', (event) => {
      if (answer) return;
      pausable = event.detail.item.pausable;
      answer = queue.pause(file);
    });
    const [item] = queue.add([file]).added;
    queue.start();
    await untilStatus(item!, 'complete');
    assert.equal(pausable, false, 'a v1 upload is not pausable');
    assert.deepEqual(answer?.paused, []);
    assert.equal(answer?.refused.length, 1);
    assert.equal(answer?.refused[0]!.reason, 'notResumable');
    assert.match(answer!.refused[0]!.message, /v1/);
    assert.deepEqual(await readStored(dir, 'v1.bin'), data);
  });

  it('holds a queued item when paused, and deletes a paused upload on the server when it is cancelled', async () => {
    const { queue, store, dir } = await setUp();
    const running = new File([new Uint8Array(bytes(8 * MIB, 33))], 'cancel-me.bin');
    const waiting = new File([new Uint8Array(bytes(1000, 34))], 'held.bin');
    queue.configure({ concurrency: 1 });
    let paused = false;
    queue.addEventListener('progress', (event) => {
      if (!paused && event.detail.item.file === running && event.detail.item.loaded >= MIB) {
        paused = true;
        queue.pause(); // both: the running one stops, the queued one is held
      }
    });
    const [first, second] = queue.add([running, waiting]).added;
    queue.start();
    await untilStatus(first!, 'paused');
    assert.equal(second!.status, 'paused', 'the queued item is held too');
    assert.equal(queue.busy, true, 'a running queue with paused items is not idle');
    await eventually(
      async () => (await partialFiles(dir)).some((name) => name.endsWith('.part')),
      'a partial',
    );
    queue.cancel(running);
    assert.equal(first!.status, 'cancelled');
    assert.equal(store.records.size, 0, 'the record is forgotten');
    await eventually(
      async () => !(await partialFiles(dir)).some((name) => name.endsWith('.part')),
      'the server to delete the partial upload (ABOR on a side connection)',
      5000,
    );
    queue.resume(waiting);
    await untilStatus(second!, 'complete');
  });
});
