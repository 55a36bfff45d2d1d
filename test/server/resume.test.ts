// The resume lookup, over a real file store in a temporary folder and without a socket: what a STOR's
// `resume` id finds — a partial upload taken for this connection, a stored upload, or the refusal to send.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FileStore } from '../../src/server/index.ts';
import { findResume, HELD_RETRY_AFTER, type ResumeOutcome } from '../../src/server/resume.ts';
import { UploadHolders } from '../../src/server/upload-holders.ts';
import { UploadRecords } from '../../src/server/upload-records.ts';
import { tempDir } from './peer.ts';

async function setUp(owner: string | null = null) {
  const store = new FileStore({ dir: await tempDir() });
  const records = new UploadRecords(store);
  // A short takeover wait: a holder that does not let go is called taken after 100 ms, not 5 s.
  const holders = new UploadHolders(100);
  const partial = await store.create({ filename: 'a.bin', size: 10, resumable: { owner, ttl: 60_000 } });
  await partial.write(new Uint8Array(4));
  await partial.release();
  return { services: { store, records, holders }, id: partial.id };
}

const open = () => false;

function refusal(outcome: ResumeOutcome) {
  assert.equal(outcome.kind, 'refused');
  return outcome.kind === 'refused' ? outcome.refusal : assert.fail();
}

describe('findResume', () => {
  it('finds a released partial upload and holds it for this connection', async () => {
    const { services, id } = await setUp();
    const outcome = await findResume(services, { id, size: 10, owner: null, closed: open });
    assert.equal(outcome.kind, 'partial');
    if (outcome.kind !== 'partial') return;
    assert.equal(outcome.partial.offset, 4);
    assert.equal(outcome.partial.held, true);
    await outcome.partial.release();
  });

  it('answers 404 and keeps the connection for an unknown id, or a different file under the same id', async () => {
    const { services, id } = await setUp();
    for (const [asked, size] of [
      ['u_AAAAAAAAAAAAAAAAAAAAAAAA', 10],
      [id, 11],
    ] as const) {
      const refused = refusal(await findResume(services, { id: asked, size, owner: null, closed: open }));
      assert.deepEqual([refused.code, refused.closeCode], [404, null]);
    }
  });

  it('refuses another user with 403 and closes', async () => {
    const { services, id } = await setUp('user:alice');
    const refused = refusal(await findResume(services, { id, size: 10, owner: 'user:bob', closed: open }));
    assert.deepEqual([refused.code, refused.closeCode], [403, 1008]);
  });

  it('takes an upload over from the connection that holds it: evicted, then held for the newer one', async () => {
    const { services, id } = await setUp();
    const first = await findResume(services, { id, size: 10, owner: null, closed: open });
    if (first.kind !== 'partial') assert.fail(first.kind);
    let evicted = 0;
    // The older connection lets go a moment after it is told to, as a session does after its queued writes.
    const older = { evict: () => (evicted++, setTimeout(() => void first.partial.release(), 30)) };
    services.holders.claim(id, older);
    const newer = await findResume(services, { id, size: 10, owner: null, closed: open });
    assert.equal(newer.kind, 'partial');
    assert.equal(evicted, 1);
    if (newer.kind === 'partial') {
      assert.equal(newer.partial.held, true);
      await newer.partial.release();
    }
  });

  it('answers 409 with retryAfter when the holder does not let go within the wait', async () => {
    const { services, id } = await setUp();
    const first = await findResume(services, { id, size: 10, owner: null, closed: open });
    assert.equal(first.kind, 'partial');
    const refused = refusal(await findResume(services, { id, size: 10, owner: null, closed: open }));
    assert.deepEqual([refused.code, refused.retryAfter, refused.closeCode], [409, HELD_RETRY_AFTER, 1013]);
    if (first.kind === 'partial') await first.partial.release();
  });

  it('finds the record of a committed upload, for its owner only', async () => {
    const { services, id } = await setUp();
    const found = await findResume(services, { id, size: 10, owner: null, closed: open });
    if (found.kind !== 'partial') assert.fail(found.kind);
    await found.partial.write(new Uint8Array(6));
    const filename = await found.partial.commit();
    const stored = {
      size: 10,
      filename,
      checksum: undefined,
      owner: 'user:alice',
      expiresAt: Date.now() + 60_000,
    };
    await services.records.remember(id, stored);
    const mine = await findResume(services, { id, size: 10, owner: 'user:alice', closed: open });
    assert.deepEqual(mine, { kind: 'stored', record: stored });
    const theirs = refusal(await findResume(services, { id, size: 10, owner: 'user:bob', closed: open }));
    assert.equal(theirs.code, 403);
  });

  it('stops when the connection closed meanwhile, holding nothing', async () => {
    const { services, id } = await setUp();
    const outcome = await findResume(services, { id, size: 10, owner: null, closed: () => true });
    assert.equal(outcome.kind, 'closed');
    const again = await findResume(services, { id, size: 10, owner: null, closed: open });
    assert.equal(again.kind, 'partial', 'the closed lookup did not take the upload');
    if (again.kind === 'partial') await again.partial.release();
  });
});
