// Block integrity in the browser, without a socket: the block digests WebCrypto computes ahead, the SUM that
// goes before each block's first chunk, a damaged block's frames (BLK, then the block read anew), the content
// hash pinned to the known vectors of docs/protocol.md, and the null object when nothing was agreed.
import { expect } from '@open-wc/testing';
import { BlockHasher, webCryptoDigest } from '../../src/core/block-hasher.ts';
import { encodeBase64, type Chunk } from '../../src/core/file-source.ts';
import { BlockIntegrity, NO_INTEGRITY } from '../../src/core/integrity.ts';
import { makeBytes } from '../helpers/make-file.ts';

const digest = webCryptoDigest()!;
const sha256 = async (bytes: Uint8Array) =>
  encodeBase64(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));

function chunkOf(bytes: Uint8Array, start: number, end: number): Chunk {
  const part = bytes.slice(start, end);
  return { start, end, payload: part.buffer, bytes: part };
}

describe('Block integrity', () => {
  it('NO_INTEGRITY sends nothing before a chunk, waits for nothing and has no checksum', async () => {
    expect(NO_INTEGRITY.before(chunkOf(new Uint8Array(4), 0, 4))).to.equal(null);
    expect(NO_INTEGRITY.unsettled).to.equal(false);
    expect(await NO_INTEGRITY.checksum()).to.equal(undefined);
  });

  it('has WebCrypto here (the test pages are a secure context) and none without crypto.subtle', () => {
    expect(digest).to.be.a('function');
    expect(webCryptoDigest({})).to.equal(null);
    expect(webCryptoDigest({ crypto: {} as { subtle?: SubtleCrypto } })).to.equal(null);
  });

  it('pins the content hash of the known vectors (10 MiB of i mod 251 in 4 MiB blocks; "abc"; nothing)', async () => {
    const ramp = new Uint8Array(10 * 1024 * 1024).map((_, i) => i % 251);
    const hasher = new BlockHasher(new Blob([ramp]), 4 * 1024 * 1024, digest);
    for (let i = 0; i < 3; i++) await hasher.digest(i);
    expect(await hasher.contentHash()).to.equal('sha256-blocks:mxaBUvN6Gywz2bJspKZ51fmfhPjAcP06RJHVLL/pavQ=');
    const abc = new BlockHasher(new Blob(['abc']), 4 * 1024 * 1024, digest);
    await abc.digest(0);
    expect(await abc.contentHash()).to.equal('sha256-blocks:T4tCwi3TcptRm6b2jS2nzFstYG0F2u1a1RKMwD5sY1g=');
    const empty = new BlockHasher(new Blob([]), 4 * 1024 * 1024, digest);
    expect(await empty.contentHash()).to.equal('sha256-blocks:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
  });

  it('hashes blocks from the reads the read-ahead hands over: the file is not read a second time', async () => {
    const bytes = makeBytes(10_000, 5);
    let slices = 0;
    const file = new (class extends Blob {
      override slice(...args: Parameters<Blob['slice']>): Blob {
        slices++;
        return super.slice(...args);
      }
    })([bytes]);
    const hasher = new BlockHasher(file, 4096, digest);
    // 3000-byte chunks straddle the 4096-byte blocks; the reading starts inside block 0 for the first one.
    const read = (start: number, end: number) => Promise.resolve(chunkOf(bytes, start, end));
    for (let at = 1000; at < bytes.length; at += 3000) {
      const end = Math.min(at + 3000, bytes.length);
      hasher.reading(read(at, end), at, end);
    }
    expect(encodeBase64(await hasher.digest(1))).to.equal(await sha256(bytes.subarray(4096, 8192)));
    expect(encodeBase64(await hasher.digest(2))).to.equal(await sha256(bytes.subarray(8192)));
    expect(slices).to.equal(0, 'blocks 1 and 2 came from the reads');
    // Block 0 was read from its middle: its digest is read from the file instead.
    expect(encodeBase64(await hasher.digest(0))).to.equal(await sha256(bytes.subarray(0, 4096)));
    expect(slices).to.equal(1);
  });

  it("sends each block's SUM before its first chunk, and nothing before the others", async () => {
    const bytes = makeBytes(10_000, 7);
    const integrity = new BlockIntegrity(new Blob([bytes]), 4096, digest);
    expect(await integrity.before(chunkOf(bytes, 0, 1024))).to.deep.equal([
      `SUM: {"block":0,"sha256":"${await sha256(bytes.subarray(0, 4096))}"}`,
    ]);
    expect(integrity.before(chunkOf(bytes, 1024, 2048))).to.equal(null);
    expect(await integrity.before(chunkOf(bytes, 8192, 9216))).to.deep.equal([
      `SUM: {"block":2,"sha256":"${await sha256(bytes.subarray(8192))}"}`,
    ]);
  });

  it('sends the SUM of every block that starts inside a chunk (chunks that straddle blocks)', async () => {
    const bytes = makeBytes(10_000, 6);
    const integrity = new BlockIntegrity(new Blob([bytes]), 1000, digest);
    const sums = (await integrity.before(chunkOf(bytes, 2500, 5000)))!;
    expect(sums.map((frame) => (JSON.parse(frame.slice(4)) as { block: number }).block)).to.deep.equal([
      3, 4,
    ]);
    expect(integrity.before(chunkOf(bytes, 3100, 3900))).to.equal(null);
  });

  it('gives the content hash only once every block was hashed (not after a reload resumed midway)', async () => {
    const bytes = makeBytes(10_000, 8);
    const integrity = new BlockIntegrity(new Blob([bytes]), 4096, digest);
    await integrity.before(chunkOf(bytes, 4096, 5000));
    expect(await integrity.checksum()).to.equal(undefined);
    await integrity.before(chunkOf(bytes, 0, 1000));
    expect(await integrity.checksum()).to.equal(undefined, 'block 2 not hashed yet');
    await integrity.before(chunkOf(bytes, 8192, 9000));
    const digests = await Promise.all(
      [0, 4096, 8192].map((at) => crypto.subtle.digest('SHA-256', bytes.slice(at, at + 4096))),
    );
    const joined = new Uint8Array(96);
    digests.forEach((d, i) => joined.set(new Uint8Array(d), i * 32));
    expect(await integrity.checksum()).to.equal(`sha256-blocks:${await sha256(joined)}`);
  });

  it('sends a damaged block again as BLK and the block read anew, once, until the server answers', async () => {
    const bytes = makeBytes(10_000, 9);
    const integrity = new BlockIntegrity(new Blob([bytes]), 4096, digest);
    integrity.damaged([1, 99]); // 99 is not a block of this file: ignored
    expect(integrity.unsettled).to.equal(true);
    const frames = await integrity.resendFrames(3000);
    expect(frames[0]).to.equal('BLK: {"block":1}');
    expect(frames.slice(1).map((frame) => (frame as ArrayBuffer).byteLength)).to.deep.equal([3000, 1096]);
    expect(new Uint8Array(frames[1] as ArrayBuffer)).to.deep.equal(bytes.slice(4096, 7096));
    expect(await integrity.resendFrames(3000)).to.deep.equal([], 'sent once until answered');
    integrity.answered(1, false);
    expect((await integrity.resendFrames(3000)).length).to.equal(3, 'damaged again: sent once more');
    integrity.answered(1, true);
    expect(integrity.unsettled).to.equal(false);
  });

  it('forgets damaged blocks on a new connection: the server continues before them', async () => {
    const integrity = new BlockIntegrity(new Blob([makeBytes(10_000, 1)]), 4096, digest);
    integrity.damaged([2]);
    integrity.reconnected();
    expect(integrity.unsettled).to.equal(false);
  });
});
