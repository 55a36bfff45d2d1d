// The server's upload records, over a real file store in a temporary folder and without a socket: records
// are kept in memory (bounded, oldest first) and through the store; a record the store cannot keep costs
// nothing else; sweeps run at most once a minute; two servers' records never mix.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FileStore, type CompletedUpload, type UploadStore } from '../../src/server/index.ts';
import { UploadRecords } from '../../src/server/upload-records.ts';
import { tempDir } from './peer.ts';

const record = (filename: string): CompletedUpload => ({
  size: 3,
  filename,
  checksum: undefined,
  owner: null,
  expiresAt: Date.now() + 60_000,
});

/** A resumable id the file store accepts, made by the store itself. */
async function newId(store: FileStore): Promise<string> {
  const partial = await store.create({ filename: 'x', size: 1, resumable: { owner: null, ttl: 60_000 } });
  await partial.discard();
  return partial.id;
}

describe('UploadRecords', () => {
  it('recalls what it remembered, and through the store after a restart', async () => {
    const store = new FileStore({ dir: await tempDir() });
    const id = await newId(store);
    const kept = record('a.txt');
    await new UploadRecords(store).remember(id, kept);
    // A new instance (a restarted server) has nothing in memory: the store's copy answers.
    assert.deepEqual(await new UploadRecords(store).recall(id), kept);
  });

  it('keeps records in memory for a store that cannot keep them, separately per instance', async () => {
    const memoryless: UploadStore = new Proxy(new FileStore({ dir: await tempDir() }), {
      get: (target, property) =>
        property === 'remember' || property === 'recall'
          ? undefined
          : (Reflect.get(target, property, target) as unknown),
    });
    const first = new UploadRecords(memoryless);
    await first.remember('u_one', record('one.txt'));
    assert.equal((await first.recall('u_one'))?.filename, 'one.txt');
    assert.equal(await new UploadRecords(memoryless).recall('u_one'), undefined, 'no module-global memory');
  });

  it('forgets the oldest records first past its bound', async () => {
    const records = new UploadRecords(new FileStore({ dir: await tempDir() }), 2);
    for (const name of ['a', 'b', 'c']) await records.remember(`u_${name}`, record(name));
    assert.equal(await records.recall('u_a'), undefined);
    assert.equal((await records.recall('u_b'))?.filename, 'b');
    assert.equal((await records.recall('u_c'))?.filename, 'c');
  });

  it('still remembers in memory when the store fails to keep the record (full disk)', async () => {
    const failing = new FileStore({ dir: await tempDir() });
    const id = await newId(failing);
    failing.remember = () => Promise.reject(Object.assign(new Error('full'), { code: 'ENOSPC' }));
    const records = new UploadRecords(failing);
    await records.remember(id, record('kept.txt'));
    assert.equal((await records.recall(id))?.filename, 'kept.txt');
  });

  it('sweeps at most once per minute', async () => {
    const records = new UploadRecords(new FileStore({ dir: await tempDir() }));
    const now = Date.UTC(2030, 0, 1);
    assert.equal(records.sweep(now), true);
    assert.equal(records.sweep(now + 59_999), false);
    assert.equal(records.sweep(now + 60_000), true);
  });

  it('does not sweep a store that cannot expire', async () => {
    const store: UploadStore = { create: () => Promise.reject(new Error('unused')) };
    assert.equal(new UploadRecords(store).sweep(Date.now()), false);
  });
});
