// Writes README's pinned CDN snippet: the bundle's URL at this version and its Subresource Integrity hash
// (sha384 of dist/ws-file-upload.bundle.min.js, as browsers check it), between the cdn-snippet markers.
// Runs in `npm version` (package.json "version" script), so the released README names the released file.
// `--check` only reports whether README matches the current build (exit 1 when it does not).
/* global console */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import process from 'node:process';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BEGIN = '<!-- cdn-snippet:begin (scripts/cdn-snippet.mjs writes this block) -->';
const END = '<!-- cdn-snippet:end -->';

/** The snippet for the current build: `{ url, integrity, html }`. */
export async function cdnSnippet() {
  const { name, version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  const bundle = await readFile(path.join(root, 'dist', 'ws-file-upload.bundle.min.js'));
  const integrity = `sha384-${createHash('sha384').update(bundle).digest('base64')}`;
  const url = `https://unpkg.com/${name}@${version}/dist/ws-file-upload.bundle.min.js`;
  // Laid out as prettier formats it, so that `npm run lint` passes on the rewritten README.
  const html = [
    '<script',
    '  type="module"',
    `  src="${url}"`,
    `  integrity="${integrity}"`,
    '  crossorigin="anonymous"',
    '></script>',
  ].join('\n');
  return { url, integrity, html };
}

/** The snippet README holds now, or null when the markers are missing. */
export function readmeSnippet(readme) {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) return null;
  const block = readme.slice(start + BEGIN.length, end);
  const url = /src="([^"]+)"/.exec(block)?.[1] ?? null;
  const integrity = /integrity="([^"]+)"/.exec(block)?.[1] ?? null;
  return { url, integrity };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readmePath = path.join(root, 'README.md');
  const readme = await readFile(readmePath, 'utf8');
  const snippet = await cdnSnippet();
  const current = readmeSnippet(readme);
  if (!current) {
    console.error(`README.md has no ${BEGIN} … ${END} block`);
    process.exit(1);
  }
  if (process.argv.includes('--check')) {
    const same = current.url === snippet.url && current.integrity === snippet.integrity;
    console.log(
      same ? 'README CDN snippet matches the build' : `README CDN snippet is stale: ${snippet.integrity}`,
    );
    process.exit(same ? 0 : 1);
  }
  const start = readme.indexOf(BEGIN) + BEGIN.length;
  const end = readme.indexOf(END);
  const block = `\n\n\`\`\`html\n${snippet.html}\n\`\`\`\n\n`;
  await writeFile(readmePath, readme.slice(0, start) + block + readme.slice(end));
  console.log(`README.md: ${snippet.url} ${snippet.integrity}`);
}
