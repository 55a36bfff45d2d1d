// What an adopter downloads, against the budgets README states: printed on every `npm test`, failing past a
// budget. And README's pinned CDN snippet: well-formed, at this version (its hash is rewritten by
// `npm version`, scripts/cdn-snippet.mjs). Needs `npm run build` first.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BUDGETS, measure, report } from '../../scripts/package-sizes.mjs';
import { cdnSnippet, readmeSnippet } from '../../scripts/cdn-snippet.mjs';
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
      `bundle ${sizes.bundleGzip} B > budget ${BUDGETS.bundleGzip} B`,
    );
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
});
