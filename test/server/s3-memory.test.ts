// The S3 store's node-wide part memory against a real Ceph RGW (test/services/s3-engine.sh), with real
// clients (the core, in Node): more uploads than the budget has buffers all finish, byte-identical, while
// the buffers handed out at once stay within the budget (counted by the store, not timed). And the
// command's --s3-part-memory flag.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { s3StoreOf } from '../../src/server/stores/s3-flags.ts';
import { S3Store } from '../../src/server/stores/s3-store.ts';
import { runTransfer } from '../helpers/node-client.ts';
import { getObject, s3Unavailable, startS3Engine, type S3Engine } from '../helpers/s3-engine.ts';
import { bytes, startServer } from './peer.ts';

const MiB = 1024 * 1024;
const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('--s3-part-memory', () => {
  it('sets the node-wide budget, and refuses less than a part or a malformed size', () => {
    const flags = { 's3-bucket': 'b', 's3-endpoint': 'http://127.0.0.1:1', 's3-path-style': true };
    assert.ok(s3StoreOf(flags, 32 * MiB) instanceof S3Store);
    for (const bad of [NaN, 0, MiB]) {
      assert.throws(
        () => s3StoreOf(flags, bad),
        /--s3-part-memory must be a size of at least one 5 MiB part/,
      );
    }
    assert.throws(() => new S3Store({ bucket: 'b', partMemory: MiB }), /at least one part/);
  });
});

describe('S3 part memory on Ceph RGW', { skip: s3Unavailable }, () => {
  let engine: S3Engine;
  let bucket: string;

  before(async () => {
    engine = await startS3Engine();
    bucket = await engine.bucket();
  });
  after(() => engine?.stop());

  it('lets 6 uploads share 3 parts of memory: they wait for buffers, all finish identical', async () => {
    const budget = 3 * 5 * MiB;
    const store = new S3Store({ client: engine.client, bucket, prefix: 'mem', partMemory: budget });
    const server = await startServer({ store, maxUploadsPerClient: 10, maxConnectionsPerClient: 10 });
    try {
      const files = Array.from({ length: 6 }, (_, i) => bytes(11 * MiB + i * 4099, 40 + i));
      const outcomes = await Promise.all(
        files.map((data, i) =>
          runTransfer(
            { url: server.url, file: new File([new Uint8Array(data)], `m${i}.bin`), v2ChunkSize: MiB },
            { timeout: 240_000 },
          ),
        ),
      );
      assert.deepEqual(
        outcomes.map((o) => o.type),
        files.map(() => 'success'),
        JSON.stringify(outcomes.map((o) => o.error?.message)),
      );
      for (let i = 0; i < files.length; i++) {
        assert.equal(sha(await getObject(engine.client, bucket, `mem/m${i}.bin`)), sha(files[i]!), `m${i}`);
      }
      // Six uploads want up to 5 buffers each: 30 parts' worth, against a budget of 3.
      assert.ok(store.buffers.waited > 0, 'the budget was spent: uploads waited for buffers');
      // Under block integrity (the client's default) a pair's second buffer may go over: at most 1.5 ×.
      assert.ok(store.buffers.peak <= 1.5 * budget, `peak ${store.buffers.peak / MiB} MiB`);
      assert.equal(store.buffers.used, 0, 'every buffer given back');
    } finally {
      await server.stop();
    }
  });
});
