// How the demo page (the CDN bundle) copes with many files: adds N files to <ws-file-upload> at once and
// uploads them to the real server in real Chromium, measuring main-thread responsiveness on the way.
// Usage: npm run build && node bench/element-many-files.mjs [files=500] [size=20000]
// Code inside page.evaluate runs in the page, hence the browser globals:
/* global customElements, document, PerformanceObserver, File, performance, requestAnimationFrame, setTimeout */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { createUploadServer } from '../dist/server/index.js';

const count = Number(process.argv[2] ?? 500);
const size = Number(process.argv[3] ?? 20_000);
const executablePath =
  process.env.CHROME_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

const dir = await mkdtemp(path.join(tmpdir(), 'wsfu-bench-'));
const server = await createUploadServer({
  dir,
  port: 0,
  staticDir: 'demo',
  staticMounts: { '/dist': 'dist' },
});
const browser = await puppeteer.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.port}/`);
  await page.waitForFunction(() => customElements.get('ws-file-upload') !== undefined);
  const result = await page.evaluate(
    async (n, bytes) => {
      const el = document.querySelector('ws-file-upload');
      // The files are made (and that task ends) before measuring: making 500 Files is the bench's work,
      // not the element's, and in the same task it would count as one long task of the element's.
      const data = new Uint8Array(bytes);
      const makeStart = performance.now();
      const files = Array.from({ length: n }, (_, i) => new File([data], `bench-${i}.bin`));
      const makeMs = performance.now() - makeStart;
      await new Promise((resolve) => setTimeout(resolve, 200));
      const longTasks = [];
      new PerformanceObserver((list) =>
        longTasks.push(...list.getEntries().map((e) => ({ at: e.startTime, ms: e.duration }))),
      ).observe({ type: 'longtask' });
      let frames = 0;
      let worstGap = 0;
      let last = performance.now();
      let running = true;
      const tick = (now) => {
        frames += 1;
        worstGap = Math.max(worstGap, now - last);
        last = now;
        if (running) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      let progressEvents = 0;
      el.addEventListener('progress', () => (progressEvents += 1));
      const done = new Promise((resolve) => el.addEventListener('complete', resolve, { once: true }));
      // A task of its own, as a drop or a pick would be.
      await new Promise((resolve) => setTimeout(resolve, 0));
      const start = performance.now();
      el.addFiles(files);
      const addMs = performance.now() - start;
      await done;
      const totalMs = performance.now() - start;
      running = false;
      await new Promise((resolve) => setTimeout(resolve, 100));
      return {
        addMs,
        totalMs,
        frames,
        fps: frames / (totalMs / 1000),
        worstFrameGapMs: worstGap,
        makeMs,
        // Only tasks from addFiles() on: a task that began earlier is the bench's own.
        longTasks: longTasks.filter((t) => t.at >= start - 1).length,
        longestTaskMs: Math.max(0, ...longTasks.filter((t) => t.at >= start - 1).map((t) => t.ms)),
        longTaskOffsets: longTasks.map((t) => `${(t.at - start).toFixed(0)}:${t.ms.toFixed(0)}`).join(' '),
        progressEvents,
        complete: el.items.filter((item) => item.status === 'complete').length,
      };
    },
    count,
    size,
  );
  const rows = [
    ['files × size', `${count} × ${size} B`],
    ['all complete', `${result.complete} of ${count}`],
    ['addFiles() call', `${result.addMs.toFixed(1)} ms`],
    ['upload of all files', `${(result.totalMs / 1000).toFixed(2)} s`],
    ['progress events', String(result.progressEvents)],
    ['frames rendered (fps)', `${result.frames} (${result.fps.toFixed(0)} fps)`],
    ['worst gap between frames', `${result.worstFrameGapMs.toFixed(0)} ms`],
    ['long tasks (> 50 ms)', `${result.longTasks}, longest ${result.longestTaskMs.toFixed(0)} ms`],
  ];
  console.error(
    'long tasks (ms from addFiles: duration):',
    result.longTaskOffsets,
    '; files made in',
    result.makeMs,
  );
  console.log('| measure | value |\n|---|---|');
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
