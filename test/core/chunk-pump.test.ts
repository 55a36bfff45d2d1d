// The sending side, step by step and without a socket: the send loop fills the window from the read-ahead
// and stops when the window is full, the sink says stop, or the file is sent.
import { expect } from '@open-wc/testing';
import { ChunkPump } from '../../src/core/chunk-pump.ts';
import type { Chunk } from '../../src/core/file-source.ts';
import { READ_AHEAD } from '../../src/core/read-ahead.ts';
import { makeFile } from '../helpers/make-file.ts';

function collect(limit = Infinity): { sent: Chunk[]; sink: Parameters<ChunkPump['run']>[0] } {
  const sent: Chunk[] = [];
  return {
    sent,
    sink: {
      sending: () => sent.length < limit,
      before: () => null,
      send: (chunk) => {
        sent.push(chunk);
        return true;
      },
    },
  };
}

describe('ChunkPump', () => {
  it('sends one chunk under v1 (stop-and-wait), the next after the ack', async () => {
    const pump = new ChunkPump(makeFile(250), 100, 'binary');
    const { sent, sink } = collect();
    await pump.run(sink);
    expect(sent.map((chunk) => [chunk.start, chunk.end])).to.deep.equal([[0, 100]]);
    pump.window.acknowledge(undefined);
    await pump.run(sink);
    pump.window.acknowledge(undefined);
    await pump.run(sink);
    expect(sent.map((chunk) => [chunk.start, chunk.end])).to.deep.equal([
      [0, 100],
      [100, 200],
      [200, 250],
    ]);
    await pump.run(sink);
    expect(sent.length).to.equal(3);
  });

  it('fills a granted window from the server offset, in the granted chunking', async () => {
    const pump = new ChunkPump(makeFile(1000), 100, 'base64');
    pump.restart(300, 3, 200, 'binary');
    const { sent, sink } = collect();
    await pump.run(sink);
    expect(sent.map((chunk) => [chunk.start, chunk.end])).to.deep.equal([
      [300, 500],
      [500, 700],
      [700, 900],
    ]);
    expect(sent[0]!.payload).to.be.instanceOf(ArrayBuffer);
    expect([pump.window.inFlight, pump.window.sent]).to.deep.equal([3, 900]);
  });

  it('stops as soon as the sink says so', async () => {
    const pump = new ChunkPump(makeFile(1000), 100, 'binary');
    pump.restart(0, 8, 100, 'binary');
    const { sent, sink } = collect(2);
    await pump.run(sink);
    expect(sent.length).to.equal(2);
  });

  it('runs one loop at a time', async () => {
    const pump = new ChunkPump(makeFile(1000), 100, 'binary');
    pump.restart(0, 4, 100, 'binary');
    const { sent, sink } = collect();
    await Promise.all([pump.run(sink), pump.run(sink)]);
    expect(sent.length).to.equal(4);
  });

  it('reads ahead at most READ_AHEAD bytes under v2', () => {
    expect(READ_AHEAD).to.equal(4 * 1024 * 1024);
  });
});
