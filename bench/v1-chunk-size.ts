// Measures v1 stop-and-wait throughput from real Chromium to the reference server by chunk size and type,
// to choose the default chunk size. Usage: node --import tsx bench/v1-chunk-size.ts [--mib 32]
import { parseArgs } from 'node:util';
import { randomBytes, startE2eServer, writeFiles } from '../test/e2e/harness.ts';
import { launchChromium } from './browser.ts';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '32' } } });
const size = Number(values.mib) * 1024 * 1024;
const source = await writeFiles([{ name: 'bench.bin', data: randomBytes(size, 7) }]);
// A raw DevTools connection, not puppeteer's Page: that one copies every WebSocket frame to the driver.
const browser = await launchChromium();
const env = await startE2eServer();
const rows: string[] = ['| type | chunk | MiB/s |', '|---|---|---|'];
try {
  const page = await browser.newPage();
  await page.goto(`${env.http}/e2e/core.html`);
  await page.pickFile('files', source.files[0]!.path);
  for (const type of ['base64', 'binary']) {
    for (const chunk of [1024, 16 * 1024, 32 * 1024, 48 * 1024, 64 * 1024]) {
      // 1 KiB is so slow that a smaller share of the file tells the same story.
      const started = performance.now();
      const [result] = await page.evaluate<{ ok: boolean }[]>(
        `uploadPicked(${JSON.stringify({ url: env.url, type, chunkSize: chunk })})`,
        600_000,
      );
      const seconds = (performance.now() - started) / 1000;
      if (!result?.ok) throw new Error(`upload failed at ${type}/${chunk}`);
      rows.push(`| ${type} | ${chunk / 1024} KiB | ${(size / 1024 / 1024 / seconds).toFixed(1)} |`);
      console.log(rows.at(-1));
    }
  }
} finally {
  await browser.close();
  await env.stop();
  await source.remove();
}
console.log(`\n${values.mib} MiB file, one run:\n${rows.join('\n')}`);
