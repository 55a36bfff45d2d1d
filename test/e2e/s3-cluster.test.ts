// Scale-out end to end (issue 13): real Chromium uploads through a real nginx into 2–3 upload nodes (the
// real command with --s3-bucket) that share nothing but a bucket on a real Ceph RGW. A node SIGKILLed at
// ~50 %, and a rolling restart of every node, each end in one object byte-identical to the file (GetObject
// + SHA-256) and no multipart upload left. Chromium only: the engines' differences are covered elsewhere,
// and this is about the servers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  getObject,
  listKeys,
  multipartUploads,
  s3Unavailable,
  startS3Engine,
  type S3Engine,
} from '../helpers/s3-engine.ts';
import { NGINX, startCluster } from '../helpers/s3-cluster.ts';
import { existsSync } from 'node:fs';
import { startLink } from '../../bench/link.ts';
import {
  launchE2eBrowser,
  randomBytes,
  sha256,
  startE2eServer,
  writeFiles,
  type E2eBrowser,
  type E2ePage,
} from './harness.ts';

const MIB = 1024 * 1024;
const SIZE = 64 * MIB;
const skip = s3Unavailable ?? (existsSync(NGINX) ? undefined : `${NGINX} missing: apt-get install -y nginx`);

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
}

describe('S3 cluster behind nginx, from Chromium', { skip }, () => {
  let engine: S3Engine;
  let browser: E2eBrowser;
  let pages: Awaited<ReturnType<typeof startE2eServer>>;
  let source: Awaited<ReturnType<typeof writeFiles>>;

  before(async () => {
    engine = await startS3Engine();
    browser = await launchE2eBrowser('chromium');
    // Serves the page and dist/ only; the uploads go to nginx.
    pages = await startE2eServer();
    source = await writeFiles([{ name: 'big.bin', data: randomBytes(SIZE, 1313) }]);
  });
  after(async () => {
    await browser?.close();
    await pages?.stop();
    await source?.remove();
    engine?.stop();
  });

  async function startUpload(page: E2ePage, url: string): Promise<void> {
    await page.goto(`${pages.http}/e2e/v2.html`);
    await page.waitFor('window.ready === true', { timeout: 10_000 });
    await page.setFiles("document.querySelector('input')", [source.files[0]!.path]);
    const options = { url, window: 4, retryDelays: [0, 100, 300, 1000, 2000, 3000] };
    await page.evaluate(
      `window.outcome = null; upload(${JSON.stringify(options)}).then((o) => (window.outcome = o)), null`,
    );
  }

  const loaded = (page: E2ePage) => page.evaluate<number>('window.loaded ?? 0');
  const outcome = async (page: E2ePage) => {
    await page.waitFor('window.outcome !== null', { timeout: 240_000, polling: 100 });
    return page.evaluate<Outcome>('window.outcome');
  };

  /** One object, identical; no multipart upload left (a resume that had started afresh would leave one). */
  async function assertStoredOnce(bucket: string): Promise<void> {
    const objects = (await listKeys(engine.client, bucket)).filter((key) => !key.startsWith('.wsfu/'));
    assert.deepEqual(objects, ['big.bin']);
    assert.equal(sha256(await getObject(engine.client, bucket, 'big.bin')), source.files[0]!.sha256);
    assert.deepEqual(await multipartUploads(engine.client, bucket), []);
  }

  it('a node SIGKILLed at ~50 %: the upload resumes on another node and the object is identical', async () => {
    const bucket = await engine.bucket();
    const cluster = await startCluster(engine, bucket, 2);
    const page = await browser.newPage();
    try {
      await startUpload(page, cluster.nginx.url);
      await page.waitFor(`(window.loaded ?? 0) >= ${SIZE / 2}`, { timeout: 120_000, polling: 20 });
      const busy = await cluster.busyNode();
      assert.ok(busy, 'a node is receiving the upload');
      const at = await loaded(page);
      await busy.stop('SIGKILL');
      const result = await outcome(page);
      assert.equal(result.ok, true, result.message);
      assert.ok(at < SIZE, `killed at ${at} of ${SIZE}`);
      await assertStoredOnce(bucket);
    } finally {
      await page.close();
      await cluster.stop();
    }
  });

  it('a rolling restart of every node during one upload ends in one identical object', async () => {
    const bucket = await engine.bucket();
    const cluster = await startCluster(engine, bucket, 3);
    // A 4 MiB/s uplink (the bench's link emulator in front of nginx): the 64 MiB upload takes ≥ 16 s, so it
    // is still running while the three nodes restart one after the other, however fast this machine is.
    const link = await startLink({
      targetPort: cluster.nginx.port,
      up: { delayMs: 1, bytesPerSecond: 4 * MIB },
      down: { delayMs: 1, bytesPerSecond: Infinity },
    });
    const page = await browser.newPage();
    try {
      await startUpload(page, `ws://127.0.0.1:${link.port}/upload`);
      // Restarts at 1/8, 2/8 and 3/8 acknowledged: the upload must still be running when the last node is back.
      for (const [i, node] of cluster.nodes.entries()) {
        await page.waitFor(`(window.loaded ?? 0) >= ${(SIZE * (i + 1)) / 8}`, {
          timeout: 120_000,
          polling: 20,
        });
        // As a deploy does it: SIGTERM (the node lets go of its uploads), then the new version on the port.
        await node.stop('SIGTERM');
        await node.start();
      }
      const last = await loaded(page);
      assert.ok(last < SIZE, `every node restarted before the end (${last} of ${SIZE} acknowledged)`);
      const result = await outcome(page);
      assert.equal(result.ok, true, result.message);
      await assertStoredOnce(bucket);
    } finally {
      await page.close();
      await link.close();
      await cluster.stop();
    }
  });
});
