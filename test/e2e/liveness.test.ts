// Client-side dead-peer detection in each engine (issue 15): <ws-file-upload> (the CDN bundle) uploads through
// a TCP proxy that black-holes the open connection mid-upload (bytes swallowed both ways, no FIN, no RST),
// while new connections pass. A page cannot ping, so it notices from the server's keep-alive messages
// stopping (`alive`, 200 ms here) within the documented bound of 2 × alive + 1 s — its answer timeout is set
// to a minute, and the server's own heartbeat far off, so nothing else could have noticed — and resumes on
// one new connection, which takes the stale hold over at once. The stored file is compared by SHA-256.
// Needs `npm run build`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { silenceBound } from '../../src/core/liveness.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { eventually } from '../server/peer.ts';
import {
  ENGINES,
  launchE2eBrowser,
  randomBytes,
  startE2eServer,
  storedHash,
  writeFiles,
  type E2eBrowser,
} from './harness.ts';

const MIB = 1024 * 1024;
const EL = "document.querySelector('ws-file-upload')";
const ALIVE = 200;
const ANSWER_TIMEOUT = 60_000;
/** Timers of a loaded machine (and a page's) fire late; this much beyond the bound is still the bound. */
const TIMER_SLACK = 5000;

for (const engine of ENGINES)
  describe(`a black-holed connection under <ws-file-upload> in ${engine}`, () => {
    let browser: E2eBrowser;
    let source: Awaited<ReturnType<typeof writeFiles>>;

    before(async () => {
      assert.ok(existsSync('dist/ws-file-upload.bundle.min.js'), 'run `npm run build` first');
      browser = await launchE2eBrowser(engine);
      source = await writeFiles([{ name: 'silent.bin', data: randomBytes(24 * MIB + 5, 61) }]);
    });
    after(async () => {
      await browser?.close();
      await source?.remove();
    });

    it('is noticed within 2 × alive + 1 s, and the upload resumes to an identical file', async (t) => {
      const env = await startE2eServer({ aliveInterval: ALIVE, heartbeatInterval: 600_000 });
      const proxy = await TcpProxy.start(env.server.port);
      const page = await browser.newPage();
      try {
        await page.goto(`${env.http}/e2e/pause.html`);
        await page.waitFor('window.ready === true', { timeout: 10_000 });
        const url = `ws://127.0.0.1:${proxy.port}${new URL(env.url).pathname}`;
        // Small chunks and window, so that the file takes long enough for the black hole to land mid-upload.
        const options = { url, v2ChunkSize: 65536, window: 2, answerTimeout: ANSWER_TIMEOUT };
        await page.evaluate(`Object.assign(${EL}, ${JSON.stringify(options)}), null`);
        const past = page.evaluate<number>(`new Promise((resolve) => {
          const el = ${EL};
          const onProgress = (event) => {
            if (event.detail.loaded < ${4 * MIB}) return;
            el.removeEventListener('progress', onProgress);
            resolve(event.detail.loaded);
          };
          el.addEventListener('progress', onProgress);
        })`);
        await page.setFiles(`${EL}.shadowRoot.querySelector('input[type=file]')`, [source.files[0]!.path]);
        await past;
        proxy.blackholeOpen();
        const silencedAt = performance.now();
        await eventually(() => proxy.connections === 2, 'the page to reconnect', ANSWER_TIMEOUT / 2);
        const noticed = performance.now() - silencedAt;
        const bound = silenceBound(ALIVE);
        assert.ok(
          noticed < bound + TIMER_SLACK,
          `noticed after ${noticed.toFixed(0)} ms: within the ${bound} ms bound, not the answer timeout`,
        );
        await page.waitFor(`${EL}.items[0].status === 'complete'`, { timeout: 120_000, polling: 50 });
        assert.ok(proxy.swallowed > 0, 'traffic went into the black hole');
        assert.equal(proxy.connections, 2, 'resumed on one new connection: the takeover was at once');
        assert.deepEqual(await page.evaluate('window.events'), ['success']);
        assert.equal(env.stored.length, 1);
        assert.equal(await storedHash(env.dir, env.stored[0]!.filename), source.files[0]!.sha256);
        assert.deepEqual(await page.errors(), []);
        t.diagnostic(`the black hole was noticed after ${Math.round(noticed)} ms (bound ${bound} ms)`);
      } finally {
        await page.close();
        await proxy.close();
        await env.stop();
      }
    });
  });
