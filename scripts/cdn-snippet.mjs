// Writes README's pinned CDN snippet: the bundle's URL at this version and its Subresource Integrity hash
// (sha384 of dist/ws-file-upload.bundle.min.js, as browsers check it), with an import map holding the hashes
// of the chunks the bundle loads, between the cdn-snippet markers.
// Runs in `npm version` (package.json "version" script), so the released README names the released file.
// `--check` only reports whether README matches the current build (exit 1 when it does not); `prepublishOnly`
// runs it after a fresh build, so a package whose README pins another file is never published. Between
// releases the build moves on while README still pins the published file, so tests check only the version.
/* global console */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import process from 'node:process';
import { bundleFiles } from './package-sizes.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BEGIN = '<!-- cdn-snippet:begin (scripts/cdn-snippet.mjs writes this block) -->';
const END = '<!-- cdn-snippet:end -->';

/** `sha384-…` of a file's bytes, as browsers check it. */
const sriOf = (bytes) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;

/**
 * The snippet for the current build: `{ url, integrity, chunks, html }`. The bundle is an entry and the
 * chunks it loads with import() (scripts/package-sizes.mjs, bundleFiles); a script's `integrity` covers the
 * entry only, so the chunks' hashes go in an import map's `integrity` (Chromium 127+, Safari 18+,
 * Firefox 138+ check them; an older browser ignores that key and loads the chunks unchecked).
 */
export async function cdnSnippet() {
  const { name, version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  const dist = path.join(root, 'dist');
  const base = `https://unpkg.com/${name}@${version}/dist/`;
  const [entry, ...chunkFiles] = await bundleFiles(dist);
  const integrity = sriOf(await readFile(path.join(dist, entry.file)));
  const url = `${base}${entry.file}`;
  const chunks = [];
  for (const chunk of chunkFiles)
    chunks.push({
      url: `${base}${chunk.file}`,
      integrity: sriOf(await readFile(path.join(dist, chunk.file))),
    });
  // Laid out as prettier formats it, so that `npm run lint` passes on the rewritten README.
  const html = [
    '<script type="importmap">',
    '  {',
    '    "integrity": {',
    ...chunks.map(
      (chunk, i) => `      "${chunk.url}": "${chunk.integrity}"${i + 1 < chunks.length ? ',' : ''}`,
    ),
    '    }',
    '  }',
    '</script>',
    '<script',
    '  type="module"',
    `  src="${url}"`,
    `  integrity="${integrity}"`,
    '  crossorigin="anonymous"',
    '></script>',
  ].join('\n');
  return { url, integrity, chunks, html };
}

/** The snippet README holds now, or null when the markers are missing. */
export function readmeSnippet(readme) {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) return null;
  const block = readme.slice(start + BEGIN.length, end);
  const url = /src="([^"]+)"/.exec(block)?.[1] ?? null;
  const integrity = /integrity="([^"]+)"/.exec(block)?.[1] ?? null;
  const chunks = [...block.matchAll(/"(https:[^"]+)": "([^"]+)"/g)].map(([, url, hash]) => ({
    url,
    integrity: hash,
  }));
  return { url, integrity, chunks };
}

/** README with its snippet block replaced by `snippet` (markers kept), or null when the markers are missing. */
export function withSnippet(readme, snippet) {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) return null;
  const block = `\n\n\`\`\`html\n${snippet.html}\n\`\`\`\n\n`;
  return readme.slice(0, start + BEGIN.length) + block + readme.slice(end);
}

/** What differs between README's snippet and `snippet` (the build's), one sentence each; empty when it matches. */
export function snippetProblems(readme, snippet) {
  const current = readmeSnippet(readme);
  if (!current) return [`README.md has no ${BEGIN} … ${END} block`];
  const problems = [];
  if (current.url !== snippet.url)
    problems.push(`README's URL is ${current.url}, the build's is ${snippet.url}`);
  if (current.integrity !== snippet.integrity)
    problems.push(`README's integrity is ${current.integrity}, the build's is ${snippet.integrity}`);
  const listed = (chunks) => chunks.map((chunk) => `${chunk.url} ${chunk.integrity}`).join(', ') || 'none';
  if (listed(current.chunks) !== listed(snippet.chunks))
    problems.push(`README's chunks are ${listed(current.chunks)}, the build's are ${listed(snippet.chunks)}`);
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readmePath = path.join(root, 'README.md');
  const readme = await readFile(readmePath, 'utf8');
  const snippet = await cdnSnippet();
  if (process.argv.includes('--check')) {
    // Run by `prepublishOnly` after a fresh build: the README that ships must name the file that ships.
    const problems = snippetProblems(readme, snippet);
    for (const problem of problems) console.error(problem);
    if (problems.length > 0)
      console.error('run `node scripts/cdn-snippet.mjs` (or `npm version`) and commit README.md');
    else console.log('README CDN snippet matches the build');
    process.exit(problems.length === 0 ? 0 : 1);
  }
  const rewritten = withSnippet(readme, snippet);
  if (rewritten === null) {
    console.error(`README.md has no ${BEGIN} … ${END} block`);
    process.exit(1);
  }
  await writeFile(readmePath, rewritten);
  console.log(`README.md: ${snippet.url} ${snippet.integrity}, ${snippet.chunks.length} chunks`);
}
