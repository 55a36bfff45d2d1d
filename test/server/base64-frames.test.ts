// The v1 base64 frame decoder, without a socket: canonical padded base64 decodes to the bytes Node's own
// decoder gives, across the 1 MiB slices it works in; anything else (bad length, a character outside the
// alphabet, padding inside, a non-ASCII byte) is refused with undefined, never decoded leniently.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBase64Frame } from '../../src/server/base64-frames.ts';
import { bytes } from './peer.ts';

const frameOf = (data: Buffer) => Buffer.from(data.toString('base64'), 'latin1');

describe('decodeBase64Frame', () => {
  it('decodes every padding case and the empty frame', async () => {
    for (const size of [0, 1, 2, 3, 4, 5, 1000]) {
      const data = bytes(size, size + 1);
      const decoded = await decodeBase64Frame(frameOf(data));
      assert.ok(decoded, `${size} bytes decode`);
      assert.ok(decoded.equals(data), `${size} bytes decode to the same bytes`);
    }
  });

  it('decodes a frame of several slices (over 1 MiB of text) to the same bytes', async () => {
    // 3 MiB of bytes is 4 MiB of base64: four slices, the last one padded when the size says so.
    for (const size of [3 * 1024 * 1024, 3 * 1024 * 1024 + 1]) {
      const data = bytes(size, 7);
      const decoded = await decodeBase64Frame(frameOf(data));
      assert.ok(decoded?.equals(data), `${size} bytes across slices`);
    }
  });

  it('refuses a length that is not a multiple of 4, and a character outside the alphabet', async () => {
    assert.equal(await decodeBase64Frame(Buffer.from('QUJD', 'latin1').subarray(0, 3)), undefined);
    assert.equal(await decodeBase64Frame(Buffer.from('QU-D', 'latin1')), undefined);
    assert.equal(await decodeBase64Frame(Buffer.from('QU D', 'latin1')), undefined);
    // base64url is not the protocol's alphabet.
    assert.equal(await decodeBase64Frame(Buffer.from('__8A', 'latin1')), undefined);
  });

  it('refuses padding anywhere but the end, and more than two padding characters', async () => {
    assert.equal(await decodeBase64Frame(Buffer.from('QQ==QUJD', 'latin1')), undefined);
    assert.equal(await decodeBase64Frame(Buffer.from('Q===', 'latin1')), undefined);
    assert.equal(await decodeBase64Frame(Buffer.from('====', 'latin1')), undefined);
  });

  it('refuses a non-ASCII byte (UTF-8 text) and a bad character in a middle slice of a large frame', async () => {
    assert.equal(await decodeBase64Frame(Buffer.from('QUJDé==', 'utf8')), undefined);
    const frame = frameOf(bytes(3 * 1024 * 1024, 3));
    frame[1024 * 1024 + 5] = 0x2d; // '-', in the second slice
    assert.equal(await decodeBase64Frame(frame), undefined);
  });
});
