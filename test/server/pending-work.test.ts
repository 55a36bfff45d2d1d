// The store wrapper a shutdown waits on, step by step over a real FileStore: every storage operation started
// through it (create, a partial's write, commit and discard, any other store method) holds up settled(),
// including work started while it waits; nothing pending, it resolves at once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PendingWork } from '../../src/server/pending-work.ts';
import { FileStore } from '../../src/server/stores/file-store.ts';
import type { UploadStore } from '../../src/server/stores/store.ts';
import { bytes, partialFiles, readStored, storedFiles, tempDir } from './peer.ts';

describe('PendingWork', () => {
  it('resolves at once when nothing is pending', async () => {
    const work = new PendingWork(new FileStore({ dir: await tempDir() }));
    await work.settled();
  });

  it('waits for a write and a commit that are under way', async () => {
    const dir = await tempDir();
    const work = new PendingWork(new FileStore({ dir }));
    const data = bytes(256 * 1024);
    const partial = await work.store.create({ filename: 'held.bin', size: data.length });
    const order: string[] = [];
    void partial.write(data).then(() => order.push('written'));
    await work.settled();
    order.push('settled');
    assert.deepEqual(order, ['written', 'settled']);

    void partial.commit().then(() => order.push('committed'));
    await work.settled();
    order.push('settled again');
    assert.deepEqual(order.slice(2), ['committed', 'settled again']);
    assert.deepEqual(await storedFiles(dir), ['held.bin']);
    assert.ok((await readStored(dir, 'held.bin')).equals(data));
  });

  it('waits for work started while it waits, and for other store methods (a discard after a close)', async () => {
    const dir = await tempDir();
    const inner = new FileStore({ dir });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // A store whose create waits on a gate: what a slow disk looks like from the session.
    const slow: UploadStore = {
      create: async (request) => {
        await gate;
        return inner.create(request);
      },
    };
    const work = new PendingWork(slow);
    let discarded = false;
    // As a session cleaning up after a closed connection: create, then discard once it exists.
    void work.store
      .create({ filename: 'gone.bin', size: 10 })
      .then((partial) => partial.write(bytes(5)).then(() => partial.discard()))
      .then(() => (discarded = true));
    const settled = work.settled().then(() => discarded);
    release();
    assert.equal(await settled, true, 'settled only once the discard that followed the create was done');
    assert.deepEqual(await partialFiles(dir), []);
  });

  it('passes other store methods through, bound to the store, their promises tracked', async () => {
    const dir = await tempDir();
    const work = new PendingWork(new FileStore({ dir }));
    let swept: number | null = null;
    void work.store.expire!(Date.now()).then((count) => (swept = count));
    await work.settled();
    assert.equal(swept, 0, 'the sweep (nothing to expire) was done before settled() resolved');
  });
});
