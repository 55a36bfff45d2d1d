import { expect } from '@open-wc/testing';
import {
  acceptsFile,
  UploadQueue,
  type UploadQueueEventMap,
  type UploadQueueOptions,
} from '../../src/core/index.ts';
import { makeBytes, makeFile } from '../helpers/make-file.ts';
import { MockWebSocketClass } from '../helpers/mock-server.ts';
import { QueueServer, type QueueServerOptions } from '../helpers/queue-server.ts';
import { until } from '../helpers/transfer-events.ts';

const servers: QueueServer[] = [];
const queues: UploadQueue[] = [];

function serve(options: QueueServerOptions = {}): QueueServer {
  const server = new QueueServer(options);
  servers.push(server);
  return server;
}

function queueFor(server: QueueServer | null, options: UploadQueueOptions = {}): UploadQueue {
  const queue = new UploadQueue({
    url: server?.url,
    WebSocket: MockWebSocketClass,
    chunkSize: 1000,
    ...options,
  });
  queues.push(queue);
  return queue;
}

/** Records `type item-name:status` lines for the given queue events. */
function record(queue: UploadQueue, types: (keyof UploadQueueEventMap)[]): string[] {
  const log: string[] = [];
  for (const type of types) {
    queue.addEventListener(type, (event: CustomEvent) => {
      const detail = event.detail as { item?: { file: File; status: string }; file?: File; reason?: string };
      if (detail.item) log.push(`${type} ${detail.item.file.name}:${detail.item.status}`);
      else if (detail.reason) log.push(`${type} ${detail.file!.name}:${detail.reason}`);
      else log.push(type);
    });
  }
  return log;
}

afterEach(() => {
  for (const queue of queues.splice(0)) queue.remove();
  for (const server of servers.splice(0)) server.stop();
});

