// Pause and resume of <ws-file-upload> (the CDN bundle) in each engine against the real server: the row's
// pause button mid-upload, 5 s during which no byte moves (the server's partial file does not grow and no
// connection opens), then its resume button; the stored file is identical by SHA-256. Needs `npm run build`.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { ENGINES, engineSuite, randomBytes, startE2eServer, storedHash } from './harness.ts';
import { partialBytes } from '../server/peer.ts';

const MIB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const EL = "document.querySelector('ws-file-upload')";

for (const engine of ENGINES)
  describe(`pause and resume of <ws-file-upload> in ${engine}`, () => {
    before(() => {
      assert.ok(existsSync('dist/ws-file-upload.bundle.min.js'), 'run `npm run build` first');
    });
    const suite = engineSuite(engine, () => [{ name: 'pause.bin', data: randomBytes(40 * MIB + 11, 51) }]);

    it('pauses for 5 s mid-upload with nothing moving, then resumes to an identical file', async (t) => {
      const env = await startE2eServer();
      let connections = 0;
      env.server.on('connection', () => (connections += 1));
      const page = await suite.browser.newPage();
      try {
        await page.goto(`${env.http}/e2e/pause.html`);
        await page.waitFor('window.ready === true', { timeout: 10_000 });
        // Small chunks and window, so that 40 MiB take long enough for the click to land mid-upload.
        await page.evaluate(
          `Object.assign(${EL}, { url: ${JSON.stringify(env.url)}, v2ChunkSize: 65536, window: 2 }), null`,
        );
        const paused = page.evaluate<number>(`pauseAt(${4 * MIB})`);
        await page.setFiles(`${EL}.shadowRoot.querySelector('input[type=file]')`, [
          suite.source.files[0]!.path,
        ]);
        const pausedAt = await paused;
        await page.waitFor(`${EL}.items[0].status === 'paused'`, { timeout: 10_000 });
        await page.waitFor(`${EL}.shadowRoot.querySelector('[part~="resume-button"]') !== null`);
        // Chunks already on the wire may still be written in the first moment; from then on, nothing moves.
        await sleep(500);
        const held = await partialBytes(env.dir);
        const connectionsAtPause = connections;
        assert.ok(held >= pausedAt && held < suite.source.files[0]!.size, `the server holds ${held} bytes`);
        await sleep(5000);
        assert.equal(await partialBytes(env.dir), held, 'no byte reached the server while paused');
        assert.equal(connections, connectionsAtPause, 'no connection opened while paused');
        assert.equal(env.stored.length, 0);
        assert.equal(await page.evaluate(`${EL}.items[0].status`), 'paused');

        await page.evaluate('resumeClick(), null');
        await page.waitFor(`${EL}.items[0].status === 'complete'`, { timeout: 60_000, polling: 50 });
        assert.equal(connections, connectionsAtPause + 1, 'resumed on one new connection');
        assert.deepEqual(await page.evaluate('window.events'), ['pause', 'resume', 'success']);
        assert.equal(env.stored.length, 1);
        assert.equal(await storedHash(env.dir, env.stored[0]!.filename), suite.source.files[0]!.sha256);
        assert.deepEqual(await page.errors(), []);
        t.diagnostic(
          `resume click → first acknowledgement: ${Math.round(await page.evaluate<number>('window.resumeLatency'))} ms`,
        );
      } finally {
        await page.close();
        await env.stop();
      }
    });
  });
