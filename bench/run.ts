// `npm run bench`: real Chromium uploads a random file picked through <input type=file> to servers on
// 127.0.0.1, one contender after another, on each network of the run (loopback, or through the link
// emulator), then many small files, then N Node clients load the reference server. Prints markdown tables
// and writes them to bench/results/. See bench/README.md for what each column means.
//
// Usage: npm run bench -- [--mib 256] [--runs 3] [--clients 50] [--client-mib 64] [--no-capacity]
//                         [--element-files 500] [--no-element] [--network-check] [--only <regexp>]
//                         [--net loopback,proxy,rtt20,rtt50,rtt100,rtt200,home|all]
//                         [--rtt MS] [--rate-mbit N] [--up-mbit N] [--down-mbit N] [--queue-kib N]
//                         [--files 200] [--file-kib 100] [--no-many]
//        npm run bench -- --s3 [--s3-mib 1024] [--clients 50] [--client-mib 64]   (only the S3 rows, bench/s3.ts)
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from '../test/e2e/harness.ts';
import { launchChromium, type BenchPage, type LaunchedBrowser } from './browser.ts';
import { runCapacity, type CapacityResult } from './capacity.ts';
import { hashFile, startServerOnNet, storedFile } from './child.ts';
import { contenders, type Contender } from './contenders.ts';
import { elementTable, measureElement, type ElementResult } from './element.ts';
import {
  formatLoad,
  LoadMeter,
  OTHERS_LIMIT_PERCENT,
  STEAL_LIMIT_PERCENT,
  type MachineLoad,
} from './load.ts';
import { MANY_FILES_WAYS, measureManyFiles } from './many-files.ts';
import { parseNets, type Net } from './nets.ts';
import {
  capacityTable,
  fixed,
  manyFilesTable,
  uploadTable,
  type ManyFilesResult,
  type Row,
  type Sample,
} from './report.ts';

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
    net: { type: 'string' },
    rtt: { type: 'string' },
    'rate-mbit': { type: 'string' },
    'up-mbit': { type: 'string' },
    'down-mbit': { type: 'string' },
    'queue-kib': { type: 'string' },
    files: { type: 'string', default: '200' },
    'file-kib': { type: 'string', default: '100' },
    'no-many': { type: 'boolean', default: false },
    s3: { type: 'boolean', default: false },
    's3-mib': { type: 'string', default: '1024' },
  },
});
const fileMiB = positiveInt('mib', args.mib);
const runs = positiveInt('runs', args.runs);
const clients = positiveInt('clients', args.clients);
const clientMiB = positiveInt('client-mib', args['client-mib']);
const elementFiles = positiveInt('element-files', args['element-files']);
const manyFiles = positiveInt('files', args.files);
const manyFileKiB = positiveInt('file-kib', args['file-kib']);
const nets = parseNets(args);

