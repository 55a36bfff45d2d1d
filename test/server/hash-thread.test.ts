// The server's hashing thread (src/server/hash-thread.ts): the digests are SHA-256 exactly, hashes fed at
// the same time stay apart, and bytes are copied when added, so a caller may reuse its buffer at once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ThreadedSha256 } from '../../src/server/hash-thread.ts';
import { bytes } from './peer.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest();

describe('ThreadedSha256', () => {
  it('gives the SHA-256 of a known vector and of the empty input', async () => {
    const abc = new ThreadedSha256();
    abc.update(Buffer.from('abc'));
    assert.equal(
      (await abc.digest()).toString('hex'),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    assert.deepEqual(await new ThreadedSha256().digest(), sha256(new Uint8Array(0)));
  });

  it('keeps hashes fed in turns apart, and copies what it is given', async () => {
    const a = bytes(3 * 1024 * 1024 + 17, 21);
    const b = bytes(1024 * 1024 + 3, 22);
    const [ha, hb] = [new ThreadedSha256(), new ThreadedSha256()];
    const reused = Buffer.alloc(64 * 1024);
    for (let at = 0; at < Math.max(a.length, b.length); at += reused.length) {
      for (const [hash, data] of [
        [ha, a],
        [hb, b],
      ] as const) {
        if (at >= data.length) continue;
        const piece = data.subarray(at, at + reused.length);
        piece.copy(reused);
        hash.update(reused.subarray(0, piece.length));
        reused.fill(0xee); // overwritten at once: the thread must have its own copy
      }
      await ha.room();
    }
    assert.deepEqual(await ha.digest(), sha256(a));
    assert.deepEqual(await hb.digest(), sha256(b));
  });

  it('refuses update() after digest()', async () => {
    const hash = new ThreadedSha256();
    await hash.digest();
    assert.throws(() => hash.update(Buffer.from('x')), /after digest/);
  });
});
