// What each source module contributes to a built CDN bundle, read from the bundle's own source map: every
// minified character is charged to the source file its mapping segment names (characters before a line's
// first segment go to "(unmapped)"). `node scripts/bundle-breakdown.mjs [dist/ws-file-upload.bundle.min.js …]`
// prints one table per file, largest first, with each module's minified bytes and its text gzipped alone (an
// upper bound: gzip shares back-references across modules, so the parts add up to more than the whole).
// Needs `npm run build` first. No dependency: the source map's VLQ mappings are decoded here.
/* global console */
import { Buffer } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The numbers of one mapping segment (source-map v3 base64 VLQ). */
function decodeSegment(text) {
  const values = [];
  let value = 0;
  let shift = 0;
  for (const char of text) {
    const digit = BASE64.indexOf(char);
    if (digit < 0) throw new Error(`not a source-map VLQ digit: ${char}`);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

/** Map of source name → the bundle text its segments cover. */
export function textPerSource(code, map) {
  const lines = code.split('\n');
  const parts = new Map();
  const charge = (name, text) => parts.set(name, (parts.get(name) ?? '') + text);
  let source = 0;
  const mappings = map.mappings.split(';');
  // Every line of the code, also those past the last mapped one (the `//# sourceMappingURL` comment).
  lines.forEach((line, lineIndex) => {
    const lineMappings = mappings[lineIndex] ?? '';
    let column = 0;
    const segments = [];
    for (const raw of lineMappings.split(',').filter(Boolean)) {
      const [columnDelta, sourceDelta] = decodeSegment(raw);
      column += columnDelta;
      if (sourceDelta !== undefined) source += sourceDelta;
      segments.push({ column, source: sourceDelta === undefined ? -1 : source });
    }
    if (segments.length === 0) return charge('(unmapped)', line);
    charge('(unmapped)', line.slice(0, segments[0].column));
    segments.forEach((segment, i) => {
      const end = i + 1 < segments.length ? segments[i + 1].column : line.length;
      const name = segment.source < 0 ? '(unmapped)' : map.sources[segment.source];
      charge(name, line.slice(segment.column, end));
    });
  });
  return parts;
}

/** Rows `{ module, bytes, gzipAlone }`, largest first; module names shortened to the repo-relative path. */
export async function breakdown(bundlePath) {
  const code = await readFile(bundlePath, 'utf8');
  const map = JSON.parse(await readFile(`${bundlePath}.map`, 'utf8'));
  const dir = path.dirname(bundlePath);
  return [...textPerSource(code, map)]
    .map(([name, text]) => ({
      module: name.startsWith('(') ? name : path.relative(root, path.resolve(dir, name)),
      bytes: Buffer.byteLength(text),
      gzipAlone: gzipSync(text, { level: 9 }).length,
    }))
    .sort((a, b) => b.bytes - a.bytes);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2);
  if (files.length === 0) files.push(path.join(root, 'dist', 'ws-file-upload.bundle.min.js'));
  for (const file of files) {
    const rows = await breakdown(path.resolve(file));
    const total = rows.reduce((sum, row) => sum + row.bytes, 0);
    console.log(`${path.relative(root, path.resolve(file))}: ${total} bytes minified`);
    for (const row of rows)
      console.log(
        `${String(row.bytes).padStart(7)} ${((100 * row.bytes) / total).toFixed(1).padStart(5)} %  gz ${String(row.gzipAlone).padStart(6)}  ${row.module}`,
      );
  }
}
