// The packed package in a real browser under React 19: an app written against `ws-file-upload/react`
// (fixtures/react/app.tsx, type-checked by packages.test.ts) is bundled from a consumer project that has the
// tarball installed, and uploads to the reference server in Chromium. Its `maxFileSize` prop must arrive as a
// property (a bigger file is refused, `onfile-rejected`), its `onsuccess` must fire, and the stored bytes must
// match. (test/e2e/interop.test.ts runs the same kind of page from dist/ in all three engines.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { launchE2eBrowser, randomBytes, sha256, type E2eBrowser } from '../e2e/harness.ts';
import { createUploadServer, type UploadServer } from '../../src/server/index.ts';
import { consumerProject, install, link, pack, repo } from './pack.ts';

describe('the packed package under React 19, in Chromium', () => {
  let scratch: string;
  let project: string;
  let store: string;
  let server: UploadServer;
  let browser: E2eBrowser;

  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'wsfu-react-pack-'));
    store = await mkdtemp(path.join(tmpdir(), 'wsfu-react-store-'));
    project = await consumerProject('wsfu-react-app-');
    const packed = await pack(scratch);
    await install(project, packed);
    // What `npm install` of the tarball would add: its own dependencies, then the app's.
    await link(project, [...Object.keys(packed.manifest.dependencies ?? {}), 'react', 'react-dom']);
    await cp(
      path.join(repo, 'test', 'packaging', 'fixtures', 'react', 'app.tsx'),
      path.join(project, 'src', 'app.tsx'),
    );
    const site = path.join(project, 'site');
    await build({
      absWorkingDir: project,
      entryPoints: ['src/app.tsx'],
      bundle: true,
      format: 'esm',
      outfile: path.join(site, 'app.js'),
      jsx: 'automatic',
      define: { 'process.env.NODE_ENV': '"production"' },
      logLevel: 'error',
    });
    await writeFile(
      path.join(site, 'index.html'),
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>react</title>' +
        '<script type="module" src="/app.js"></script></head><body><div id="root"></div></body></html>',
    );
    server = await createUploadServer({ dir: store, port: 0, staticDir: site });
    browser = await launchE2eBrowser('chromium');
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    for (const dir of [scratch, store, project]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sets maxFileSize as a property, fires onfile-rejected and onsuccess, and stores the bytes', async () => {
    const sources = path.join(project, 'files');
    const small = { name: 'small.bin', data: randomBytes(300_000, 17) };
    const big = { name: 'big.bin', data: randomBytes(1_200_000, 18) };
    await mkdir(sources, { recursive: true });
    for (const file of [small, big]) await writeFile(path.join(sources, file.name), file.data);

    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await page.waitFor(
      "document.querySelector('ws-file-upload')?.shadowRoot?.querySelector('input') != null",
    );
    assert.equal(
      await page.evaluate<number>("document.querySelector('ws-file-upload').maxFileSize"),
      1_000_000,
    );
    await page.setFiles(
      "document.querySelector('ws-file-upload').shadowRoot.querySelector('input[type=file]')",
      [small, big].map((file) => path.join(sources, file.name)),
    );
    await page.waitFor("document.querySelectorAll('#log li').length === 2", { timeout: 30_000 });
    const log = await page.evaluate<string[]>(
      "[...document.querySelectorAll('#log li')].map((li) => li.textContent)",
    );
    assert.deepEqual(log.sort(), ['rejected big.bin fileTooBig', 'success small.bin']);
    assert.equal(sha256(await readFile(path.join(store, small.name))), sha256(small.data));
    const errors = await page.errors();
    await page.close();
    assert.deepEqual(errors, []);
  });
});
