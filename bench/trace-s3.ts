// Diagnostic (issue 13): where the time of one upload into S3 goes. A real Ceph RGW (test/services/s3-engine.sh),
// the reference server in this process on an S3Store, and the real client core in Node (ws for the browser's
// WebSocket). Every S3 request the store sends is timed through an SDK middleware, every ack the client gets
// is noted, and a summary says how long the requests of each kind took, how many ran at once, and how long
// the event loop was blocked. Timings are a diagnostic, not a figure of the report.
// --browser: the client is Chromium (the e2e page, dist/ built), as in the bench's row; --nginx: through nginx.
// Usage: node --import tsx bench/trace-s3.ts [--mib 256] [--chunk-kib 4096] [--browser] [--nginx] [--timeline]
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { S3Client } from '@aws-sdk/client-s3';
import { createUploadServer } from '../src/server/index.ts';
import { S3Store } from '../src/server/stores/s3-store.ts';
import { launchE2eBrowser, randomBytes, startE2eServer, writeFiles } from '../test/e2e/harness.ts';
import { Nginx } from '../test/helpers/nginx.ts';
import { startS3Engine } from '../test/helpers/s3-engine.ts';
import { runTransfer } from '../test/helpers/node-client.ts';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '256' },
    'chunk-kib': { type: 'string', default: '4096' },
    timeline: { type: 'boolean', default: false },
    browser: { type: 'boolean', default: false },
    nginx: { type: 'boolean', default: false },
  },
});
const MiB = 1024 * 1024;
const size = Number(values.mib) * MiB;
const zero = performance.now();
const now = () => performance.now() - zero;
const lines: string[] = [];
const mark = (what: string) => lines.push(`${now().toFixed(1).padStart(9)} ms  ${what}`);

interface Request {
  name: string;
  start: number;
  end: number;
}
const requests: Request[] = [];

const engine = await startS3Engine();
try {
  const bucket = await engine.bucket();
  const client = new S3Client({
    endpoint: engine.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: engine.accessKey, secretAccessKey: engine.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = { name: context.commandName ?? '?', start: now(), end: 0 };
      const input = args.input as { Key?: string; PartNumber?: number };
      mark(`> ${request.name} ${input.PartNumber ?? ''} ${input.Key?.slice(-30) ?? ''}`);
      try {
        return await next(args);
      } finally {
        request.end = now();
        requests.push(request);
        mark(`< ${request.name} ${input.PartNumber ?? ''} ${(request.end - request.start).toFixed(1)} ms`);
      }
    },
    { step: 'initialize', name: 'trace' },
  );
  const store = new S3Store({ bucket, client });
  const server = await createUploadServer({ store, port: 0, host: '127.0.0.1' });
  const data = randomBytes(size, 5);
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let acks = 0;
  const port = Number(new URL(server.url).port);
  const nginx = values.nginx ? await Nginx.start([{ path: '/upload', upstreams: [port] }]) : undefined;
  const url = nginx ? nginx.url : server.url;
  const chunk = Number(values['chunk-kib']) * 1024;
  let started = now();
  let ok: boolean;
  if (values.browser) {
    const source = await writeFiles([{ name: 'trace.bin', data }]);
    const pages = await startE2eServer();
    const browser = await launchE2eBrowser('chromium');
    try {
      const page = await browser.newPage();
      await page.goto(`${pages.http}/e2e/v2.html`);
      await page.waitFor('window.ready === true', { timeout: 10_000 });
      await page.setFiles("document.querySelector('input')", [source.files[0]!.path]);
      started = now();
      await page.evaluate(
        `window.outcome = null; upload(${JSON.stringify({ url, v2ChunkSize: chunk })}).then((o) => (window.outcome = o)), null`,
      );
      let result = null as { ok: boolean } | null;
      for (const deadline = Date.now() + 10 * 60_000; !result && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        result = await page.evaluate<{ ok: boolean } | null>('window.outcome');
      }
      ok = result?.ok === true;
    } finally {
      await browser.close();
      await pages.stop();
      await source.remove();
    }
  } else {
    const outcome = await runTransfer(
      { url, file: new File([new Uint8Array(data)], 'trace.bin'), v2ChunkSize: chunk },
      {
        timeout: 10 * 60_000,
        onProgress: (detail) => {
          acks += 1;
          mark(`ack ${(detail.loaded / MiB).toFixed(1)} MiB`);
        },
      },
    );
    ok = outcome.type === 'success';
  }
  const seconds = (now() - started) / 1000;
  loop.disable();
  await nginx?.stop();
  await server.close();
  client.destroy();
  if (values.timeline) console.log(lines.join('\n'));
  const byName = new Map<string, number[]>();
  for (const r of requests) byName.set(r.name, [...(byName.get(r.name) ?? []), r.end - r.start]);
  console.log(
    `${values.mib} MiB: ${ok ? 'success' : 'FAILED'}, ${(size / MiB / seconds).toFixed(1)} MiB/s, ${acks} progress events`,
  );
  for (const [name, times] of byName) {
    const total = times.reduce((a, b) => a + b, 0);
    console.log(
      `  ${name.padEnd(34)} ×${String(times.length).padStart(4)}  mean ${(total / times.length).toFixed(1)} ms  sum ${(total / 1000).toFixed(2)} s`,
    );
  }
  // How many UploadParts were running, averaged over the upload.
  const parts = requests.filter((r) => r.name === 'UploadPartCommand');
  const partTime = parts.reduce((a, r) => a + r.end - r.start, 0);
  console.log(`  UploadPart concurrency (mean over the upload): ${(partTime / (seconds * 1000)).toFixed(2)}`);
  console.log(
    `  event loop delay: mean ${(loop.mean / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms`,
  );
} finally {
  engine.stop();
}
