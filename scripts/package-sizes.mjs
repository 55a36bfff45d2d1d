// The sizes adopters pay, against the budgets README states ("Size budget"): the front-end package's tarball
// (`npm pack`) and the CDN bundle min+gzip (gzip -9). `npm run size` prints them; test/packaging/sizes.test.ts
// fails past a budget. Needs `npm run build` first.
/* global console */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import process from 'node:process';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Budgets in bytes. The CDN bundle is an entry (the element, Lit, the queue's bookkeeping: what a page loads
 * with the <script> tag) and the chunks it loads with import() beside it: the code that sends files
 * (queue-transfer), the list and its rows (list-view), the folder walk. On 2026-12-03 the single file was
 * 36.0 kB min+gzip; split, the entry is 18.9 kB and entry plus chunks 37.4 kB (each file is compressed
 * alone, so the parts cost more than one file did). Issue 11's target, 20 kB, is the entry's. The tarball
 * went from 545.5 to 563.0 kB with the split: three more files and their source maps (sources inside).
 * Then the same day's merge of preconnect, remembered early grants, coalesced acks, `hold` and the hardening
 * (code, their docs and the bundles' maps): entry 19.1 kB, entry + chunks 38.9 kB, tarball 606.7 kB.
 */
export const BUDGETS = {
  tarball: 620_000,
  bundleGzip: 20_000,
  bundleTotalGzip: 40_000,
};

const ENTRY = 'ws-file-upload.bundle.min.js';
/** How a bundle file names another one: `import("./x.min.js")` or `from"./x.min.js"`, relative to itself. */
const CHUNK_REFERENCE = /["']\.\/(ws-file-upload\.[\w.-]+\.min\.js)["']/g;

/**
 * The entry and every chunk it can load, following the files' own references (so a chunk left in dist/ by
 * an older build is not counted): `[{ file, bytes, gzip }]`, the entry first.
 */
export async function bundleFiles(dir = path.join(root, 'dist')) {
  const files = [];
  const queue = [ENTRY];
  for (let i = 0; i < queue.length && i < 100; i++) {
    const code = await readFile(path.join(dir, queue[i]));
    files.push({ file: queue[i], bytes: code.length, gzip: gzipSync(code, { level: 9 }).length });
    for (const [, name] of code.toString('utf8').matchAll(CHUNK_REFERENCE))
      if (!queue.includes(name)) queue.push(name);
  }
  return files;
}

/** `{ tarball, unpacked, files, bundle, bundleGzip, bundleTotalGzip, chunks }` in bytes, for the current build. */
export async function measure() {
  const scratch = await mkdtemp(path.join(tmpdir(), 'wsfu-size-'));
  try {
    const { stdout } = await promisify(execFile)(
      'npm',
      ['pack', '--json', '--dry-run', '--ignore-scripts', '--pack-destination', scratch],
      { cwd: root, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
    );
    const [report] = JSON.parse(stdout);
    const [entry, ...chunks] = await bundleFiles();
    return {
      tarball: report.size,
      unpacked: report.unpackedSize,
      files: report.entryCount,
      bundle: entry.bytes,
      bundleGzip: entry.gzip,
      bundleTotalGzip: entry.gzip + chunks.reduce((sum, chunk) => sum + chunk.gzip, 0),
      chunks,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;

/** One line per measured size, with its budget. */
export function report(sizes) {
  return [
    `npm tarball (ws-file-upload): ${kB(sizes.tarball)} (budget ${kB(BUDGETS.tarball)}), ${kB(sizes.unpacked)} unpacked, ${sizes.files} files`,
    `CDN bundle entry dist/${ENTRY}: ${kB(sizes.bundle)} minified, ${kB(sizes.bundleGzip)} min+gzip (budget ${kB(BUDGETS.bundleGzip)})`,
    ...sizes.chunks.map(
      (chunk) => `  chunk dist/${chunk.file}: ${kB(chunk.bytes)} minified, ${kB(chunk.gzip)} min+gzip`,
    ),
    `CDN bundle entry + chunks: ${kB(sizes.bundleTotalGzip)} min+gzip (budget ${kB(BUDGETS.bundleTotalGzip)})`,
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = await measure();
  for (const line of report(sizes)) console.log(line);
  const over = Object.entries(BUDGETS).filter(([key, budget]) => sizes[key] > budget);
  for (const [key, budget] of over) console.error(`over budget: ${key} ${sizes[key]} > ${budget} bytes`);
  process.exit(over.length > 0 ? 1 : 0);
}
