import { expect } from '@open-wc/testing';
import { encodeBase64 } from '../../src/core/file-source.ts';
import { Sha256 } from '../../src/core/sha256.ts';
import { makeBytes } from '../helpers/make-file.ts';

async function expected(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return `sha256:${encodeBase64(new Uint8Array(digest))}`;
}

describe('Sha256', () => {
  it('gives each hasher its own digest when several are fed in turns', async () => {
    const a = makeBytes(300_000, 1);
    const b = makeBytes(200_000, 2);
    const [first, second] = await Promise.all([Sha256.create(), Sha256.create()]);
    for (let at = 0; at < a.length; at += 50_000) {
      first.update(a.subarray(at, at + 50_000));
      if (at < b.length) second.update(b.subarray(at, at + 50_000));
      // A checksum taken between updates must not disturb either hasher.
      if (at === 100_000) expect(second.checksum()).to.equal(await expected(b.subarray(0, 150_000)));
    }
    expect(first.offset).to.equal(a.length);
    expect(first.checksum()).to.equal(await expected(a));
    expect(second.checksum()).to.equal(await expected(b));
  });

  it('continues from a saved state in another hasher, and starts over on reset', async () => {
    const bytes = makeBytes(100_000, 4);
    const first = await Sha256.create();
    first.update(bytes.subarray(0, 40_000));
    const saved = first.save();
    first.update(bytes.subarray(40_000, 50_000));
    const second = await Sha256.create();
    second.load(saved, 40_000);
    second.update(bytes.subarray(40_000));
    expect(second.offset).to.equal(100_000);
    expect(second.checksum()).to.equal(await expected(bytes));
    first.reset();
    first.update(bytes);
    expect(first.checksum()).to.equal(await expected(bytes));
  });

  it('refuses a state it did not save when loading it, not at the next update', async () => {
    const hasher = await Sha256.create();
    expect(() => hasher.load(new Uint8Array(10), 5)).to.throw(Error);
  });
});
