// The many-small-files rows of `npm run bench`: N files (default 200 × 100 KiB) made in the page, then
// uploaded `concurrency` at once by ws-file-upload's UploadQueue (what the element runs), by one fetch() POST
// per file over the browser's keep-alive connections, and by one tus-js-client upload per file; each row on
// a fresh server, through the run's network. Every stored file is compared by SHA-256 with what the page made.
import type { BenchPage } from './browser.ts';
import { hashFile, startServerOnNet, storedFiles } from './child.ts';
import { LoadMeter } from './load.ts';
import type { Net } from './nets.ts';
import type { ManyFilesResult } from './report.ts';
import type { ServerKind } from './server-types.ts';

/** One way of sending many files (bench/page/bench.html, `manyFiles`). */
export interface ManyFilesWay {
  name: string;
  server: ServerKind;
  mode: 'queue' | 'fetch' | 'tus';
  concurrency: number;
  /** For the queue: share sockets between files (its default), or one socket per file. */
  shareConnections?: boolean;
}

export const MANY_FILES_WAYS: ManyFilesWay[] = [
  {
    name: 'ws-file-upload UploadQueue (the element’s queue), v2 defaults',
    server: 'ref',
    mode: 'queue',
    concurrency: 6,
  },
  {
    name: 'ws-file-upload UploadQueue, one connection per file (shareConnections: false)',
    server: 'ref',
    mode: 'queue',
    concurrency: 6,
    shareConnections: false,
  },
  { name: 'fetch() POST per file, keep-alive', server: 'http', mode: 'fetch', concurrency: 6 },
  { name: 'tus-js-client per file', server: 'tus', mode: 'tus', concurrency: 6 },
];

/** Counts how many of `stored` match a distinct entry of `expected` (a multiset match by SHA-256). */
function intact(expected: string[], stored: string[]): number {
  const left = new Map<string, number>();
  for (const hash of expected) left.set(hash, (left.get(hash) ?? 0) + 1);
  let matched = 0;
  for (const hash of stored) {
    const count = left.get(hash) ?? 0;
    if (count > 0) {
      left.set(hash, count - 1);
      matched++;
    }
  }
  return matched;
}

/**
 * Measures one way once on a fresh server (and link, when the net has one) and a fresh page load.
 *
 * @param page - a page of the run's browser
 * @param way - which client and server
 * @param net - loopback or an emulated link
 * @param size - how many files of how many bytes
 */
export async function measureManyFiles(
  page: BenchPage,
  way: ManyFilesWay,
  net: Net,
  { files, fileBytes }: { files: number; fileBytes: number },
): Promise<ManyFilesResult> {
  // Bounded: 3 s per file is far beyond any row at 200 ms RTT.
  const timeoutMs = 60_000 + files * 3_000;
  const result: ManyFilesResult = {
    name: way.name,
    files,
    fileBytes,
    concurrency: way.concurrency,
    seconds: NaN,
    overheadMs: NaN,
    ok: 0,
  };
  const at = await startServerOnNet(way.server, net.link, timeoutMs + 120_000);
  try {
    await page.goto(`${at.origin}/bench/bench.html`);
    const expected = await page.evaluate<string[]>(`prepareFiles(${files}, ${fileBytes})`, 120_000);
    const meter = new LoadMeter();
    await meter.start();
    const sampler = setInterval(() => meter.sample(), 1000);
    let timed: { ms: number; bytes: number } | undefined;
    try {
      timed = await page.evaluate<{ ms: number; bytes: number }>(
        `runContender('manyFiles', ${JSON.stringify({
          url: at.endpoint,
          mode: way.mode,
          concurrency: way.concurrency,
          shareConnections: way.shareConnections ?? true,
          timeoutMs,
        })})`,
        timeoutMs + 5000,
      );
    } catch (error) {
      result.error = String((error as Error).message ?? error).slice(0, 200);
      await page.send('Page.navigate', { url: 'about:blank' }).catch(() => undefined);
    } finally {
      clearInterval(sampler);
      result.load = await meter.stop();
    }
    const stored = await Promise.all((await storedFiles(at.server.dir)).map((file) => hashFile(file)));
    result.ok = intact(expected, stored);
    if (timed) {
      result.seconds = timed.ms / 1000;
      const rate = net.link?.up.bytesPerSecond ?? Infinity;
      const wireSeconds = Number.isFinite(rate) ? (files * fileBytes) / rate : 0;
      result.overheadMs = ((result.seconds - wireSeconds) * 1000) / files;
      if (result.ok !== files) result.error = `${files - result.ok} stored files missing or different`;
    }
    return result;
  } finally {
    await at.stop();
  }
}
