// Block integrity into S3 (issue 13): real Chromium uploads through a TCP proxy that flips a byte into a
// server storing in a real Ceph RGW. The S3 store cannot write a stored part again, so it stores only
// verified blocks: the damaged block is asked for again on the same connection, sent once more, and the
// object is identical to the file (GetObject + SHA-256). A block that stays damaged fails the upload with
// nothing stored. Chromium only: the engines' block handling is covered by block-integrity.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { S3Store } from '../../src/server/stores/s3-store.ts';
import {
  getObject,
  listKeys,
  multipartUploads,
  s3Unavailable,
  startS3Engine,
  type S3Engine,
} from '../helpers/s3-engine.ts';
import type { TcpProxyOptions } from '../helpers/tcp-proxy.ts';
import {
  launchE2eBrowser,
  randomBytes,
  sha256,
  uploadThroughProxy,
  writeFiles,
  type E2eBrowser,
} from './harness.ts';

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
  warnings?: string[];
}

const MIB = 1024 * 1024;
const SIZE = 13 * MIB + 7;

describe('block integrity into S3, from Chromium', { skip: s3Unavailable }, () => {
  let engine: S3Engine;
  let browser: E2eBrowser;
  let source: Awaited<ReturnType<typeof writeFiles>>;

  before(async () => {
    engine = await startS3Engine();
    browser = await launchE2eBrowser('chromium');
    source = await writeFiles([{ name: 'verified.bin', data: randomBytes(SIZE, 77) }]);
  });
  after(async () => {
    await browser?.close();
    await source?.remove();
    engine?.stop();
  });

  async function uploadThrough(proxy: TcpProxyOptions) {
    const bucket = await engine.bucket();
    const store = new S3Store({ client: engine.client, bucket, node: 'e2e' });
    const run = await uploadThroughProxy<Outcome>(browser, source.files[0]!.path, {
      proxy,
      server: { store },
    });
    return { ...run, bucket };
  }

  it('drops a block damaged in transit, has it sent once more, and stores the object intact', async () => {
    const clean = await uploadThrough({});
    assert.equal(clean.outcome.ok, true, clean.outcome.message);
    assert.deepEqual(clean.outcome.warnings, [], 'sha256-blocks granted by the S3 store');
    // Block 1 (bytes 4 MiB to 8 MiB) straddles parts 1 and 2 (5 MiB each): damaged on the way.
    const flipped = await uploadThrough({ flipAt: 5 * MIB + 4321 });
    assert.equal(flipped.outcome.ok, true, flipped.outcome.message);
    assert.deepEqual(flipped.outcome.warnings, []);
    assert.equal(flipped.connections, 1, 'asked for again on the same connection');
    const extra = flipped.upstream - clean.upstream;
    assert.ok(
      extra >= 4 * MIB && extra < 4 * MIB + 64 * 1024,
      `${extra} bytes more than a clean upload: one block`,
    );
    for (const run of [clean, flipped]) {
      assert.equal(run.stored[0]?.filename, 'verified.bin');
      assert.equal(
        sha256(await getObject(engine.client, run.bucket, 'verified.bin')),
        source.files[0]!.sha256,
      );
      assert.deepEqual(await multipartUploads(engine.client, run.bucket), []);
    }
  });

  it('fails cleanly when a block stays damaged: nothing stored, nothing left over', async () => {
    // Every 1 MiB a byte flips: each arrival of block 1 is damaged, three times in all.
    const broken = await uploadThrough({ flipAt: 5 * MIB + 1, flipEvery: MIB });
    assert.equal(broken.outcome.ok, false);
    assert.equal(broken.stored.length, 0);
    const objects = (await listKeys(engine.client, broken.bucket)).filter((key) => !key.startsWith('.wsfu/'));
    assert.deepEqual(objects, []);
    assert.deepEqual(await multipartUploads(engine.client, broken.bucket), []);
  });
});
