// SHA-256 of whole blocks (src/core/block-digest.ts): on the main thread, and in the shared Worker once it
// answered, where the block's buffer travels there and back; the same digest and the same bytes either way.
import { expect } from '@open-wc/testing';
import { mainThreadBlockDigest, workerBlockDigest } from '../../src/core/block-digest.ts';
import { webCryptoDigest } from '../../src/core/block-hasher.ts';
import { makeBytes } from '../helpers/make-file.ts';

const digest = webCryptoDigest()!;
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

describe('block digest', () => {
  it('on the main thread: the SHA-256, and the very same bytes back', async () => {
    const bytes = new TextEncoder().encode('abc') as Uint8Array<ArrayBuffer>;
    const done = await mainThreadBlockDigest(digest)(bytes);
    expect(hex(done.digest)).to.equal(ABC);
    expect(done.bytes).to.equal(bytes);
  });

  it('in the Worker once it runs: the buffer goes there (detached here) and comes back intact', async () => {
    const blockDigest = workerBlockDigest(digest);
    const content = makeBytes(256 * 1024);
    const expected = hex(new Uint8Array(await digest('SHA-256', content)));
    let transferred = false;
    // Until the worker answered its first message the main thread hashes; bounded: 50 tries, ~2.5 s.
    for (let attempt = 0; attempt < 50 && !transferred; attempt++) {
      const bytes = new Uint8Array(content) as Uint8Array<ArrayBuffer>;
      const pending = blockDigest(bytes);
      transferred = bytes.byteLength === 0; // detached: it was posted to the worker
      const done = await pending;
      expect(hex(done.digest)).to.equal(expected);
      expect(done.bytes).to.deep.equal(content);
      if (!transferred) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(transferred).to.equal(true, 'the worker took the block within 50 tries');
  });
});
