import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ENGINES,
  engineSuite,
  openFixture,
  randomBytes,
  startE2eServer,
  storedHash,
  type E2ePage,
} from './harness.ts';

const CHUNK = 48 * 1024;

interface Result {
  name: string;
  size: number;
  sha256: string;
  ok: boolean;
  code?: string;
  loaded?: number;
  percentage?: number;
  stored?: { id: string; filename: string };
  events: [string, number, number][];
}

for (const engine of ENGINES)
  describe(`core → real server, in ${engine}`, () => {
    const suite = engineSuite(engine, () => [
      { name: 'empty.bin', data: Buffer.alloc(0) },
      { name: 'one.bin', data: randomBytes(1, 1) },
      { name: 'chunk-minus-one.bin', data: randomBytes(CHUNK - 1, 2) },
      { name: 'chunk.bin', data: randomBytes(CHUNK, 3) },
      { name: 'chunk-plus-one.bin', data: randomBytes(CHUNK + 1, 4) },
      { name: 'random-5mib.bin', data: randomBytes(5 * 1024 * 1024, 5) },
      { name: 'héllo wörld 日本 ✓.txt', data: Buffer.from('unicode name with spaces\n'.repeat(100)) },
    ]);

    const pick = (page: E2ePage, http: string) =>
      openFixture(
        page,
        `${http}/e2e/core.html`,
        suite.source.files.map((f) => f.path),
      );

    // v2 (offered, the default) in every combination; exact v1 (no offer in STOR) with both encodings.
    const cases = [
      ...(['base64', 'binary'] as const).flatMap((type) =>
        [false, true].map((withAuth) => ({ protocol: 'v2', type, withAuth })),
      ),
      ...(['base64', 'binary'] as const).map((type) => ({ protocol: 'v1', type, withAuth: false })),
    ];
    for (const { protocol, type, withAuth } of cases) {
      it(`uploads every file byte for byte (${protocol}, ${type}, ${withAuth ? 'with' : 'without'} AUTH)`, async () => {
        const env = await startE2eServer(
          withAuth ? { authenticate: ({ login, password }) => login === 'e2e' && password === 'pw' } : {},
        );
        const page = await suite.browser.newPage();
        try {
          await pick(page, env.http);
          const results = (await page.evaluate(
            `uploadPicked(${JSON.stringify({ url: env.url, type, chunkSize: CHUNK, offerV2: protocol === 'v2', ...(withAuth ? { login: 'e2e', password: 'pw' } : {}) })})`,
          )) as Result[];
          assert.equal(results.length, suite.source.files.length);
          for (const [i, result] of results.entries()) {
            const local = suite.source.files[i]!;
            assert.equal(result.ok, true, `${local.name}: ${result.code}`);
            assert.equal(result.name, local.name);
            assert.equal(result.sha256, local.sha256, `${local.name}: the browser read what is on disk`);
            assert.equal(result.loaded, local.size);
            assert.equal(result.percentage, 100);
            const stored = env.stored.find((s) => s.requestedName === local.name);
            assert.ok(stored, `${local.name} was stored`);
            // Under v2 the FIN answer names the stored file; an empty file completes on STOR, with no FIN.
            if (protocol === 'v2' && local.size > 0)
              assert.equal(result.stored?.filename, stored.filename, `${local.name}: name told`);
            assert.equal(
              await storedHash(env.dir, stored.filename),
              local.sha256,
              `${local.name}: stored bytes`,
            );
            const loads = result.events.map((e) => e[1]);
            assert.deepEqual(
              loads,
              [...loads].sort((a, b) => a - b),
              'progress only grows',
            );
          }
          assert.equal(env.stored.length, suite.source.files.length);
          await assertReadPath(page);
        } finally {
          await page.close();
          await env.stop();
        }
      });
    }

    /**
     * The read path the engine allows ran: a BYOB reader over Blob.stream() where the engine has one, the default
     * reader with a copy where it does not (WebKit has no ReadableStreamBYOBReader), and the bytes were right.
     */
    async function assertReadPath(page: E2ePage): Promise<void> {
      const readers = await page.evaluate<{ byob: number; default: number }>('window.readers');
      const hasByob = await page.evaluate<boolean>("typeof ReadableStreamBYOBReader === 'function'");
      if (engine === 'webkit')
        assert.equal(hasByob, false, 'WebKitGTK gained ReadableStreamBYOBReader: update the README table');
      if (hasByob) assert.ok(readers.byob > 0, `BYOB reader used (${JSON.stringify(readers)})`);
      else
        assert.deepEqual(
          [readers.byob, readers.default > 0],
          [0, true],
          `fallback reader used (${JSON.stringify(readers)})`,
        );
    }

    it('reports authRejected and stores nothing when the password is wrong', async () => {
      const env = await startE2eServer({ authenticate: ({ password }) => password === 'right' });
      const page = await suite.browser.newPage();
      try {
        await pick(page, env.http);
        const results = (await page.evaluate(
          `uploadPicked(${JSON.stringify({ url: env.url, type: 'binary', login: 'x', password: 'wrong' })})`,
        )) as Result[];
        for (const result of results) {
          assert.equal(result.ok, false);
          assert.equal(result.code, 'authRejected');
        }
        assert.equal(env.stored.length, 0);
      } finally {
        await page.close();
        await env.stop();
      }
    });
  });
