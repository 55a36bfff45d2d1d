// Folders and paste in <ws-file-upload> (the CDN bundle) in real Chromium against the real server (issue 14):
// a folder of three levels picked with `directory` (CDP sets the folder on the `webkitdirectory` input, as a
// user choosing it would), a folder dropped on the drop zone (a CDP drag whose data is the folder), and a
// pasted file. Each must land as the same tree on disk, every file identical by SHA-256. Chromium only: the
// other engines' drivers cannot pick or drag a folder. Needs `npm run build` first (test:e2e does it).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { launchBrowser, randomBytes, sha256, startE2eServer, type E2eServer } from './harness.ts';

/** Three levels: top/, top/mid/, top/mid/low/, with files of several sizes (one over a chunk). */
const TREE: Record<string, number> = {
  'top/readme.txt': 120,
  'top/a.bin': 70_000,
  'top/mid/b.bin': 300_000,
  'top/mid/c.txt': 1,
  'top/mid/low/d.bin': 1_200_000,
  'top/mid/low/e.txt': 0,
};

/** Writes the tree under a fresh folder; returns the folder and each file's SHA-256 by relative path. */
async function writeTree(seed: number): Promise<{ root: string; hashes: Record<string, string> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'wsfu-tree-'));
  const hashes: Record<string, string> = {};
  let n = seed;
  for (const [relative, size] of Object.entries(TREE)) {
    const data = randomBytes(size, n++);
    await mkdir(path.dirname(path.join(root, relative)), { recursive: true });
    await writeFile(path.join(root, relative), data);
    hashes[relative] = sha256(data);
  }
  return { root, hashes };
}

/** Every stored file under `dir` (the partial folder left out) with its SHA-256, by relative path. */
async function storedTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const relative = path.relative(dir, full).split(path.sep).join('/');
    if (!relative.startsWith('.partial/')) out[relative] = sha256(await readFile(full));
  }
  return out;
}

/** Waits until the element holds `count` items, all complete; returns what it shows and knows of them. */
async function untilComplete(page: Page, count: number) {
  await page.waitForFunction(
    (expected: number) => {
      const el = document.querySelector('ws-file-upload') as unknown as {
        items: { status: string }[];
      };
      return el.items.length === expected && el.items.every((item) => item.status === 'complete');
    },
    { timeout: 30_000, polling: 50 },
    count,
  );
  return page.evaluate(() => {
    const el = document.querySelector('ws-file-upload') as unknown as {
      items: { path: string; storedAs: string | null; file: File }[];
      shadowRoot: ShadowRoot;
    };
    return {
      items: el.items.map((item) => ({ path: item.path, storedAs: item.storedAs, name: item.file.name })),
      paths: [...el.shadowRoot.querySelectorAll('[part~="file-path"]')].map((p) => p.textContent),
    };
  });
}

describe('folders and paste with the element, in Chromium', () => {
  let browser: Browser;
  let server: E2eServer;
  const cleanups: string[] = [];

  before(async () => {
    assert.ok(existsSync('dist/ws-file-upload.bundle.min.js'), 'run `npm run build` first');
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const dir of cleanups) await rm(dir, { recursive: true, force: true });
  });

  async function open(attributes = ''): Promise<Page> {
    server = await startE2eServer();
    const page = await browser.newPage();
    await page.goto(`${server.http}/e2e/element.html`);
    await page.waitForFunction('window.ready === true');
    if (attributes) {
      await page.evaluate((names: string) => {
        const el = document.querySelector('ws-file-upload')!;
        for (const name of names.split(' ')) el.setAttribute(name, '');
      }, attributes);
    }
    return page;
  }

  it('a picked folder of three levels → the same tree on disk, identical files', async () => {
    const { root, hashes } = await writeTree(1);
    cleanups.push(root);
    const page = await open('directory');
    try {
      await page.waitForFunction(
        () =>
          document.querySelector('ws-file-upload')!.shadowRoot!.querySelector('input[webkitdirectory]') !==
          null,
      );
      const input = await page.evaluateHandle(() =>
        document.querySelector('ws-file-upload')!.shadowRoot!.querySelector('input[type=file]')!,
      );
      await (input.asElement() as import('puppeteer-core').ElementHandle<HTMLInputElement>).uploadFile(
        path.join(root, 'top'),
      );
      const shown = await untilComplete(page, Object.keys(TREE).length);
      assert.deepEqual(await storedTree(server.dir), hashes);
      const byName = Object.fromEntries(shown.items.map((item) => [item.name, item]));
      for (const relative of Object.keys(TREE)) {
        const item = byName[path.basename(relative)]!;
        assert.equal(item.path, path.dirname(relative), `${relative}: its folder`);
        assert.equal(item.storedAs, relative, `${relative}: the stored path the FIN answer gave`);
      }
      assert.ok(shown.paths.includes('top/mid/low/'), 'rows show the folder');
    } finally {
      await page.close();
      await server.stop();
    }
  });

  it('a dropped folder of three levels → the same tree on disk, identical files', async () => {
    const { root, hashes } = await writeTree(20);
    cleanups.push(root);
    const page = await open();
    try {
      const zone = await page.evaluateHandle(() =>
        document.querySelector('ws-file-upload')!.shadowRoot!.querySelector('[part~="drop-zone"]')!,
      );
      const box = (await (zone.asElement() as import('puppeteer-core').ElementHandle).boundingBox())!;
      const point = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
      const data = { items: [], files: [path.join(root, 'top')], dragOperationsMask: 1 };
      const cdp = await page.createCDPSession();
      for (const type of ['dragEnter', 'dragOver', 'drop'] as const) {
        await cdp.send('Input.dispatchDragEvent', { type, ...point, data });
      }
      const shown = await untilComplete(page, Object.keys(TREE).length);
      assert.deepEqual(await storedTree(server.dir), hashes);
      assert.ok(
        shown.items.every((item) => item.storedAs === `${item.path}/${item.name}`),
        JSON.stringify(shown.items),
      );
    } finally {
      await page.close();
      await server.stop();
    }
  });

  it('a pasted file → stored, identical', async () => {
    const page = await open();
    try {
      const sent = await page.evaluate(async () => {
        const bytes = new Uint8Array(200_000);
        for (let at = 0; at < bytes.length; at += 65_536)
          crypto.getRandomValues(bytes.subarray(at, at + 65_536));
        const data = new DataTransfer();
        data.items.add(new File([bytes], 'pasted.bin'));
        const button = document
          .querySelector('ws-file-upload')!
          .shadowRoot!.querySelector('[part~="button"]')!;
        (button as HTMLElement).focus();
        button.dispatchEvent(
          new ClipboardEvent('paste', {
            clipboardData: data,
            bubbles: true,
            composed: true,
            cancelable: true,
          }),
        );
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
        return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
      });
      await untilComplete(page, 1);
      assert.deepEqual(await storedTree(server.dir), { 'pasted.bin': sent });
    } finally {
      await page.close();
      await server.stop();
    }
  });
});
