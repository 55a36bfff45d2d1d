// `npm run bench`: real Chromium uploads a random file picked through <input type=file> to servers on
// 127.0.0.1, one contender after another, then N Node clients load the reference server. Prints a markdown
// table and writes it to bench/results/. See bench/README.md for what each column means.
//
// Usage: npm run bench -- [--mib 256] [--runs 3] [--clients 50] [--client-mib 64] [--no-capacity]
//                         [--element-files 500] [--no-element] [--network-check] [--only <regexp>]
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from '../test/e2e/harness.ts';
import { launchChromium, type BenchPage, type LaunchedBrowser } from './browser.ts';
import { runCapacity, type CapacityResult } from './capacity.ts';
import { hashFile, startServer, storedFile } from './child.ts';
import { contenders, type Contender } from './contenders.ts';
import { elementTable, measureElement, type ElementResult } from './element.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const { values: args } = parseArgs({
  options: {
    mib: { type: 'string', default: '256' },
    runs: { type: 'string', default: '3' },
    clients: { type: 'string', default: '50' },
    'client-mib': { type: 'string', default: '64' },
    'no-capacity': { type: 'boolean', default: false },
    'element-files': { type: 'string', default: '500' },
    'no-element': { type: 'boolean', default: false },
    'network-check': { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const fileMiB = positiveInt('mib', args.mib);
const runs = positiveInt('runs', args.runs);
const clients = positiveInt('clients', args.clients);
const clientMiB = positiveInt('client-mib', args['client-mib']);
const elementFiles = positiveInt('element-files', args['element-files']);

function positiveInt(name: string, value: string | undefined): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new RangeError(`--${name} must be a positive integer`);
  return number;
}

interface Sample {
  mibPerSecond: number;
  bytes: number;
  browserCpu: number;
  rendererCpu: number;
  serverCpu: number;
  heapIdle: number;
  heapPeak: number;
  serverMaxRss: number;
  serverIdleRss: number;
}

interface Row {
  contender: Contender;
  bytes: number;
  samples: Sample[];
  skipped?: string;
  errors: string[];
}

/** Writes the random source file in 64 MiB pieces (bounded memory even at 1 GiB). */
async function writeSource(dir: string, size: number): Promise<string> {
  const file = path.join(dir, 'bench.bin');
  const out = createWriteStream(file);
  const piece = 64 * MiB;
  for (let at = 0, seed = 1; at < size; at += piece, seed++) {
    if (!out.write(randomBytes(Math.min(piece, size - at), seed))) {
      await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  return file;
}

async function measure(
  browser: LaunchedBrowser,
  page: BenchPage,
  contender: Contender,
  source: { path: string; size: number },
  expectedHash: (bytes: number) => Promise<string>,
): Promise<Sample | string> {
  const server = await startServer(contender.server);
  try {
    await page.goto(`${server.origin}/bench/bench.html`);
    if (contender.needsWebSocketStream && !(await page.evaluate<boolean>('window.hasWebSocketStream'))) {
      return 'skipped: this Chromium has no WebSocketStream';
    }
    await page.pickFile('file', source.path);
    if (contender.withNetworkDomain) await page.send('Network.enable');
    const bytes = Math.min(source.size, (contender.shareMiB ?? Infinity) * MiB);
    // Bounded: even the 1 KiB row must reach 0.05 MiB/s.
    const timeoutMs = Math.max(60_000, (bytes / MiB) * 20_000 + 30_000);
    await page.send('HeapProfiler.collectGarbage').catch(() => undefined);
    const heapIdle = await page.heapUsed();
    let heapPeak = heapIdle;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        heapPeak = Math.max(heapPeak, await page.heapUsed().catch(() => 0));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    await server.reset();
    const cpuBefore = await browser.cpuSeconds();
    let result: { ms: number; bytes: number };
    try {
      result = await page.evaluate<{ ms: number; bytes: number }>(
        `runContender(${JSON.stringify(contender.page)}, ${JSON.stringify({
          ...contender.options,
          url: server.endpoint,
          limit: bytes < source.size ? bytes : 0,
          timeoutMs,
        })})`,
        timeoutMs + 5000,
      );
    } finally {
      sampling = false;
      await sampler;
    }
    const cpuAfter = await browser.cpuSeconds();
    const usage = await server.report();
    if (result.bytes !== bytes) return `server confirmed ${result.bytes} of ${bytes} bytes`;
    if (contender.server !== 'count') {
      const stored = await storedFile(server.dir);
      if (!stored || stored.size !== bytes) return `stored ${stored?.size ?? 'nothing'} of ${bytes} bytes`;
      if ((await hashFile(stored.path)) !== (await expectedHash(bytes)))
        return 'stored file differs (SHA-256)';
    }
    if (contender.withNetworkDomain) await page.send('Network.disable');
    const gib = bytes / GiB;
    return {
      mibPerSecond: bytes / MiB / (result.ms / 1000),
      bytes,
      browserCpu: (cpuAfter.all - cpuBefore.all) / gib,
      rendererCpu: (cpuAfter.renderer - cpuBefore.renderer) / gib,
      serverCpu: usage.cpuSeconds / gib,
      heapIdle,
      heapPeak,
      serverMaxRss: usage.maxRss,
      serverIdleRss: server.idleRss,
    };
  } finally {
    await server.stop();
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const mib = (bytes: number) => fixed(bytes / MiB, 0);

function table(rows: Row[], fileSize: number): string {
  const baseline = rows.find((row) => row.contender.isBaseline && row.samples.length > 0);
  const base = baseline ? median(baseline.samples.map((s) => s.mibPerSecond)) : NaN;
  const lines = [
    '| contender | MiB sent | MiB/s | × raw limit (disk) | browser CPU s/GiB: all procs (renderer) | server CPU s/GiB | JS heap MiB: peak (idle) | server RSS MiB: peak (idle) | runs ok |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const row of rows) {
    const { contender, samples } = row;
    const name = contender.name + (row.bytes < fileSize ? ` — first ${mib(row.bytes)} MiB only` : '');
    if (samples.length === 0) {
      lines.push(
        `| ${name} | ${mib(row.bytes)} | ${row.skipped ?? 'failed: ' + row.errors.join('; ')} | | | | | | 0 |`,
      );
      continue;
    }
    const speed = median(samples.map((s) => s.mibPerSecond));
    const m = (pick: (s: Sample) => number) => median(samples.map(pick));
    const max = (pick: (s: Sample) => number) => Math.max(...samples.map(pick));
    lines.push(
      `| ${name} | ${mib(row.bytes)} | ${fixed(speed)} | ${fixed(speed / base, 2)} | ` +
        `${fixed(m((s) => s.browserCpu))} (${fixed(m((s) => s.rendererCpu))}) | ${fixed(
          m((s) => s.serverCpu),
          2,
        )} | ` +
        `${fixed(max((s) => s.heapPeak) / MiB)} (${fixed(m((s) => s.heapIdle) / MiB)}) | ` +
        `${fixed(max((s) => s.serverMaxRss) / MiB, 0)} (${fixed(m((s) => s.serverIdleRss) / MiB, 0)}) | ${samples.length}/${samples.length + row.errors.length}` +
        `${row.errors.length ? ' ⚠ ' + row.errors.join('; ') : ''} |`,
    );
  }
  return lines.join('\n');
}

function capacityTable(results: CapacityResult[] | string): string {
  if (typeof results === 'string') return results;
  return [
    '| server | clients × MiB | aggregate MiB/s | wall s | server CPU s (s/GiB; of which system) | server RSS MiB: peak (idle) | ack p50 / p99 ms | files ok | corrupted |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|',
    ...results.map(
      (r) =>
        `| ${r.name} | ${r.clients} × ${r.mib} | ${fixed(r.mibPerSecond)} | ${fixed(r.seconds)} | ${fixed(r.serverCpuSeconds)} (${fixed(r.serverCpuPerGiB, 2)}; ${fixed(r.serverSystemPerGiB, 2)}) | ` +
        `${fixed(r.serverMaxRss / MiB, 0)} (${fixed(r.serverIdleRss / MiB, 0)}) | ${fixed(r.ackP50)} / ${fixed(r.ackP99)} | ${r.ok}/${r.clients} | ${fixed(r.corrupted, 0)} |`,
    ),
    ...results.flatMap((r) =>
      r.failed.length ? ['', `Failures (${r.name}): ${r.failed.slice(0, 5).join('; ')}`] : [],
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const started = new Date();
  const only = args.only ? new RegExp(args.only, 'i') : undefined;
  const list = contenders({ networkCheck: args['network-check'] }).filter((c) => !only || only.test(c.name));
  const work = await mkdtemp(path.join(os.tmpdir(), 'wsfu-bench-src-'));
  const size = fileMiB * MiB;
  let browser: LaunchedBrowser | undefined;
  const rows: Row[] = list.map((contender) => ({
    contender,
    bytes: Math.min(size, (contender.shareMiB ?? Infinity) * MiB),
    samples: [],
    errors: [],
  }));
  let capacity: CapacityResult[] | string = 'not run (--no-capacity)';
  const runElement = !args['no-element'] && (!only || only.test('element responsiveness'));
  let element: ElementResult[] | string = runElement ? [] : 'not run (--no-element or --only)';
  const info = { chromium: 'Chromium' };
  try {
    console.error(`Writing a ${fileMiB} MiB random file…`);
    const sourcePath = await writeSource(work, size);
    const hashes = new Map<number, Promise<string>>();
    const expectedHash = (bytes: number) => {
      if (!hashes.has(bytes)) hashes.set(bytes, hashFile(sourcePath, bytes));
      return hashes.get(bytes)!;
    };
    browser = await launchChromium();
    info.chromium = (await browser.cdp.send<{ product: string }>('Browser.getVersion')).product;
    const page = await browser.newPage();
    // Runs are interleaved (every contender once, then again) so that a noisy minute does not hit one row.
    for (let run = 1; run <= runs; run++) {
      for (const row of rows) {
        if (row.skipped) continue;
        const label = `[run ${run}/${runs}] ${row.contender.name}`;
        try {
          const sample = await measure(
            browser,
            page,
            row.contender,
            { path: sourcePath, size },
            expectedHash,
          );
          if (typeof sample === 'string') {
            if (sample.startsWith('skipped')) row.skipped = sample;
            else row.errors.push(sample);
            console.error(`${label}: ${sample}`);
          } else {
            row.samples.push(sample);
            console.error(`${label}: ${fixed(sample.mibPerSecond)} MiB/s`);
          }
        } catch (error) {
          row.errors.push(String((error as Error).message ?? error).slice(0, 200));
          console.error(`${label}: ${String(error)}`);
          // A page stuck in a failed upload is replaced, not reused.
          await page.send('Page.navigate', { url: 'about:blank' }).catch(() => undefined);
        }
      }
    }
    // After the upload rows, in the same browser: N small files through the element, once per run.
    if (runElement) {
      const results: ElementResult[] = [];
      for (let run = 1; run <= runs; run++) {
        try {
          const result = await measureElement(browser, { files: elementFiles });
          results.push(result);
          console.error(
            `[run ${run}/${runs}] element: ${result.longTasks} long tasks, longest ${fixed(result.longestTaskMs, 0)} ms`,
          );
        } catch (error) {
          console.error(`[run ${run}/${runs}] element: ${String(error)}`);
          element = `element runs failed: ${String((error as Error).message ?? error).slice(0, 200)}`;
          break;
        }
      }
      if (typeof element !== 'string') element = results;
    }
    await browser.close();
    browser = undefined;
    if (!args['no-capacity']) {
      console.error(`Capacity: ${clients} clients × ${clientMiB} MiB…`);
      capacity = await runCapacity({ clients, mib: clientMiB, chunk: MiB, timeoutMs: 600_000 }).catch(
        (error: unknown) => `capacity test failed: ${String(error)}`,
      );
    }
  } finally {
    await browser?.close();
    await rm(work, { recursive: true, force: true });
  }

  const cpus = os.cpus();
  const report = [
    `# Benchmark ${started.toISOString()}`,
    '',
    `Command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\` — ${fileMiB} MiB random file picked through ` +
      `\`<input type=file>\`, medians of ${runs} interleaved runs (peaks: highest of the runs).`,
    `Machine: ${cpus.length} × ${cpus[0]?.model ?? 'CPU'}, ${fixed(os.totalmem() / GiB)} GiB RAM, ${os.type()} ${os.release()}, ` +
      `Node ${process.version}, ${info.chromium} headless, loopback (127.0.0.1), files on local disk. ` +
      'Other jobs share this machine: timings drift 25–50 % between runs; compare rows of one run only.',
    '',
    table(rows, size),
    '',
    `## Element responsiveness: ${elementFiles} files of 20 kB added at once to \`<ws-file-upload>\` (CDN bundle) and uploaded to the reference server`,
    '',
    'Main-thread tasks over 50 ms (Long Tasks API) from `addFiles()` until the queue completes; one row per run. Target: none.',
    '',
    elementTable(element),
    '',
    `## Server capacity: Node \`ws\` clients → reference server, protocol v2, binary 1 MiB chunks, window 16, SHA-256 + FIN`,
    '',
    'Floor rows: the same clients send the same bytes as plain 1 MiB binary messages (16 in flight each, no ' +
      'protocol) to a minimal `ws` server, under the same load: what any Node `ws` server costs on this machine.',
    '',
    capacityTable(capacity),
    '',
  ].join('\n');
  console.log(report);
  const dir = new URL('./results/', import.meta.url).pathname;
  await mkdir(dir, { recursive: true });
  // e.g. 2026-11-29T1114Z-256MiB.md: one file per run, never overwritten by a later run the same day.
  const stamp = started.toISOString().slice(0, 16).replace(':', '') + 'Z';
  const file = path.join(dir, `${stamp}-${fileMiB}MiB${only ? '-partial' : ''}.md`);
  await writeFile(file, report);
  console.error(`Written to ${path.relative(process.cwd(), file)}`);
}

await main();
