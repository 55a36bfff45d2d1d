// <ws-file-upload> rendered by React 19 and by Vue 3 (each bundled from the npm build, `import 'ws-file-upload'`),
// uploading for real to the reference server: the frameworks must pass `auth` as a property (the server only
// accepts their tokens) and hear `progress`/`success` their own way. Needs `npm run build` first.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { ENGINES, launchE2eBrowser, type E2eBrowser } from './harness.ts';
import { createUploadServer, type UploadServer } from '../../src/server/index.ts';

const here = path.dirname(new URL(import.meta.url).pathname);

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('framework interop', () => {
  let site: string;
  let store: string;
  let sources: string;
  let server: UploadServer;
  const browsers = new Map<string, E2eBrowser>();
  const tokens: string[] = [];

  before(async () => {
    assert.ok(existsSync('dist/element/ws-file-upload.js'), 'run `npm run build` first');
    site = await mkdtemp(path.join(tmpdir(), 'wsfu-interop-site-'));
    store = await mkdtemp(path.join(tmpdir(), 'wsfu-interop-store-'));
    sources = await mkdtemp(path.join(tmpdir(), 'wsfu-interop-src-'));
    for (const [name, entry] of [
      ['react', 'react-page.jsx'],
      ['vue', 'vue-page.ts'],
    ] as const) {
      await build({
        entryPoints: [path.join(here, 'interop', entry)],
        bundle: true,
        format: 'esm',
        outfile: path.join(site, `${name}.js`),
        jsx: 'automatic',
        // The template is compiled in the browser, so Vue's full build (with the compiler) is needed.
        alias: { vue: 'vue/dist/vue.esm-bundler.js' },
        define: {
          'process.env.NODE_ENV': '"production"',
          __VUE_OPTIONS_API__: 'true',
          __VUE_PROD_DEVTOOLS__: 'false',
          __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
        },
        logLevel: 'error',
      });
      await writeFile(
        path.join(site, `${name}.html`),
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${name}</title>` +
          `<script type="module" src="/${name}.js"></script></head><body><div id="root"></div></body></html>`,
      );
    }
    server = await createUploadServer({
      dir: store,
      port: 0,
      staticDir: site,
      authenticate: (credentials) => {
        tokens.push(credentials.token ?? '');
        return credentials.token === 'react-token' || credentials.token === 'vue-token';
      },
    });
    for (const engine of ENGINES) browsers.set(engine, await launchE2eBrowser(engine));
  });

  after(async () => {
    for (const browser of browsers.values()) await browser.close();
    await server?.close();
    for (const dir of [site, store, sources]) await rm(dir, { recursive: true, force: true });
  });

  for (const engine of ENGINES)
    for (const framework of ['react', 'vue'] as const) {
      it(`renders the element from ${framework}, passes auth as a property and hears progress and success, in ${engine}`, async () => {
        const page = await browsers.get(engine)!.newPage();
        await page.goto(`http://127.0.0.1:${server.port}/${framework}.html`);
        await page.waitFor(
          "document.querySelector('ws-file-upload')?.shadowRoot?.querySelector('input') != null",
        );
        // Names per engine: every engine uploads into the same store.
        const files = [
          { name: `${framework}-${engine}-a.bin`, data: randomBytes(700_000) },
          { name: `${framework}-${engine}-b.bin`, data: randomBytes(12) },
        ];
        for (const file of files) await writeFile(path.join(sources, file.name), file.data);
        await page.setFiles(
          "document.querySelector('ws-file-upload').shadowRoot.querySelector('input[type=file]')",
          files.map((file) => path.join(sources, file.name)),
        );

        await page.waitFor("document.querySelectorAll('#stored li').length === 2", { timeout: 30_000 });
        const shown = await page.evaluate<string[]>(
          "[...document.querySelectorAll('#stored li')].map((item) => item.textContent).sort()",
        );
        assert.deepEqual(shown, files.map((file) => file.name).sort());
        const progressCount = Number(
          await page.evaluate<string>("document.querySelector('#progress-count').textContent"),
        );
        assert.ok(progressCount >= 2, `the framework heard ${progressCount} progress events`);
        for (const file of files) {
          assert.equal(sha256(await readFile(path.join(store, file.name))), sha256(file.data), file.name);
        }
        assert.ok(tokens.includes(`${framework}-token`), `the server saw tokens ${tokens.join(', ')}`);
        const errors = await page.errors();
        await page.close();
        assert.deepEqual(errors, []);
      });
    }
});
