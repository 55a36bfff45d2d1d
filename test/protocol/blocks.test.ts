// Block integrity's wire forms and the content hash, with the known vectors docs/protocol.md gives.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  BlockLayout,
  contentHashInput,
  DEFAULT_BLOCK,
  formatAnswer,
  formatBlk,
  formatContentHash,
  formatSum,
  grantTerms,
  parseAnswer,
  parseCommand,
  readGrant,
  readOffer,
} from '../../src/protocol/index.ts';

const sha256 = (data: Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest());

/** The content hash of `data` as docs/protocol.md defines it, computed here with node:crypto. */
function contentHash(data: Uint8Array, block: number): string {
  const layout = new BlockLayout(data.length, block);
  const digests = [];
  for (let i = 0; i < layout.count; i++) digests.push(sha256(data.subarray(layout.start(i), layout.end(i))));
  return formatContentHash(sha256(contentHashInput(digests)));
}

describe('sha256-blocks content hash', () => {
  it('matches the known vectors of docs/protocol.md', () => {
    // 10 MiB of i mod 251: blocks of 4, 4 and 2 MiB.
    const ramp = new Uint8Array(10 * 1024 * 1024).map((_, i) => i % 251);
    assert.equal(
      contentHash(ramp, DEFAULT_BLOCK),
      'sha256-blocks:mxaBUvN6Gywz2bJspKZ51fmfhPjAcP06RJHVLL/pavQ=',
    );
    // One block: SHA-256 of the block's SHA-256.
    const abc = new TextEncoder().encode('abc');
    assert.equal(
      contentHash(abc, DEFAULT_BLOCK),
      'sha256-blocks:T4tCwi3TcptRm6b2jS2nzFstYG0F2u1a1RKMwD5sY1g=',
    );
    // No block at all: SHA-256 of nothing.
    assert.equal(
      contentHash(new Uint8Array(0), DEFAULT_BLOCK),
      'sha256-blocks:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
    );
  });

  it('cuts a file into blocks of the granted size, the last one shorter', () => {
    const layout = new BlockLayout(10, 4);
    assert.deepEqual([layout.count, layout.start(2), layout.end(2), layout.indexOf(7)], [3, 8, 10, 1]);
    assert.equal(new BlockLayout(0, 4).count, 0);
  });
});

describe('SUM and BLK', () => {
  const digest = Buffer.from(sha256(new Uint8Array([1]))).toString('base64');

  it('round-trip through the codec', () => {
    assert.deepEqual(parseCommand(formatSum({ block: 3, sha256: digest })), {
      ok: true,
      value: { command: 'SUM', block: 3, sha256: digest },
    });
    assert.deepEqual(parseCommand(formatBlk({ block: 0 })), {
      ok: true,
      value: { command: 'BLK', block: 0 },
    });
  });

  it('refuse a malformed block or digest with 400', () => {
    for (const text of [
      'SUM: {"block":-1,"sha256":"' + digest + '"}',
      'SUM: {"block":1.5,"sha256":"' + digest + '"}',
      'SUM: {"block":1,"sha256":"abc"}',
      'BLK: {"block":"1"}',
    ]) {
      const parsed = parseCommand(text);
      assert.equal(parsed.ok, false, text);
      if (!parsed.ok) assert.equal(parsed.error.status, 400);
    }
  });

  it('has a BLK answer type a client can read', () => {
    const answer = parseAnswer(formatAnswer({ type: 'BLK', code: 200, block: 2, verified: true }));
    assert.equal(answer.ok && answer.value.type, 'BLK');
  });
});

describe('negotiating sha256-blocks', () => {
  const policy = { maxWindow: 16, maxChunk: 1 << 20, expiresAt: Date.UTC(2030, 0, 1), blocks: true };
  const offer = (ext: Record<string, unknown>) => {
    const read = readOffer({ binary: true, ...ext });
    assert.ok(read.ok);
    return read.value;
  };

  it('is granted when offered and the server can check blocks, with the block size in bounds', () => {
    const wanted = offer({ checksum: ['sha256-blocks', 'sha256'], block: 1 << 20 });
    assert.deepEqual(
      [grantTerms(wanted, policy).checksum, grantTerms(wanted, policy).block],
      ['sha256-blocks', 1 << 20],
    );
    assert.equal(grantTerms(offer({ checksum: ['sha256-blocks'], block: 1 }), policy).block, 64 * 1024);
    assert.equal(grantTerms(offer({ checksum: ['sha256-blocks'], block: 1 << 30 }), policy).block, 64 << 20);
  });

  it('falls back to sha256 (or nothing) when the server cannot check blocks', () => {
    const both = offer({ checksum: ['sha256-blocks', 'sha256'] });
    assert.equal(grantTerms(both, { ...policy, blocks: false }).checksum, 'sha256');
    assert.equal(
      grantTerms(offer({ checksum: ['sha256-blocks'] }), { ...policy, blocks: false }).checksum,
      null,
    );
  });

  it('is refused in a grant without a block size', () => {
    const ext = { binary: true, window: 1, maxChunk: 1, checksum: 'sha256-blocks', fin: true, expires: '' };
    const read = readGrant({ type: 'STOR', code: 200, v: 2, id: 'u_1', offset: 0, ext });
    assert.equal(read.ok, false);
    assert.ok(
      readGrant({ type: 'STOR', code: 200, v: 2, id: 'u_1', offset: 0, ext: { ...ext, block: 65536 } }).ok,
    );
  });
});
