// The block digests of one file (block-hasher.ts), step by step, over the path test/core/integrity.test.ts
// does not walk: whole-block reads hashed as they come through the file source's read unit (before any chunk
// is cut), the main-thread fallback when the digest Worker fails, a failed digest asked for again, and
// forget() for a new upload of the same file. Real WebCrypto, real blobs (one counting its slices).
import { expect } from '@open-wc/testing';
import { mainThreadBlockDigest, type BlockDigest } from '../../src/core/block-digest.ts';
import { BlockHasher, webCryptoDigest, type Digest } from '../../src/core/block-hasher.ts';
import { encodeBase64 } from '../../src/core/file-source.ts';
import { makeBytes } from '../helpers/make-file.ts';

const BLOCK = 4096;
const digest = webCryptoDigest()!;
const sha256 = async (bytes: Uint8Array) =>
  encodeBase64(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));

/** A blob that counts the reads made of it through slice(). */
class CountingBlob extends Blob {
  slices = 0;
  override slice(...args: Parameters<Blob['slice']>): Blob {
    this.slices++;
    return super.slice(...args);
  }
}

describe('BlockHasher', () => {
  const bytes = makeBytes(2 * BLOCK + 500, 11);
  const wholeBlock = (index: number) =>
    bytes.slice(index * BLOCK, Math.min((index + 1) * BLOCK, bytes.length));

  it('asks the file source for reads of one block, and hashes a whole-block read before its chunks', async () => {
    const file = new CountingBlob([bytes]);
    let blockDigests = 0;
    const counted: BlockDigest = (block) => {
      blockDigests++;
      return mainThreadBlockDigest(digest)(block);
    };
    const hasher = new BlockHasher(file, BLOCK, digest, counted);
    expect(hasher.readUnit.size).to.equal(BLOCK);
    const read = wholeBlock(1);
    const passed = await hasher.readUnit.inspect(BLOCK, 2 * BLOCK, Promise.resolve(read));
    expect(Array.from(passed)).to.deep.equal(Array.from(read), 'the bytes go on to be cut into chunks');
    expect(encodeBase64(await hasher.digest(1))).to.equal(await sha256(read));
    expect([blockDigests, file.slices]).to.deep.equal([1, 0]);
  });

  it('leaves a read that is not one whole block alone (a resume inside a block): it is hashed on demand', async () => {
    const file = new CountingBlob([bytes]);
    let blockDigests = 0;
    const hasher = new BlockHasher(file, BLOCK, digest, (block) => {
      blockDigests++;
      return mainThreadBlockDigest(digest)(block);
    });
    const part = bytes.slice(100, BLOCK);
    expect(await hasher.readUnit.inspect(100, BLOCK, Promise.resolve(part))).to.equal(part);
    expect(blockDigests).to.equal(0);
    expect(encodeBase64(await hasher.digest(0))).to.equal(await sha256(wholeBlock(0)));
    expect(file.slices).to.equal(1, 'block 0 read from the file on its own');
  });

  it('hashes the block again on this thread when the digest Worker fails holding its buffer', async () => {
    const file = new CountingBlob([bytes]);
    const hasher = new BlockHasher(file, BLOCK, digest, () => Promise.reject(new Error('worker died')));
    await hasher.readUnit.inspect(0, BLOCK, Promise.resolve(wholeBlock(0)));
    expect(encodeBase64(await hasher.digest(0))).to.equal(await sha256(wholeBlock(0)));
    expect(file.slices).to.equal(1, 'the block was read again for the fallback');
  });

  it('does not keep a digest that failed: the next ask computes it again', async () => {
    let failures = 1;
    const flaky: Digest = (algorithm, data) =>
      failures-- > 0 ? Promise.reject(new Error('busy')) : digest(algorithm, data);
    const hasher = new BlockHasher(new Blob([bytes]), BLOCK, flaky);
    let first: unknown;
    await hasher.digest(2).catch((error: unknown) => (first = error));
    expect((first as Error).message).to.equal('busy');
    expect(encodeBase64(await hasher.digest(2))).to.equal(await sha256(wholeBlock(2)));
  });

  it('forgets every digest for a new upload of the file: blocks are hashed again', async () => {
    const file = new CountingBlob([bytes]);
    const hasher = new BlockHasher(file, BLOCK, digest);
    await hasher.digest(0);
    await hasher.digest(0);
    expect(file.slices).to.equal(1, 'kept between asks');
    hasher.forget();
    expect(await hasher.contentHash()).to.equal(undefined, 'no block hashed any more');
    await hasher.digest(0);
    expect(file.slices).to.equal(2);
  });
});
