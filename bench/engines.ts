// The main upload (protocol v2 defaults: binary, 256 KiB chunks, window 16, SHA-256 + FIN) of the same file to
// the same reference server from each browser engine, one run each: Chromium, Firefox and WebKit through the
// e2e tests' page API (test/e2e/browsers.ts), so the figure is what a user of that engine would get.
// Usage: npm run bench:engines [-- --mib 64] (BROWSERS=firefox,webkit narrows the engines).
// Puppeteer's Chromium page enables CDP's Network domain, which copies WebSocket frames to the driver (see
// bench/browser.ts): the Chromium row here is a same-harness comparison, bench/run.ts has the precise one.
import { parseArgs } from 'node:util';
import {
  ENGINES,
  launchE2eBrowser,
  randomBytes,
  startE2eServer,
  storedHash,
  writeFiles,
} from '../test/e2e/harness.ts';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '64' } } });
const mib = Number(values.mib);
if (!Number.isInteger(mib) || mib < 1 || mib > 4096) throw new Error('--mib takes a whole number 1–4096');
const source = await writeFiles([{ name: 'bench.bin', data: randomBytes(mib * 1024 * 1024, 9) }]);
const env = await startE2eServer();
const rows = [`| engine (v2 defaults, SHA-256 on, ${mib} MiB) | seconds | MiB/s |`, '| --- | ---: | ---: |'];
try {
  for (const engine of ENGINES) {
    const browser = await launchE2eBrowser(engine);
    try {
      const version = await browser.version();
      const page = await browser.newPage();
      await page.goto(`${env.http}/e2e/v2.html`);
      await page.waitFor('window.ready === true');
      await page.setFiles("document.querySelector('input')", [source.files[0]!.path]);
      const outcome = await page.evaluate<{ ok: boolean; ms: number; message?: string }>(
        `upload(${JSON.stringify({ url: env.url, resumeStore: null })})`,
      );
      await page.close();
      if (!outcome.ok) throw new Error(`${version}: the upload failed: ${outcome.message}`);
      const stored = env.stored.at(-1)!;
      if ((await storedHash(env.dir, stored.filename)) !== source.files[0]!.sha256)
        throw new Error(`${version}: the stored file differs`);
      const seconds = outcome.ms / 1000;
      rows.push(`| ${version} | ${seconds.toFixed(2)} | ${(mib / seconds).toFixed(1)} |`);
      console.error(rows.at(-1));
    } finally {
      await browser.close();
    }
  }
} finally {
  await env.stop();
  await source.remove();
}
console.log(rows.join('\n'));
