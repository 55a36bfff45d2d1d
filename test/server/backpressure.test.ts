// Memory bound under slow storage: while a chunk waits for the disk, the server stops reading the socket
// once 1 MiB is pending (the chunk being written included), so that each connection holds about one chunk
// and the rest of the client's window stays in the kernel's TCP buffers. Then reading resumes and the upload
// completes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { formatFin, formatStor } from '../../src/protocol/index.ts';
import { FileStore, type PartialUpload, type UploadStore } from '../../src/server/index.ts';
import { Backpressure, MAX_BACKLOG, MAX_PENDING_BYTES } from '../../src/server/backpressure.ts';
import { bytes, eventually, Peer, readStored, sha256, startServer, tempDir } from './peer.ts';

const MiB = 1024 * 1024;

/** A file store whose writes wait until `open()`: storage slower than the network. */
class GatedStore implements UploadStore {
  readonly inner: FileStore;
  writesStarted = 0;
  #open!: () => void;
  readonly #gate = new Promise<void>((resolve) => (this.#open = resolve));

  constructor(dir: string) {
    this.inner = new FileStore({ dir });
  }

  letWritesThrough(): void {
    this.#open();
  }

  async create(request: Parameters<UploadStore['create']>[0]): Promise<PartialUpload> {
    const partial = await this.inner.create(request);
    const gated = async (chunk: Uint8Array) => {
      this.writesStarted++;
      await this.#gate;
      return partial.write(chunk);
    };
    return new Proxy(partial, {
      get(target, property) {
        if (property === 'write') return gated;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }
}

async function receivedBytes(metricsText: () => Promise<string>): Promise<number> {
  const line = /^wsfu_received_bytes_total (\d+)$/m.exec(await metricsText());
  return Number(line?.[1] ?? 0);
}

describe('backpressure', () => {
  let env: Awaited<ReturnType<typeof startServer>>;
  let store: GatedStore;
  before(async () => {
    store = new GatedStore(await tempDir());
    env = await startServer({ store });
  });
  after(async () => {
    await env.stop();
  });

  it('stops reading at 1 MiB pending while the disk is slow, then resumes and stores the file', async () => {
    const chunks = 6;
    const data = bytes(chunks * MiB, 7);
    const peer = await Peer.connect(env.url);
    const stor = formatStor({
      filename: 'slow.bin',
      size: data.length,
      type: 'binary',
      parameters: [],
      v: 2,
      ext: { binary: true, window: 8, chunk: MiB, resume: null, checksum: ['sha256'], fin: true },
    });
    const granted = await peer.ask(stor);
    assert.equal(granted.code, 200, JSON.stringify(granted));
    // The whole file at once (within the granted window of 8): a client that keeps its window full.
    for (let k = 0; k < chunks; k++) peer.socket.send(data.subarray(k * MiB, (k + 1) * MiB));
    const metrics = () => env.server.metricsText();
    const storBytes = Buffer.byteLength(stor);
    try {
      await eventually(async () => store.writesStarted === 1, 'the first chunk to reach the store');
      // Give the server every chance to read further (it would, without the pause), then count what it
      // read. A slow machine can only make this pass without proving much, never fail it wrongly.
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const read = (await receivedBytes(metrics)) - storBytes;
      assert.ok(read >= MiB, `the first chunk arrived (${read} bytes)`);
      assert.ok(read < 2 * MiB, `no second 1 MiB chunk is read while the first waits for the disk (${read})`);
      assert.equal(store.writesStarted, 1);
    } finally {
      // Also on failure: a write left waiting would hold up the server's close.
      store.letWritesThrough();
    }
    for (let k = 0; k < chunks; k++) {
      const ack = await peer.next();
      assert.equal(ack.type, 'DATA', JSON.stringify(ack));
      assert.equal(ack.offset, (k + 1) * MiB);
    }
    const checksum = `sha256:${createHash('sha256').update(data).digest('base64')}`;
    const fin = await peer.ask(formatFin({ size: data.length, checksum }));
    assert.equal(fin.code, 200, JSON.stringify(fin));
    assert.equal(sha256(await readStored(store.inner.dir, 'slow.bin')), sha256(data));
    peer.close();
  });
});

// The same unit step by step, without a socket: a socket is only something that pauses and resumes.
describe('Backpressure (unit)', () => {
  class Reading {
    isPaused = false;
    pauses = 0;
    pause(): void {
      this.isPaused = true;
      this.pauses++;
    }
    resume(): void {
      this.isPaused = false;
    }
  }

  it('pauses past the backlog of a stop-and-wait client and resumes once it drained', () => {
    const socket = new Reading();
    const pressure = new Backpressure(socket);
    for (let i = 0; i < MAX_BACKLOG; i++) pressure.arrived(10);
    assert.equal(socket.isPaused, false, `${MAX_BACKLOG} small messages may wait`);
    pressure.arrived(10);
    assert.equal(socket.isPaused, true);
    pressure.handled(10);
    assert.equal(socket.isPaused, false);
    assert.deepEqual([pressure.backlog, pressure.pendingBytes], [MAX_BACKLOG, MAX_BACKLOG * 10]);
  });

  it('pauses while 1 MiB waits, whatever the count', () => {
    const socket = new Reading();
    const pressure = new Backpressure(socket);
    pressure.arrived(MAX_PENDING_BYTES - 1);
    assert.equal(socket.isPaused, false);
    pressure.arrived(1);
    assert.equal(socket.isPaused, true);
    pressure.handled(1);
    assert.equal(socket.isPaused, false);
  });

  it('lets an agreed window of chunks (plus two commands) wait without pausing', () => {
    const socket = new Reading();
    const pressure = new Backpressure(socket);
    pressure.agreeWindow(16);
    for (let i = 0; i < 18; i++) pressure.arrived(1);
    assert.equal(socket.pauses, 0);
    pressure.arrived(1);
    assert.equal(socket.pauses, 1);
    // A smaller window never goes below the stop-and-wait allowance.
    pressure.agreeWindow(1);
    for (let i = 0; i < 19 - MAX_BACKLOG; i++) pressure.handled(1);
    assert.equal(socket.isPaused, false);
  });
});
