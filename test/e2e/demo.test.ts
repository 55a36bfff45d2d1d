// The demo page in each engine against the real server: files picked and dropped on <ws-file-upload> (the
// CDN bundle) must land on disk byte for byte. Needs `npm run build` first (test:e2e does it).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  call,
  engineSuite,
  ENGINES,
  randomBytes,
  startE2eServer,
  storedHash,
  type E2ePage,
  type E2eServer,
} from './harness.ts';

/**
 * Waits until every item of the demo's element is complete and every bar says 100. The list renders only the
 * rows in view, so the bars are checked at the top of the list and again scrolled to its end.
 */
async function untilAllUploaded(page: E2ePage, count: number): Promise<void> {
  for (const end of [false, true]) {
    await page.waitFor(
      call(
        (expected: number, atEnd: boolean) => {
          const el = document.querySelector('ws-file-upload')!;
          const viewport = el.shadowRoot!.querySelector<HTMLElement>('[part~="file-list-viewport"]');
          if (atEnd && viewport) viewport.scrollTop = viewport.scrollHeight;
          const rows = [...el.shadowRoot!.querySelectorAll('[part~="file"]')];
          const bars = [...el.shadowRoot!.querySelectorAll('[part~="progress"]')];
          const positions = rows.map((row) => Number(row.getAttribute('aria-posinset')));
          return (
            el.items.length === expected &&
            el.items.every((item) => item.status === 'complete') &&
            bars.length === rows.length &&
            rows.every((row) => row.getAttribute('aria-setsize') === String(expected)) &&
            positions.includes(atEnd ? expected : 1) &&
            bars.every((bar) => bar.getAttribute('aria-valuenow') === '100')
          );
        },
        count,
        end,
      ),
      { timeout: 30_000, polling: 50 },
    );
  }
}

const PICKER = "document.querySelector('ws-file-upload').shadowRoot.querySelector('input[type=file]')";

for (const engine of ENGINES)
  describe(`demo page (CDN bundle) with the reference server, in ${engine}`, () => {
    let env: E2eServer;
    let page: E2ePage;

    before(async () => {
      assert.ok(existsSync('dist/ws-file-upload.bundle.min.js'), 'run `npm run build` first');
      env = await startE2eServer();
    });
    after(() => env?.stop());
    const suite = engineSuite(engine, () => [
      { name: 'picked-small.txt', data: randomBytes(5, 61) },
      { name: 'picked-medium.bin', data: randomBytes(300_000, 62) },
      { name: 'picked-large.bin', data: randomBytes(2_500_000, 63) },
    ]);

    it('uploads picked files and stores them byte for byte', async () => {
      page = await suite.browser.newPage();
      await page.goto(`${env.http}/`);
      await page.waitFor("customElements.get('ws-file-upload') !== undefined");
      const files = suite.source.files;
      await page.setFiles(
        PICKER,
        files.map((file) => file.path),
      );

      await untilAllUploaded(page, files.length);
      for (const file of files) assert.equal(await storedHash(env.dir, file.name), file.sha256, file.name);

      // The same name again: the server stores it beside the first, and the form value says under which name.
      await page.setFiles(PICKER, [files[0]!.path]);
      await untilAllUploaded(page, files.length + 1);
      const value = await page.evaluate<string[]>("document.querySelector('ws-file-upload').value");
      assert.deepEqual([...value].sort(), [...files.map((f) => f.name), 'picked-small (1).txt'].sort());
      assert.equal(await storedHash(env.dir, 'picked-small (1).txt'), files[0]!.sha256);
      await page.close();
    });

    it('uploads ten dropped files and stores them byte for byte', async () => {
      page = await suite.browser.newPage();
      await page.goto(`${env.http}/`);
      await page.waitFor("customElements.get('ws-file-upload') !== undefined");
      const sent = await page.evaluate<{ name: string; sha: string }[]>(
        call(async () => {
          // No named helper functions in here: tsx wraps them in a `__name` call the page does not have.
          const dataTransfer = new DataTransfer();
          const out: { name: string; sha: string }[] = [];
          for (let i = 0; i < 10; i++) {
            const bytes = new Uint8Array(1000 + i * 150_000);
            // getRandomValues fills at most 64 KiB per call.
            for (let offset = 0; offset < bytes.length; offset += 65_536) {
              crypto.getRandomValues(bytes.subarray(offset, offset + 65_536));
            }
            const name = `dropped-${i}.bin`;
            dataTransfer.items.add(new File([bytes], name));
            const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
            out.push({ name, sha: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') });
          }
          const zone = document
            .querySelector('ws-file-upload')!
            .shadowRoot!.querySelector('[part~="drop-zone"]')!;
          const init = { dataTransfer, bubbles: true, cancelable: true, composed: true };
          zone.dispatchEvent(new DragEvent('dragover', init));
          zone.dispatchEvent(new DragEvent('drop', init));
          return out;
        }),
      );

      await untilAllUploaded(page, 10);
      for (const file of sent) assert.equal(await storedHash(env.dir, file.name), file.sha, file.name);
      await page.close();
    });
  });
