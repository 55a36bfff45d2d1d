// Throughput of protocol v1 (the 2012 conversation: base64, 48 KiB, stop-and-wait) against protocol v2 (binary,
// 256 KiB chunks, window 16, SHA-256 + FIN) from real Chromium to the reference server, in one run.
// Usage: npm run build && node --import tsx bench/v2-throughput.ts [--mib 256]
import { parseArgs } from 'node:util';
import { launchBrowser, randomBytes, startE2eServer, storedHash, writeFiles } from '../test/e2e/harness.ts';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' } } });
const size = Number(values.mib) * 1024 * 1024;
const source = await writeFiles([{ name: 'bench.bin', data: randomBytes(size, 9) }]);
const browser = await launchBrowser();
const env = await startE2eServer();
const runs = [
  { label: 'v1 (base64, 48 KiB, stop-and-wait)', options: { offerV2: false } },
  { label: 'v1 (binary, 48 KiB, stop-and-wait)', options: { offerV2: false, type: 'binary' } },
  { label: 'v2 (binary, 256 KiB, window 16, SHA-256, FIN)', options: {} },
  { label: 'v2 without checksum (binary, 256 KiB, window 16, FIN)', options: { checksum: false } },
];
const rows = ['| protocol | MiB | seconds | MiB/s |', '|---|---|---|---|'];
try {
  const page = await browser.newPage();
  await page.goto(`${env.http}/e2e/v2.html`);
  await page.waitForFunction('window.ready === true');
  await (await page.$('input'))!.uploadFile(source.files[0]!.path);
  for (const run of runs) {
    const outcome = (await page.evaluate(
      `upload(${JSON.stringify({ url: env.url, resumeStore: null, ...run.options })})`,
    )) as { ok: boolean; ms: number; message?: string };
    if (!outcome.ok) throw new Error(`${run.label} failed: ${outcome.message}`);
    const stored = env.stored.at(-1)!;
    if ((await storedHash(env.dir, stored.filename)) !== source.files[0]!.sha256) {
      throw new Error(`${run.label}: stored file differs`);
    }
    const seconds = outcome.ms / 1000;
    rows.push(
      `| ${run.label} | ${values.mib} | ${seconds.toFixed(2)} | ${(size / 1024 / 1024 / seconds).toFixed(1)} |`,
    );
    console.log(rows.at(-1));
  }
  console.log(rows.join('\n'));
} finally {
  await browser.close();
  await env.stop();
  await source.remove();
}
