// Block integrity (sha256-blocks) in each engine against the real server, through a TCP proxy: a byte
// flipped in transit is detected, only its block is sent again (on the same connection) and the stored file
// is identical; a resume after a cut in the middle of a block verifies; without WebCrypto the upload warns
// and is not verified. The stored bytes are compared by SHA-256 with the file on disk.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TcpProxyOptions } from '../helpers/tcp-proxy.ts';
import { ENGINES, engineSuite, randomBytes, storedHash, uploadThroughProxy } from './harness.ts';

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
  warnings?: string[];
  stored?: { id: string; filename: string };
}

const MIB = 1024 * 1024;
const SIZE = 10 * MIB + 7;

for (const engine of ENGINES)
  describe(`block integrity in ${engine}`, () => {
    const suite = engineSuite(engine, () => [{ name: 'blocks.bin', data: randomBytes(SIZE, 51) }]);

    async function uploadThrough(proxy: TcpProxyOptions, settings = {}) {
      const file = suite.source.files[0]!.path;
      const run = await uploadThroughProxy<Outcome, string | undefined>(suite.browser, file, {
        proxy,
        settings,
        inspect: async (env) => (env.stored[0] ? storedHash(env.dir, env.stored[0].filename) : undefined),
      });
      return { ...run, hash: run.extra };
    }

    it('detects a byte flipped in transit, sends only its block again, and stores the file intact', async () => {
      const clean = await uploadThrough({});
      assert.equal(clean.outcome.ok, true, clean.outcome.message);
      // Block 1 (bytes 4 MiB to 8 MiB) is damaged on the way.
      const flipped = await uploadThrough({ flipAt: 5 * MIB + 4321 });
      assert.equal(flipped.outcome.ok, true, flipped.outcome.message);
      assert.equal(flipped.connections, 1, 'no reconnection: the block was asked for on the same connection');
      const extra = flipped.upstream - clean.upstream;
      assert.ok(extra >= 4 * MIB && extra < 4 * MIB + 64 * 1024, `${extra} bytes more than a clean upload`);
      assert.equal(flipped.hash, suite.source.files[0]!.sha256);
      assert.deepEqual(flipped.outcome.warnings, []);
    });

    it('verifies a resume after a cut in the middle of a block', async () => {
      const cut = await uploadThrough({ cutAt: [6 * MIB + 999] });
      assert.equal(cut.outcome.ok, true, cut.outcome.message);
      assert.ok(cut.connections >= 2, `${cut.connections} connections`);
      assert.equal(cut.hash, suite.source.files[0]!.sha256);
    });

    it('verifies chunks that straddle blocks (300 KiB chunks, 4 MiB blocks), through a cut and a flip', async () => {
      const odd = await uploadThrough(
        { cutAt: [5 * MIB + 77], flipAt: 8 * MIB + 99 },
        { v2ChunkSize: 300 * 1024 },
      );
      assert.equal(odd.outcome.ok, true, odd.outcome.message);
      assert.equal(odd.hash, suite.source.files[0]!.sha256);
    });

    it('warns and uploads unverified where WebCrypto is missing', async () => {
      const plain = await uploadThrough({}, { noWebCrypto: true });
      assert.equal(plain.outcome.ok, true, plain.outcome.message);
      assert.deepEqual(plain.outcome.warnings, ['integrityUnavailable']);
      assert.equal(plain.hash, suite.source.files[0]!.sha256);
    });
  });
