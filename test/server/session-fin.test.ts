// FIN, the end of a v2 upload, step by step and without a socket: a real FileStore and the session's state
// machine, answerFin called as the session calls it. What is checked before the commit (size, the agreed
// checksum), what is kept for a resume (the record), and a FIN repeated after its answer was lost.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Status, type Answer, type FinCommand, type StorOffer } from '../../src/protocol/index.ts';
import { v1Agreement, v2Agreement } from '../../src/server/agreement.ts';
import { Refusal } from '../../src/server/refusal.ts';
import { answerFin, type FinSide } from '../../src/server/session-fin.ts';
import { READY, SessionStateMachine, type ReceivingUpload } from '../../src/server/session-state.ts';
import { FileStore } from '../../src/server/index.ts';
import { UploadRecords } from '../../src/server/upload-records.ts';
import { bytes, readStored, storedFiles, tempDir } from './peer.ts';

const OFFER: StorOffer = { binary: true, window: 1, chunk: 0, resume: null, checksum: ['sha256'], fin: true };
const POLICY = { maxWindow: 8, maxChunk: 65536, expiresAt: Date.now() + 60_000 };

const fin = (size: number, checksum?: string): FinCommand => ({
  command: 'FIN',
  size,
  ...(checksum === undefined ? {} : { checksum }),
});
const checksumOf = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('base64')}`;

/** A session side in `receiving`, `data` written, over a real FileStore in a temp folder. */
async function receiving(data: Buffer, options: { declaredSize?: number; v1?: boolean } = {}) {
  const dir = await tempDir();
  const store = new FileStore({ dir });
  const size = options.declaredSize ?? data.length;
  const partial = await store.create({ filename: 'fin.bin', size });
  await partial.write(data);
  const upload: ReceivingUpload = {
    partial,
    agreement: options.v1 ? v1Agreement('binary') : v2Agreement(OFFER, POLICY),
    size,
    received: data.length,
    requestedName: 'fin.bin',
    parameters: null,
    startedAt: Date.now(),
    blocks: null,
  };
  const machine = new SessionStateMachine();
  machine.to({ name: 'receiving', upload });
  const commits: string[] = [];
  const side: FinSide = {
    machine,
    // As the session commits: the store moves the file into place, the machine goes back to ready.
    async commit(held) {
      const filename = await held.partial.commit();
      commits.push(filename);
      machine.to(READY);
      return filename;
    },
    records: new UploadRecords(store),
    partialExpiry: 60_000,
  };
  return { dir, side, upload, commits };
}

const refusal = (value: Answer | Refusal): Refusal => {
  assert.ok(value instanceof Refusal, `a refusal, not ${JSON.stringify(value)}`);
  return value;
};

describe('answerFin', () => {
  it('commits an upload whose size and checksum match, keeps its record, and answers with both', async () => {
    const data = bytes(5000);
    const { dir, side, upload, commits } = await receiving(data);
    const answer = await answerFin(fin(5000, checksumOf(data)), side);
    assert.ok(!(answer instanceof Refusal));
    assert.deepEqual(commits, ['fin.bin']);
    assert.deepEqual(await storedFiles(dir), ['fin.bin']);
    assert.ok((await readStored(dir, 'fin.bin')).equals(data));
    assert.equal(answer.code, Status.ok);
    assert.equal(answer.size, 5000);
    assert.equal(answer.checksum, checksumOf(data));
    assert.equal(answer.filename, 'fin.bin');
    const record = await side.records.recall(upload.partial.id);
    assert.ok(record, 'the record is kept for a client whose answer is lost');
    assert.deepEqual([record.size, record.filename, record.checksum], [5000, 'fin.bin', checksumOf(data)]);
    assert.equal(side.machine.state.name, 'ready');
  });

  it('refuses a FIN whose size is not the STOR size, or while bytes are missing, and commits nothing', async () => {
    const data = bytes(100);
    const wrongSize = await receiving(data);
    const refused = refusal(await answerFin(fin(99, checksumOf(data)), wrongSize.side));
    assert.deepEqual([refused.code, refused.discard], [Status.checksumMismatch, true]);
    assert.match(refused.message, /STOR said 100, FIN says 99, the server holds 100/);

    const short = await receiving(data, { declaredSize: 200 });
    const early = refusal(await answerFin(fin(200, checksumOf(data)), short.side));
    assert.match(early.message, /the server holds 100/);
    assert.deepEqual([...wrongSize.commits, ...short.commits], []);
    assert.deepEqual(await storedFiles(short.dir), []);
  });

  it('refuses a wrong checksum (discarding the upload) and a missing one, and commits nothing', async () => {
    const data = bytes(100);
    const damaged = await receiving(data);
    const mismatch = refusal(await answerFin(fin(100, checksumOf(bytes(100, 2))), damaged.side));
    assert.deepEqual([mismatch.code, mismatch.discard], [Status.checksumMismatch, true]);

    const missing = await receiving(data);
    const bad = refusal(await answerFin(fin(100), missing.side));
    assert.deepEqual([bad.code, bad.discard], [Status.badRequest, false]);
    assert.deepEqual([...damaged.commits, ...missing.commits], []);
  });

  it('refuses FIN when no upload agreed to it: nothing receiving, or a v1 upload', async () => {
    const { side } = await receiving(bytes(10));
    side.machine.to(READY);
    assert.equal(refusal(await answerFin(fin(10), side)).code, Status.badRequest);

    const v1 = await receiving(bytes(10), { v1: true });
    assert.match(
      refusal(await answerFin(fin(10), v1.side)).message,
      /FIN without an upload that agreed to it/,
    );
    assert.deepEqual(v1.commits, []);
  });

  it('answers a repeated FIN from the record (same size and checksum), refuses another one, commits once', async () => {
    const data = bytes(300);
    const { side, upload, commits } = await receiving(data);
    const first = await answerFin(fin(300, checksumOf(data)), side);
    assert.ok(!(first instanceof Refusal));
    const record = (await side.records.recall(upload.partial.id))!;

    // A resume of the committed upload puts the session in `finished` (see the session's STOR handling).
    side.machine.to({ name: 'finished', id: upload.partial.id, record });
    const again = await answerFin(fin(300, checksumOf(data)), side);
    assert.deepEqual(again, first);
    assert.equal(side.machine.state.name, 'ready');

    side.machine.to({ name: 'finished', id: upload.partial.id, record });
    const other = refusal(await answerFin(fin(301, checksumOf(data)), side));
    assert.equal(other.code, Status.checksumMismatch);
    assert.deepEqual(commits, ['fin.bin'], 'committed once');
  });
});
