// Diagnostic: a Chromium CPU profile (DevTools Profiler domain, no Network domain) of one upload.
// Usage: npm run build && node --import tsx bench/profile-v2.ts [--mib 64] [--options JSON] [--page core]
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomFillSync } from 'node:crypto';
import { parseArgs } from 'node:util';
import { launchChromium } from './browser.ts';
import { startServer } from './child.ts';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '64' },
    options: { type: 'string', default: '{"type":"binary","offerV2":true,"checksum":true}' },
    page: { type: 'string', default: 'core' },
    server: { type: 'string', default: 'ref' },
    out: { type: 'string', default: '' },
    pre: { type: 'string', default: '' },
  },
});
const size = Number(values.mib) * 1024 * 1024;
const work = await mkdtemp(path.join(os.tmpdir(), 'wsfu-prof-'));
const file = path.join(work, 'bench.bin');
await writeFile(file, randomFillSync(Buffer.alloc(size)));
const browser = await launchChromium();
const server = await startServer(values.server as 'ref');
try {
  const page = await browser.newPage();
  await page.goto(`${server.origin}/bench/bench.html`);
  await page.pickFile('file', file);
  await server.reset();
  if (values.pre) await page.evaluate(values.pre);
  const cpuBefore = await browser.cpuSeconds();
  await page.send('Profiler.enable');
  await page.send('Profiler.setSamplingInterval', { interval: 200 });
  await page.send('Profiler.start');
  const result = await page.evaluate<{ ms: number; bytes: number }>(
    `runContender(${JSON.stringify(values.page)}, ${JSON.stringify({
      ...JSON.parse(values.options),
      url: server.endpoint,
      limit: 0,
      timeoutMs: 600_000,
    })})`,
    605_000,
  );
  const { profile } = await page.send<{ profile: unknown }>('Profiler.stop');
  const cpuAfter = await browser.cpuSeconds();
  const gib = size / 1024 ** 3;
  const all = (cpuAfter.all - cpuBefore.all) / gib;
  const renderer = (cpuAfter.renderer - cpuBefore.renderer) / gib;
  const mibs = size / 1048576 / (result.ms / 1000);
  console.log(
    `${values.pre} ${values.options}: ${mibs.toFixed(1)} MiB/s, browser CPU ${all.toFixed(1)} s/GiB (renderer ${renderer.toFixed(1)})`,
  );
  if (values.out) await writeFile(values.out, JSON.stringify(profile));
} finally {
  await server.stop();
  await browser.close();
  await rm(work, { recursive: true, force: true });
}