function positiveInt(name: string, value: string | undefined): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new RangeError(`--${name} must be a positive integer`);
  return number;
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
  net: Net,
  source: { path: string; size: number },
  expectedHash: (bytes: number) => Promise<string>,
): Promise<Sample | string> {
  const bytes = Math.min(source.size, (contender.shareMiB ?? Infinity) * MiB);
  // Bounded: even the 1 KiB row must reach 0.05 MiB/s.
  const timeoutMs = Math.max(60_000, (bytes / MiB) * 20_000 + 30_000);
  const at = await startServerOnNet(contender.server, net.link, timeoutMs + 120_000);
  const server = at.server;
  try {
    await page.goto(`${at.origin}/bench/bench.html`);
    if (contender.needsWebSocketStream && !(await page.evaluate<boolean>('window.hasWebSocketStream'))) {
      return 'skipped: this Chromium has no WebSocketStream';
    }
    await page.pickFile('file', source.path);
    if (contender.withNetworkDomain) await page.send('Network.enable');
    await page.send('HeapProfiler.collectGarbage').catch(() => undefined);
    const heapIdle = await page.heapUsed();
    let heapPeak = heapIdle;
    let sampling = true;
    const meter = new LoadMeter();
    await meter.start();
    const sampler = (async () => {
      for (let tick = 0; sampling; tick++) {
        heapPeak = Math.max(heapPeak, await page.heapUsed().catch(() => 0));
        if (tick % 5 === 0) meter.sample();
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    await server.reset();
    const cpuBefore = await browser.cpuSeconds();
    let result: { ms: number; bytes: number; longTasks: number; longestTaskMs: number };
    try {
      result = await page.evaluate<typeof result>(
        `runContender(${JSON.stringify(contender.page)}, ${JSON.stringify({
          ...contender.options,
          url: at.endpoint,
          limit: bytes < source.size ? bytes : 0,
          timeoutMs,
        })})`,
        timeoutMs + 5000,
      );
    } finally {
      sampling = false;
      await sampler;
    }
    const load = await meter.stop();
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
      longTasks: result.longTasks,
      longestTaskMs: result.longestTaskMs,
      serverMaxRss: usage.maxRss,
      serverIdleRss: server.idleRss,
      load,
    };
  } finally {
    await at.stop();
  }
}

/** The S3 store's rows only (bench/s3.ts), written to bench/results/<stamp>-s3.md. */
async function mainS3(): Promise<void> {
  const started = new Date();
  const loadBefore = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const { runS3Bench } = await import('./s3.ts');
  const mib = positiveInt('s3-mib', args['s3-mib']);
  const body = await runS3Bench({ mib, clients, clientMiB });
  const report = [
    `# Benchmark ${started.toISOString()}`,
    '',
    `Command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\` on ${os.cpus().length} cores, ` +
      `load average before: ${loadBefore}, after: see below.`,
    '',
    body,
    `Load average after: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}.`,
    '',
  ].join('\n');
  console.log(report);
  const dir = new URL('./results/', import.meta.url).pathname;
  await mkdir(dir, { recursive: true });
  const stamp = started.toISOString().slice(0, 16).replace(':', '') + 'Z';
  await writeFile(path.join(dir, `${stamp}-s3.md`), report);
}

async function main(): Promise<void> {
  const started = new Date();
  const only = args.only ? new RegExp(args.only, 'i') : undefined;
  const list = contenders({ networkCheck: args['network-check'] }).filter((c) => !only || only.test(c.name));
  const work = await mkdtemp(path.join(os.tmpdir(), 'wsfu-bench-src-'));
  const size = fileMiB * MiB;
  let browser: LaunchedBrowser | undefined;
  // One group of rows per network: every contender on loopback, the `onLink` ones on an emulated link.
  const groups = nets.map((net) => ({
    net,
    rows: list
      .filter((contender) => !net.link || contender.onLink)
      .map((contender): Row => ({
        contender,
        bytes: Math.min(size, (contender.shareMiB ?? Infinity) * MiB),
        samples: [],
        errors: [],
      })),
    many: [] as ManyFilesResult[],
  }));
  const runMany = !args['no-many'] && (!only || only.test('many files'));
  let capacity: CapacityResult[] | string = 'not run (--no-capacity)';
  let capacityLoad: MachineLoad | undefined;
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
    for (const group of groups) {
      // Runs are interleaved (every contender once, then again) so that a noisy minute does not hit one row.
      for (let run = 1; run <= runs; run++) {
        for (const row of group.rows) {
          if (row.skipped) continue;
          const label = `[${group.net.name}, run ${run}/${runs}] ${row.contender.name}`;
          try {
            const sample = await measure(
              browser,
              page,
              row.contender,
              group.net,
              { path: sourcePath, size },
              expectedHash,
            );
            if (typeof sample === 'string') {
              if (sample.startsWith('skipped')) row.skipped = sample;
              else row.errors.push(sample);
              console.error(`${label}: ${sample}`);
            } else {
              row.samples.push(sample);
              console.error(
                `${label}: ${fixed(sample.mibPerSecond)} MiB/s, others' load ${formatLoad(sample.load)}`,
              );
            }
          } catch (error) {
            row.errors.push(String((error as Error).message ?? error).slice(0, 200));
            console.error(`${label}: ${String(error)}`);
            // A page stuck in a failed upload is replaced, not reused.
            await page.send('Page.navigate', { url: 'about:blank' }).catch(() => undefined);
          }
        }
      }
      if (runMany) {
        for (const way of MANY_FILES_WAYS) {
          const label = `[${group.net.name}] many files: ${way.name}`;
          try {
            const result = await measureManyFiles(page, way, group.net, {
              files: manyFiles,
              fileBytes: manyFileKiB * 1024,
            });
            group.many.push(result);
            console.error(
              `${label}: ${fixed(result.seconds, 2)} s, ${result.ok}/${result.files} ok${result.error ? ', ' + result.error : ''}`,
            );
          } catch (error) {
            console.error(`${label}: ${String(error)}`);
            group.many.push({
              name: way.name,
              files: manyFiles,
              fileBytes: manyFileKiB * 1024,
              concurrency: way.concurrency,
              seconds: NaN,
              overheadMs: NaN,
              ok: 0,
              error: String((error as Error).message ?? error).slice(0, 200),
            });
          }
        }
      }
    }
    // After the upload rows, in the same browser: N small files through the element, once per run.
    if (runElement) {
      const results: ElementResult[] = [];
      for (let run = 1; run <= runs; run++) {
        try {
          // Plain files, then images: every row then makes a preview (on by default) while the list scrolls.
          for (const images of [false, true]) {
            const result = await measureElement(browser, { files: elementFiles, images });
            results.push(result);
            console.error(
              `[run ${run}/${runs}] element${images ? ' (images, previews)' : ''}: ${result.longTasks} long tasks, longest ${fixed(result.longestTaskMs, 0)} ms`,
            );
          }
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
      const meter = new LoadMeter();
      await meter.start();
      const sampler = setInterval(() => meter.sample(), 1000);
      capacity = await runCapacity({ clients, mib: clientMiB, chunk: MiB, timeoutMs: 600_000 }).catch(
        (error: unknown) => `capacity test failed: ${String(error)}`,
      );
      clearInterval(sampler);
      capacityLoad = await meter.stop();
    }
  } finally {
    await browser?.close();
    await rm(work, { recursive: true, force: true });
  }

  const cpus = os.cpus();
  const sections = groups.flatMap(({ net, rows, many }) => [
    `## ${fileMiB} MiB upload — ${net.name}: ${net.description}`,
    '',
    uploadTable(rows, size),
    '',
    ...(runMany
      ? [
          `### Many small files — ${net.name}: ${manyFiles} files of ${manyFileKiB} KiB`,
          '',
          manyFilesTable(many),
          '',
        ]
      : []),
  ]);
  const report = [
    `# Benchmark ${started.toISOString()}`,
    '',
    `Command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\` — ${fileMiB} MiB random file picked through ` +
      `\`<input type=file>\`, medians of ${runs} interleaved runs (peaks: highest of the runs).`,
    `Machine: ${cpus.length} × ${cpus[0]?.model ?? 'CPU'}, ${fixed(os.totalmem() / GiB)} GiB RAM, ${os.type()} ${os.release()}, ` +
      `Node ${process.version}, ${info.chromium} headless, 127.0.0.1, files on local disk. ` +
      'Compare rows of one run only. "Others\' load" is the CPU time of processes that are not this bench ' +
      `(in % of all ${cpus.length} cores), the hypervisor's steal time and the highest 1-minute load average ` +
      `during the row (worst of its runs); ⚠ marks rows above ${OTHERS_LIMIT_PERCENT} % others or ${STEAL_LIMIT_PERCENT} % steal.`,
    '',
    ...sections,
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
    ...(capacityLoad ? [`Others' load during the capacity test: ${formatLoad(capacityLoad)}.`, ''] : []),
  ].join('\n');
  console.log(report);
  const dir = new URL('./results/', import.meta.url).pathname;
  await mkdir(dir, { recursive: true });
  // e.g. 2026-11-29T1114Z-256MiB.md: one file per run, never overwritten by a later run the same day.
  const stamp = started.toISOString().slice(0, 16).replace(':', '') + 'Z';
  const netSuffix = nets.length === 1 && !nets[0]!.link ? '' : `-${nets.map((net) => net.name).join('+')}`;
  const file = path.join(dir, `${stamp}-${fileMiB}MiB${netSuffix}${only ? '-partial' : ''}.md`);
  await writeFile(file, report);
  console.error(`Written to ${path.relative(process.cwd(), file)}`);
}

await (args.s3 ? mainS3() : main());
