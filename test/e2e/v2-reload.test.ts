// Protocol v2 in real Chromium against the real server: a page reload mid-upload, the same file picked again,
// continues from the stored offset.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'puppeteer-core';
import { launchBrowser, randomBytes, startE2eServer, storedHash, writeFiles } from './harness.ts';

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
  loaded?: number;
  progress?: [number, number][];
}

interface Record_ {
  id: string;
  offset: number;
  hashState: string | null;
  expires: number;
}

const MIB = 1024 * 1024;

describe('protocol v2 in real Chromium', () => {
  let browser: Browser;
  let source: Awaited<ReturnType<typeof writeFiles>>;

  before(async () => {
    browser = await launchBrowser();
    source = await writeFiles([{ name: 'reload.bin', data: randomBytes(96 * MIB + 5, 41) }]);
  });
  after(async () => {
    await browser?.close();
    await source?.remove();
  });

  async function open(page: Page, http: string): Promise<void> {
    await page.goto(`${http}/e2e/v2.html`);
    await page.waitForFunction('window.ready === true', { timeout: 10_000 });
    await (await page.$('input'))!.uploadFile(source.files[0]!.path);
  }

  it('resumes after a page reload when the same file is picked again', async () => {
    const env = await startE2eServer();
    const page = await browser.newPage();
    try {
      await open(page, env.http);
      const reloadAt = 30 * MIB;
      const navigated = page.waitForNavigation({ timeout: 60_000 });
      page
        .evaluate(`upload(${JSON.stringify({ url: env.url, reloadAt, window: 4 })})`)
        .catch(() => undefined); // the page goes away mid-call, on purpose
      await navigated;
      await page.waitForFunction('window.ready === true', { timeout: 10_000 });
      const records = (await page.evaluate('records()')) as Record_[];
      assert.equal(records.length, 1, 'one resume record survived the reload');
      const record = records[0]!;
      assert.ok(record.offset >= reloadAt, `record at ${record.offset}`);
      assert.ok(record.hashState, 'the SHA-256 state is kept with it');
      assert.equal(env.stored.length, 0, 'nothing landed before the reload');
      await (await page.$('input'))!.uploadFile(source.files[0]!.path);
      const outcome = (await page.evaluate(
        `upload(${JSON.stringify({ url: env.url, window: 4 })})`,
      )) as Outcome;
      assert.equal(outcome.ok, true, outcome.message);
      // The first acknowledgement after the reload is past the stored offset: nothing before it was re-sent.
      const [firstLoaded, firstSent] = outcome.progress![0]!;
      assert.ok(firstLoaded > record.offset, `first ack at ${firstLoaded}, record at ${record.offset}`);
      assert.ok(firstSent - firstLoaded <= 4 * MIB);
      assert.equal(env.stored.length, 1);
      assert.equal(await storedHash(env.dir, env.stored[0]!.filename), source.files[0]!.sha256);
      assert.deepEqual(await page.evaluate('records()'), [], 'the record is removed on success');
    } finally {
      await page.close();
      await env.stop();
    }
  });
});
