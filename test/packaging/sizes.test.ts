// What an adopter downloads, against the budgets README states: printed on every `npm test`, failing past a
// budget (the CDN bundle's entry alone, and with the chunks it loads). And README's pinned CDN snippet: well-formed, at this version (its hash is rewritten by
// `npm version`, scripts/cdn-snippet.mjs, and checked against a fresh build by `prepublishOnly`, as the
// last test here makes sure). Needs `npm run build` first.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { breakdown } from '../../scripts/bundle-breakdown.mjs';
import { BUDGETS, measure, report } from '../../scripts/package-sizes.mjs';
import { cdnSnippet, readmeSnippet, snippetProblems, withSnippet } from '../../scripts/cdn-snippet.mjs';
import { repo } from './pack.ts';

describe('size budget', () => {
  it('the tarball and the CDN bundle (min+gzip) stay within the budgets README states', async (t) => {
    const sizes = await measure();
    for (const line of report(sizes)) {
      console.log(line);
      t.diagnostic(line);
    }
    const readme = await readFile(path.join(repo, 'README.md'), 'utf8');
    for (const budget of Object.values(BUDGETS)) {
      assert.ok(readme.includes(`${budget / 1000} kB`), `README states the ${budget / 1000} kB budget`);
    }
    assert.ok(sizes.tarball <= BUDGETS.tarball, `tarball ${sizes.tarball} B > budget ${BUDGETS.tarball} B`);
    assert.ok(
      sizes.bundleGzip <= BUDGETS.bundleGzip,
      `bundle entry ${sizes.bundleGzip} B > budget ${BUDGETS.bundleGzip} B`,
    );
    assert.ok(
      sizes.bundleTotalGzip <= BUDGETS.bundleTotalGzip,
      `bundle entry + chunks ${sizes.bundleTotalGzip} B > budget ${BUDGETS.bundleTotalGzip} B`,
    );
  });

  it('the CDN entry reaches its chunks by paths relative to itself, each built and in the package', async () => {
    const sizes = await measure();
    const names = sizes.chunks.map((chunk) => chunk.file.replace(/-[\w-]{8}\.min\.js$/, ''));
    // The code that sends files, the list and its rows, the folder walk: what the element loads with import().
    assert.deepEqual([...names].sort(), [
      'ws-file-upload.folder-walk',
      'ws-file-upload.list-view',
      'ws-file-upload.queue-transfer',
    ]);
    const { files } = JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8'));
    assert.ok(files.includes('dist'), 'the chunks ship beside the entry, in dist/');
  });

  it('charges every byte of the entry to a module: the element is in it, the code that sends files is not', async () => {
    const entry = path.join(repo, 'dist', 'ws-file-upload.bundle.min.js');
    const rows = await breakdown(entry);
    const code = await readFile(entry, 'utf8');
    const newlines = code.split('\n').length - 1;
    assert.equal(rows.reduce((sum, row) => sum + row.bytes, 0) + newlines, Buffer.byteLength(code));
    const modules = rows.map((row) => row.module);
    assert.ok(modules.includes('dist/element/ws-file-upload.component.js'), modules.join(', '));
    assert.ok(modules.includes('node_modules/lit-html/lit-html.js'));
    for (const chunked of ['dist/core/web-socket-file-transfer.js', 'dist/element/file-row.js'])
      assert.ok(!modules.includes(chunked), `${chunked} is in a chunk, not in the entry`);
  });

  it('README pins the CDN bundle at this version with a sha384 integrity hash', async (t) => {
    const readme = await readFile(path.join(repo, 'README.md'), 'utf8');
    const pinned = readmeSnippet(readme);
    assert.ok(pinned, 'README has the cdn-snippet block');
    const built = await cdnSnippet();
    assert.equal(pinned.url, built.url, 'the URL names this version');
    assert.match(pinned.integrity ?? '', /^sha384-[A-Za-z0-9+/]{64}$/);
    // Until the release the build moves on; `npm version` rewrites the hash for the file that ships.
    if (pinned.integrity !== built.integrity)
      t.diagnostic(`README's hash is not the current build's (${built.integrity})`);
  });

  it("the release check refuses a README whose snippet is not the build's, and `npm publish` runs it", async () => {
    const readme = await readFile(path.join(repo, 'README.md'), 'utf8');
    const built = await cdnSnippet();
    const rewritten = withSnippet(readme, built);
    assert.ok(rewritten, 'README has the cdn-snippet block');
    assert.deepEqual(snippetProblems(rewritten, built), [], 'a README just rewritten passes');
    assert.equal(withSnippet(rewritten, built), rewritten, 'rewriting twice changes nothing');

    const otherHash = rewritten.replace(built.integrity, `sha384-${'A'.repeat(64)}`);
    assert.match(
      snippetProblems(otherHash, built).join('\n'),
      /integrity is sha384-A+, the build's is sha384-/,
    );
    const [chunk] = built.chunks;
    assert.ok(chunk, 'the build has chunks to pin');
    const otherChunk = rewritten.replace(chunk.integrity, `sha384-${'B'.repeat(64)}`);
    assert.match(snippetProblems(otherChunk, built).join('\n'), /chunks are .*sha384-B+/);
    const otherVersion = rewritten.replace(built.url, built.url.replace(/@[^/]+\//, '@0.0.0-old/'));
    assert.match(snippetProblems(otherVersion, built).join('\n'), /URL is .*@0\.0\.0-old\//);
    assert.match(snippetProblems('# no block', built).join('\n'), /no .*cdn-snippet:begin/);

    const { scripts } = JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8'));
    // prepublishOnly runs before prepack, so it builds first to hash the bundle that is about to ship.
    assert.match(scripts.prepublishOnly, /npm run build && node scripts\/cdn-snippet\.mjs --check/);
  });
});