describe('UploadQueue', () => {
  describe('restrictions', () => {
    it('matches accept lists as the file input does: extensions, MIME wildcards and exact types', () => {
      const pdf = new File(['x'], 'Report.PDF', { type: 'application/pdf' });
      const png = new File(['x'], 'a.png', { type: 'image/png' });
      const txt = new File(['x'], 'notes.txt', { type: 'text/plain' });
      expect(acceptsFile('', txt)).to.equal(true);
      expect(acceptsFile('.pdf', pdf)).to.equal(true, 'extensions ignore case');
      expect(acceptsFile('.pdf', txt)).to.equal(false);
      expect(acceptsFile('image/*', png)).to.equal(true);
      expect(acceptsFile('image/*', pdf)).to.equal(false);
      expect(acceptsFile(' text/plain , .zip', txt)).to.equal(true);
      expect(acceptsFile('text/html', txt)).to.equal(false);
    });

    it('rejects files by type, size and count with a reason key, and queues the rest', () => {
      const queue = queueFor(null, { accept: '.bin,image/*', maxFileSize: 100, maxFiles: 2 });
      const log = record(queue, ['reject', 'add']);
      const result = queue.add([
        makeFile(10, 'a.bin'),
        makeFile(10, 'b.txt'),
        makeFile(101, 'big.bin'),
        makeFile(10, 'c.bin'),
        makeFile(10, 'd.bin'),
      ]);
      expect(result.added.map((item) => item.file.name)).to.deep.equal(['a.bin', 'c.bin']);
      expect(result.rejected.map((r) => `${r.file.name}:${r.reason}`)).to.deep.equal([
        'b.txt:fileTypeNotAccepted',
        'big.bin:fileTooBig',
        'd.bin:tooManyFiles',
      ]);
      expect(log).to.deep.equal([
        'reject b.txt:fileTypeNotAccepted',
        'reject big.bin:fileTooBig',
        'reject d.bin:tooManyFiles',
        'add',
      ]);
      expect(queue.items.map((item) => item.status)).to.deep.equal(['queued', 'queued']);
    });

    it('throws RangeError or TypeError naming a bad option', () => {
      expect(() => new UploadQueue({ concurrency: 0 })).to.throw(RangeError, /"concurrency"/);
      expect(() => new UploadQueue({ maxFiles: 1.5 })).to.throw(RangeError, /"maxFiles"/);
      expect(() => new UploadQueue({ maxFileSize: -1 })).to.throw(RangeError, /"maxFileSize"/);
      expect(() => new UploadQueue({ auth: { pass: 'x' } as never })).to.throw(TypeError, /"auth"/);
      expect(() => new UploadQueue({ chunkSize: 2 ** 30 })).to.throw(RangeError, /"chunkSize"/);
      expect(() => new UploadQueue({ type: 'hex' as never })).to.throw(TypeError, /"type"/);
    });
  });

  describe('uploading', () => {
    it('waits for start() unless autoStart, then walks each item through its statuses', async () => {
      const server = serve();
      const queue = queueFor(server);
      const log = record(queue, ['status', 'success', 'complete']);
      const file = new File([makeBytes(2500)], 'one.bin');
      const [item] = queue.add([file]).added;
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(server.connections).to.have.length(0, 'nothing starts before start()');
      expect(queue.busy).to.equal(false);

      queue.start();
      await until(() => log.includes('complete'), 'the queue to complete');
      expect(log).to.deep.equal([
        'status one.bin:connecting',
        'status one.bin:sending',
        'status one.bin:complete',
        'success one.bin:complete',
        'complete',
      ]);
      expect(item!.percentage).to.equal(100);
      expect(item!.loaded).to.equal(2500);
      expect(server.stored('one.bin')).to.deep.equal(makeBytes(2500));
    });

    it('forwards a transfer’s warning as its item’s warning: checksum on, a server that checks no blocks', async () => {
      const server = serve(); // v1: grants no integrity
      const queue = queueFor(server, { checksum: true });
      const warnings: UploadQueueEventMap['warning']['detail'][] = [];
      queue.addEventListener('warning', (event) => warnings.push(event.detail));
      const log = record(queue, ['warning', 'success']);
      const [item] = queue.add([new File([makeBytes(1500)], 'plain.bin')]).added;
      queue.start();
      await until(() => log.includes('success plain.bin:complete'), 'the upload to complete');
      // The STOR answer tells: before the first chunk is acknowledged.
      expect(log).to.deep.equal(['warning plain.bin:connecting', 'success plain.bin:complete']);
      expect(warnings).to.have.length(1);
      expect(warnings[0]!.item).to.equal(item);
      expect(warnings[0]!.code).to.equal('integrityNotGranted');
      expect(warnings[0]!.message).to.be.a('string').and.not.equal('');
    });

    it('fires no warning when checksum is off', async () => {
      const server = serve();
      const queue = queueFor(server, { checksum: false });
      const log = record(queue, ['warning', 'complete']);
      queue.add([new File([makeBytes(1500)], 'off.bin')]);
      queue.start();
      await until(() => log.includes('complete'), 'the queue to complete');
      expect(log).to.deep.equal(['complete']);
    });

    it('starts files as they are added with autoStart', async () => {
      const server = serve();
      const queue = queueFor(server, { autoStart: true });
      queue.add([makeFile(10, 'auto.bin')]);
      await until(() => queue.items[0]!.status === 'complete', 'the file to complete');
      expect(server.connections).to.have.length(1);
    });

    it('runs at most `concurrency` transfers at once and finishes them all', async () => {
      const server = serve({ hold: true });
      const queue = queueFor(server, { concurrency: 2 });
      queue.add([1, 2, 3, 4, 5].map((n) => makeFile(1500, `f${n}.bin`, n)));
      queue.start();
      await until(() => server.held === 2, 'two files in flight');
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(server.open).to.equal(2);
      expect(queue.progress.counts).to.include({ queued: 3, connecting: 2 });
      server.release(true);
      await until(() => queue.progress.counts.complete === 5, 'all five to complete');
      expect(server.maxOpen).to.equal(2);
      for (const n of [1, 2, 3, 4, 5]) expect(server.stored(`f${n}.bin`)).to.deep.equal(makeBytes(1500, n));
    });

    it('aggregates progress over the items that are not cancelled', async () => {
      const server = serve({ hold: true });
      const queue = queueFor(server, { concurrency: 3 });
      queue.add([makeFile(3000, 'a.bin'), makeFile(1000, 'b.bin'), makeFile(500, 'c.bin')]);
      queue.cancel(queue.items[2]);
      queue.start();
      await until(() => server.held === 2, 'two chunks held');
      server.release();
      await until(() => queue.progress.loaded === 2000, 'two chunks acknowledged');
      const progress = queue.progress;
      expect(progress.total).to.equal(4000);
      expect(progress.percentage).to.equal(50);
      expect(progress.counts).to.include({ sending: 1, complete: 1, cancelled: 1 });
    });

    it('keeps its running totals equal to a recount of the items after every event', async () => {
      const server = serve({
        refuseStor: (name) => (name === 'bad.bin' ? { type: 'STOR', code: 500, message: 'x' } : undefined),
      });
      const queue = queueFor(server, { concurrency: 3 });
      const mismatches: string[] = [];
      const check = (event: Event): void => {
        const items = queue.items;
        const counted = items.filter((item) => item.status !== 'cancelled');
        const loaded = counted.reduce((sum, item) => sum + item.loaded, 0);
        const total = counted.reduce((sum, item) => sum + item.total, 0);
        const { progress } = queue;
        for (const status of [
          'queued',
          'connecting',
          'sending',
          'complete',
          'failed',
          'cancelled',
        ] as const) {
          const count = items.filter((item) => item.status === status).length;
          if (progress.counts[status] !== count) mismatches.push(`${event.type}: ${status} ${count}`);
        }
        if (progress.loaded !== loaded || progress.total !== total) {
          mismatches.push(`${event.type}: ${progress.loaded}/${progress.total} vs ${loaded}/${total}`);
        }
      };
      for (const type of ['add', 'status', 'progress', 'success', 'error', 'cancel', 'remove', 'complete']) {
        queue.addEventListener(type, check);
      }
      queue.add([makeFile(2500, 'a.bin'), makeFile(10, 'bad.bin'), makeFile(3000, 'c.bin', 3)]);
      queue.add([makeFile(700, 'd.bin', 4), makeFile(1200, 'e.bin', 5)]);
      queue.cancel(queue.items[4]);
      queue.start();
      await until(() => !queue.busy, 'the first run to end');
      expect(queue.progress.counts).to.include({ complete: 3, failed: 1, cancelled: 1 });
      queue.retry();
      await until(() => !queue.busy, 'the retries to end');
      queue.remove(queue.items[0]);
      check(new Event('after remove'));
      expect(queue.progress.loaded).to.equal(3000 + 700 + 1200);
      expect(queue.progress.speed).to.equal(0, 'nothing is sending');
      queue.remove();
      check(new Event('after clear'));
      expect(queue.progress).to.deep.include({ loaded: 0, total: 0, percentage: 100 });
      expect(mismatches).to.deep.equal([]);
    });

    it('sends AUTH with login and password, or with a token', async () => {
      const server = serve();
      const queue = queueFor(server, { auth: { login: 'ann', password: 'pw' }, autoStart: true });
      queue.add([makeFile(5, 'a.bin')]);
      await until(() => queue.items[0]!.status === 'complete', 'the first file');
      queue.configure({ auth: { token: 't0k' } });
      queue.add([makeFile(5, 'b.bin')]);
      await until(() => queue.items[1]!.status === 'complete', 'the second file');
      expect(server.connections.map((c) => c.auth)).to.deep.equal([
        'AUTH: {"login":"ann","password":"pw"}',
        'AUTH: {"token":"t0k"}',
      ]);
    });
  });

  describe('failure and retry', () => {
    it('marks a refused file failed with the UploadError, then retry() uploads it from the start', async () => {
      const server = serve({
        refuseStor: (_name, attempt) =>
          attempt === 1 ? { type: 'STOR', code: 413, message: 'Too large for today' } : undefined,
      });
      const queue = queueFor(server);
      const log = record(queue, ['status', 'error', 'complete']);
      const [item] = queue.add([makeFile(1200, 'r.bin')]).added;
      queue.start();
      await until(() => log.includes('complete'), 'the first run to end');
      expect(item!.status).to.equal('failed');
      expect(item!.error!.code).to.equal('serverRefused');
      expect(item!.error!.status).to.equal(413);
      expect(item!.error!.message).to.equal('Too large for today');

      queue.retry(item!.file);
      await until(() => log.filter((line) => line === 'complete').length === 2, 'the retry to end');
      expect(log).to.deep.equal([
        'status r.bin:connecting',
        'status r.bin:failed',
        'error r.bin:failed',
        'complete',
        'status r.bin:queued',
        'status r.bin:connecting',
        'status r.bin:sending',
        'status r.bin:complete',
        'complete',
      ]);
      expect(item!.error).to.equal(null);
      expect(server.stored('r.bin')).to.deep.equal(makeBytes(1200));
    });

    it('fails a file when no url is set, without throwing', async () => {
      const queue = queueFor(null, { autoStart: true });
      const [item] = queue.add([makeFile(5)]).added;
      expect(item!.status).to.equal('failed');
      expect(item!.error!.code).to.equal('connectionFailed');
      expect(item!.error!.message).to.match(/"url"/);
    });
  });

  describe('cancel and remove', () => {
    it('cancels a running file (closing its socket) and lets the next one start', async () => {
      const server = serve({ hold: true });
      const queue = queueFor(server, { concurrency: 1 });
      const log = record(queue, ['cancel']);
      queue.add([makeFile(3000, 'x.bin'), makeFile(10, 'y.bin')]);
      queue.start();
      await until(() => server.held === 1, 'x in flight');
      queue.cancel(queue.items[0]!.file);
      expect(queue.items[0]!.status).to.equal('cancelled');
      expect(log).to.deep.equal(['cancel x.bin:cancelled']);
      await until(() => server.connections[0]!.closed, 'x’s socket to close');
      server.release(true);
      await until(() => queue.items[1]!.status === 'complete', 'y to complete');
      expect(queue.items[0]!.status).to.equal('cancelled', 'late answers do not revive it');
    });

    it('cancels everything not ended, and leaves complete items alone', async () => {
      const server = serve({ hold: true });
      const queue = queueFor(server, { concurrency: 1, autoStart: true });
      queue.add([makeFile(10, 'done.bin')]);
      await until(() => server.held === 1, 'done.bin in flight');
      server.release();
      await until(() => queue.items[0]!.status === 'complete', 'done.bin to complete');
      queue.add([makeFile(3000, 'p.bin'), makeFile(3000, 'q.bin')]);
      queue.cancel();
      expect(queue.items.map((item) => item.status)).to.deep.equal(['complete', 'cancelled', 'cancelled']);
      expect(queue.busy).to.equal(false);
    });

    it('removes one item or all, cancelling running ones first', async () => {
      const server = serve({ hold: true });
      const queue = queueFor(server, { concurrency: 2 });
      const log = record(queue, ['cancel', 'remove']);
      queue.add([makeFile(3000, 'a.bin'), makeFile(3000, 'b.bin')]);
      queue.start();
      await until(() => server.held === 2, 'both in flight');
      queue.remove(queue.items[0]);
      expect(queue.items.map((item) => item.file.name)).to.deep.equal(['b.bin']);
      queue.remove();
      expect(queue.items).to.have.length(0);
      expect(log).to.deep.equal([
        'cancel a.bin:cancelled',
        'remove a.bin:cancelled',
        'cancel b.bin:cancelled',
        'remove b.bin:cancelled',
      ]);
      await until(() => server.open === 0, 'both sockets to close');
    });

    it('rejects illegal status moves: a complete item cannot be retried', async () => {
      const server = serve();
      const queue = queueFor(server, { autoStart: true });
      const [item] = queue.add([makeFile(5)]).added;
      await until(() => item!.status === 'complete', 'the file to complete');
      queue.retry(item);
      queue.cancel(item);
      expect(item!.status).to.equal('complete');
    });
  });

  describe('pause and resume', () => {
    const memoryStore = () => {
      const records = new Map<string, unknown>();
      return {
        get: (key: string) => (records.get(key) ?? null) as never,
        set: (key: string, record: unknown) => void records.set(key, record),
        remove: (key: string) => void records.delete(key),
        records,
      };
    };

    it('frees the slot of a paused file, keeps the queue busy, and completes only after resume', async () => {
      const server = serve({ v2: true, hold: true });
      const store = memoryStore();
      const queue = queueFor(server, { concurrency: 1, resumeStore: store, v2ChunkSize: 1000 });
      const log = record(queue, ['pause', 'resume', 'success', 'complete']);
      const [a, b] = queue.add([makeFile(3000, 'a.bin'), makeFile(1000, 'b.bin')]).added;
      queue.start();
      await until(() => server.held === 1, 'the first chunk of a.bin');
      server.release();
      await until(() => a!.status === 'sending' && a!.pausable, 'a.bin sending, pausable');
      const result = queue.pause(a);
      expect(result).to.deep.equal({ paused: [a], refused: [] });
      expect(a!.status).to.equal('paused');
      expect(store.records.size).to.equal(1, 'the resume record is kept');
      // The slot goes to b.bin; the queue stays busy while a.bin is paused.
      server.release(true);
      await until(() => b!.status === 'complete', 'b.bin');
      expect(queue.busy).to.equal(true);
      expect(log).to.deep.equal(['pause a.bin:paused', 'success b.bin:complete']);
      expect(queue.progress.counts.paused).to.equal(1);
      expect(queue.resume()).to.deep.equal([a]);
      await until(() => a!.status === 'complete', 'a.bin after resume');
      expect(log).to.deep.equal([
        'pause a.bin:paused',
        'success b.bin:complete',
        'resume a.bin:queued',
        'success a.bin:complete',
        'complete',
      ]);
      expect(server.connections.at(-1)!.resumed).to.equal('u_1');
      expect(server.heldBy('u_1')).to.deep.equal(new Uint8Array(await a!.file.arrayBuffer()));
    });

    it('pauses a file before its STOR (nothing held yet) and sends it whole on resume', async () => {
      const server = serve({ v2: true });
      const queue = queueFor(server, { autoStart: true, resumeStore: memoryStore() });
      const [item] = queue.add([makeFile(2500, 'early.bin')]).added;
      expect(item!.status).to.equal('connecting');
      expect(queue.pause(item).paused).to.deep.equal([item]);
      await until(() => server.open === 0, 'the socket to close');
      expect(server.connections.every((connection) => connection.stor === undefined)).to.equal(true);
      queue.resume(item);
      await until(() => item!.status === 'complete', 'the upload');
      expect(server.connections.at(-1)!.resumed).to.equal(null);
      expect(server.heldBy('u_1').length).to.equal(2500);
    });

    it('refuses to pause a v1 upload with its reason, and lets it finish', async () => {
      const server = serve({ hold: true });
      const queue = queueFor(server, { autoStart: true });
      const [item] = queue.add([makeFile(3000, 'v1.bin')]).added;
      await until(() => server.held === 1, 'the first chunk');
      server.release();
      await until(() => item!.status === 'sending', 'the v1 upload');
      expect(item!.pausable).to.equal(false);
      const result = queue.pause();
      expect(result.paused).to.deep.equal([]);
      expect(result.refused.map((refusal) => refusal.reason)).to.deep.equal(['notResumable']);
      expect(result.refused[0]!.message).to.match(/v1/);
      server.release(true);
      await until(() => item!.status === 'complete', 'the v1 upload to finish');
      expect(queue.pause()).to.deep.equal({ paused: [], refused: [] }, 'nothing running, nothing refused');
    });
  });
});
