// Sending damaged blocks again, step by step and without a socket: the blocks a DATA ack names go out as BLK
// and the block read anew from the file, only while the connection they were asked on is current; a BLK
// answer settles a block or sends it once more. The integrity is the real BlockIntegrity over a real file;
// the host is the transfer's side, recorded.
import { expect } from '@open-wc/testing';
import { webCryptoDigest } from '../../src/core/block-hasher.ts';
import { BlockResends, type ResendHost } from '../../src/core/block-resends.ts';
import { BlockIntegrity, type Integrity } from '../../src/core/integrity.ts';
import { makeBytes } from '../helpers/make-file.ts';
import { until } from '../helpers/transfer-events.ts';

const BLOCK = 1024;
const CHUNK = 512;

/** A recorded transfer side: frames sent (text as is, binary as bytes), the calls to sent() and readFailed(). */
function hostFor(integrity: Integrity) {
  const record = {
    frames: [] as (string | Uint8Array)[],
    sentCalls: 0,
    failures: [] as unknown[],
    current: true,
    sendWorks: true,
  };
  const host: ResendHost = {
    integrity: () => integrity,
    chunkSize: () => CHUNK,
    // The check a resend takes when it starts: it stays true while that connection is the current one.
    current: () => {
      const generation = record.current;
      return () => generation && record.current;
    },
    send: (frame) => {
      if (!record.sendWorks) return false;
      record.frames.push(typeof frame === 'string' ? frame : new Uint8Array(frame));
      return true;
    },
    readFailed: (cause) => record.failures.push(cause),
    sent: () => (record.sentCalls += 1),
  };
  return { host, record };
}

describe('BlockResends', () => {
  const bytes = makeBytes(3 * BLOCK + 100, 7);
  const file = new Blob([bytes]);
  const integrity = () => new BlockIntegrity(file, BLOCK, webCryptoDigest()!);

  it("sends BLK and the damaged block's bytes in chunks, then tells the host once", async () => {
    const { host, record } = hostFor(integrity());
    await new BlockResends(host).resend([1]);
    expect(record.frames.length).to.equal(3);
    expect(record.frames[0]).to.match(/^BLK/);
    expect(record.frames[0]).to.contain('"block":1');
    expect(Array.from(record.frames[1] as Uint8Array)).to.deep.equal(
      Array.from(bytes.subarray(BLOCK, BLOCK + CHUNK)),
    );
    expect(Array.from(record.frames[2] as Uint8Array)).to.deep.equal(
      Array.from(bytes.subarray(BLOCK + CHUNK, 2 * BLOCK)),
    );
    expect(record.sentCalls).to.equal(1);
  });

  it('sends the short last block as it is, and ignores block numbers the file does not have', async () => {
    const { host, record } = hostFor(integrity());
    await new BlockResends(host).resend([3, 4, -1, 1.5]);
    expect(record.frames.length).to.equal(2);
    expect(record.frames[0]).to.contain('"block":3');
    expect((record.frames[1] as Uint8Array).byteLength).to.equal(100);
  });

  it('a block verified in its BLK answer is settled: FIN may follow', async () => {
    const { host, record } = hostFor(integrity());
    const resends = new BlockResends(host);
    await resends.resend([0]);
    expect(resends.answered({ type: 'BLK', code: 200, block: 0, verified: true })).to.equal(true);
    expect(record.frames.length).to.equal(3, 'nothing sent again');
  });

  it('a block damaged again is sent once more, and FIN waits', async () => {
    const { host, record } = hostFor(integrity());
    const resends = new BlockResends(host);
    await resends.resend([2]);
    expect(resends.answered({ type: 'BLK', code: 200, block: 2, verified: false })).to.equal(false);
    await until(() => record.frames.length === 6, 'the block sent a second time');
    expect(record.frames[3]).to.contain('"block":2');
    expect(record.sentCalls).to.equal(2);
    expect(resends.answered({ type: 'BLK', code: 200, block: 2, verified: true })).to.equal(true);
  });

  it('sends nothing when the connection changed while the block was read', async () => {
    const { host, record } = hostFor(integrity());
    const resending = new BlockResends(host).resend([1]);
    record.current = false; // a reconnection while the block is read from the file
    await resending;
    expect(record.frames).to.deep.equal([]);
    expect(record.sentCalls).to.equal(0);
  });

  it('stops at the first frame that cannot be sent, without telling the host it sent', async () => {
    const { host, record } = hostFor(integrity());
    record.sendWorks = false;
    await new BlockResends(host).resend([1]);
    expect(record.sentCalls).to.equal(0);
  });

  it('a file that cannot be read fails the upload, unless the connection changed meanwhile', async () => {
    const unreadable: Integrity = {
      before: () => null,
      damaged: () => undefined,
      resendFrames: () => Promise.reject(new DOMException('gone', 'NotReadableError')),
      answered: () => undefined,
      unsettled: true,
      reconnected: () => undefined,
      checksum: () => Promise.resolve(undefined),
      reads: null,
    };
    const current = hostFor(unreadable);
    await new BlockResends(current.host).resend([0]);
    expect(current.record.failures.length).to.equal(1);
    expect((current.record.failures[0] as DOMException).name).to.equal('NotReadableError');

    const stale = hostFor(unreadable);
    const resending = new BlockResends(stale.host).resend([0]);
    stale.record.current = false;
    await resending;
    expect(stale.record.failures).to.deep.equal([]);
  });
});
