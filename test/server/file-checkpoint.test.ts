// The file store's checkpoint of the verified offset, over a real FileStore on disk: the session does not wait
// for it (session-integrity.ts), so whatever else touches the partial upload must wait for the one running —
// a discard leaves no record behind, a commit stores the file once, and a later open reads the offset.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { readMeta } from '../../src/server/stores/file-meta.ts';
import { FileStore } from '../../src/server/stores/file-store.ts';
import { bytes, partialFiles, readStored, storedFiles, tempDir } from './peer.ts';

const MiB = 1024 * 1024;
const resumable = { owner: null, ttl: 60_000 };
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function storeWithPartial(size: number) {
  const dir = await tempDir();
  dirs.push(dir);
  const store = new FileStore({ dir });
  const partial = await store.create({ filename: 'c.bin', size, resumable });
  return { dir, store, partial };
}

describe('FileStore checkpoints', () => {
  it('records the verified offset durably, readable by a later open', async () => {
    const data = bytes(2 * MiB, 41);
    const { dir, partial } = await storeWithPartial(data.length);
    await partial.write(data);
    partial.verifiedOffset = MiB;
    await partial.checkpoint!();
    await partial.release();
    const reopened = await new FileStore({ dir }).open(partial.id);
    assert.equal(reopened?.verifiedOffset, MiB);
  });

  it('records the offset verified when it was asked for, not one raised while its datasync ran', async () => {
    const data = bytes(2 * MiB, 44);
    const { store, partial } = await storeWithPartial(data.length);
    await partial.write(data.subarray(0, MiB));
    partial.verifiedOffset = MiB;
    const first = partial.checkpoint!();
    // Raised before the first checkpoint's datasync: its bytes are not what that sync covers.
    partial.verifiedOffset = 2 * MiB;
    await first;
    assert.equal((await readMeta(store.metaPath(partial.id)))?.verified, MiB);
    await partial.write(data.subarray(MiB));
    await partial.checkpoint!();
    assert.equal((await readMeta(store.metaPath(partial.id)))?.verified, 2 * MiB);
    await partial.release();
  });

  it('leaves nothing behind when a discard follows a checkpoint that is still running', async () => {
    const data = bytes(MiB, 42);
    const { dir, partial } = await storeWithPartial(data.length);
    await partial.write(data);
    partial.verifiedOffset = data.length;
    const checkpoint = partial.checkpoint!();
    await partial.discard();
    await checkpoint;
    assert.deepEqual(await partialFiles(dir), []);
    assert.deepEqual(await storedFiles(dir), []);
  });

  it('commits once after checkpoints still running, with the bytes written', async () => {
    const data = bytes(3 * MiB, 43);
    const { dir, partial } = await storeWithPartial(data.length);
    const checkpoints: Promise<void>[] = [];
    for (let at = 0; at < data.length; at += MiB) {
      await partial.write(data.subarray(at, at + MiB));
      partial.verifiedOffset = at + MiB;
      checkpoints.push(partial.checkpoint!());
    }
    const name = await partial.commit();
    await Promise.all(checkpoints);
    assert.equal(name, 'c.bin');
    assert.deepEqual(await storedFiles(dir), ['c.bin']);
    assert.ok((await readStored(dir, 'c.bin')).equals(data));
  });
});
