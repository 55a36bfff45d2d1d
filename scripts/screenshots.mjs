// Screenshots of the demo page for the README: mid-upload (a paused row, a folder row with its path and a
// thumbnail) and done, light and dark, saved to docs/.
// Usage: npm run screenshots (builds first). Uses the real server and Chromium, like the e2e tests.
/* global customElements, document, File, OffscreenCanvas, requestAnimationFrame, console */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import puppeteer from 'puppeteer-core';
import { createUploadServer } from '../dist/server/index.js';
import { CHROMIUM_ARGS, chromiumPath } from '../test/chromium.mjs';

const dir = await mkdtemp(path.join(tmpdir(), 'wsfu-shots-'));
const server = await createUploadServer({
  dir,
  port: 0,
  staticDir: 'demo',
  staticMounts: { '/dist': 'dist' },
});
const browser = await puppeteer.launch({
  executablePath: chromiumPath(),
  headless: true,
  args: CHROMIUM_ARGS,
});

try {
  for (const scheme of ['light', 'dark']) {
    const page = await browser.newPage();
    await page.setViewport({ width: 800, height: 640, deviceScaleFactor: 1 });
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await page.waitForFunction(() => customElements.get('ws-file-upload') !== undefined);
    // Slow the upload down so that a mid-upload state lasts long enough to be captured. A photo from a
    // folder shows its path and thumbnail; the video is paused once it is under way.
    await page.evaluate(async () => {
      const el = document.querySelector('ws-file-upload');
      el.chunkSize = 64 * 1024;
      el.concurrency = 2;
      const canvas = new OffscreenCanvas(1200, 800);
      const context = canvas.getContext('2d');
      const sky = context.createLinearGradient(0, 0, 0, 800);
      sky.addColorStop(0, '#5aa9e6');
      sky.addColorStop(1, '#f9c784');
      context.fillStyle = sky;
      context.fillRect(0, 0, 1200, 800);
      context.fillStyle = '#2d6a4f';
      context.beginPath();
      context.moveTo(0, 800);
      context.lineTo(420, 380);
      context.lineTo(760, 620);
      context.lineTo(1200, 300);
      context.lineTo(1200, 800);
      context.fill();
      const photo = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 });
      const sizes = [
        ['holiday-video.mp4', 24_000_000],
        ['report-2026.pdf', 3_400_000],
        ['notes.txt', 12_000],
      ];
      el.addFiles([
        ...sizes.map(([name, size]) => new File([new Uint8Array(size)], name)),
        { file: new File([photo], 'summit.jpg', { type: 'image/jpeg' }), path: 'photos/2026/alps' },
      ]);
    });
    await page.waitForFunction(
      () => {
        const items = document.querySelector('ws-file-upload').items;
        return items.some((item) => item.status === 'complete') && items[0].percentage > 15;
      },
      { timeout: 60_000, polling: 10 },
    );
    await page.evaluate(() => {
      const el = document.querySelector('ws-file-upload');
      el.pause(el.items[0].file);
    });
    await page.waitForFunction(
      () => {
        const el = document.querySelector('ws-file-upload');
        return (
          el.items[0].status === 'paused' &&
          el.shadowRoot.querySelector('[part~="preview-image"]')?.complete === true
        );
      },
      { timeout: 60_000, polling: 10 },
    );
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
    await page.screenshot({ path: `docs/demo-uploading-${scheme}.png` });
    await page.evaluate(() => document.querySelector('ws-file-upload').resume());
    await page.waitForFunction(
      () => document.querySelector('ws-file-upload').items.every((item) => item.status === 'complete'),
      { timeout: 120_000, polling: 50 },
    );
    // Past the bars' 0.2 s transition, so that full bars look full.
    await sleep(400);
    await page.screenshot({ path: `docs/demo-done-${scheme}.png` });
    await page.close();
    console.log(`docs/demo-uploading-${scheme}.png, docs/demo-done-${scheme}.png`);
  }
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
