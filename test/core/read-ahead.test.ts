// The read-ahead, step by step: how many chunk reads it keeps in flight (one under v1, a depth of bytes under
// v2), in file order, each told to the watcher (block integrity hashes from them), refilled as the sender takes
// one, restarted at an offset after a reconnection, and never past the file's end. Over a real file.
import { expect } from '@open-wc/testing';
import { FileSource } from '../../src/core/file-source.ts';
import { READ_AHEAD, ReadAhead } from '../../src/core/read-ahead.ts';
import { makeBytes } from '../helpers/make-file.ts';

const CHUNK = 1000;

describe('ReadAhead', () => {
  const bytes = makeBytes(10 * CHUNK + 300, 3);
  const source = new FileSource(new Blob([bytes]), CHUNK, 'binary');

  /** A read-ahead over the file whose watcher records [start, end] of every read queued. */
  function watched(): { ahead: ReadAhead; reads: [number, number][] } {
    const ahead = new ReadAhead(source);
    const reads: [number, number][] = [];
    ahead.watch((_chunk, start, end) => reads.push([start, end]));
    return { ahead, reads };
  }

  it('reads one chunk ahead until restarted (v1: stop-and-wait)', () => {
    const { ahead, reads } = watched();
    ahead.fill();
    ahead.fill();
    expect(reads).to.deep.equal([[0, CHUNK]]);
  });

  it('under v2 keeps `depth` bytes of reads in flight, in file order, and refills as one is taken', async () => {
    const { ahead, reads } = watched();
    ahead.restart(source, 0, true, 3 * CHUNK);
    ahead.fill();
    expect(reads).to.deep.equal([
      [0, 1000],
      [1000, 2000],
      [2000, 3000],
    ]);
    const first = await ahead.next();
    expect([first.start, first.end]).to.deep.equal([0, CHUNK]);
    expect(Array.from(first.bytes)).to.deep.equal(Array.from(bytes.subarray(0, CHUNK)));
    ahead.fill();
    expect(reads.at(-1)).to.deep.equal([3000, 4000]);
    expect(reads.length).to.equal(4);
  });

  it('reads at least one chunk ahead when the depth is smaller than a chunk, and 4 MiB by default', () => {
    const small = watched();
    small.ahead.restart(source, 0, true, 10);
    small.ahead.fill();
    expect(small.reads.length).to.equal(1);

    const big = new FileSource(new Blob([new Uint8Array(READ_AHEAD * 2)]), 1024 * 1024, 'binary');
    const ahead = new ReadAhead(big);
    let queued = 0;
    ahead.watch(() => (queued += 1));
    ahead.restart(big, 0, true);
    ahead.fill();
    expect(queued).to.equal(READ_AHEAD / (1024 * 1024));
  });

  it('restarts at an offset (a resume): earlier reads are dropped and the next one starts there', async () => {
    const { ahead, reads } = watched();
    ahead.restart(source, 0, true, 2 * CHUNK);
    ahead.fill();
    ahead.restart(source, 5500, true, 2 * CHUNK);
    const next = await ahead.next();
    expect([next.start, next.end]).to.deep.equal([5500, 6500]);
    expect(Array.from(next.bytes)).to.deep.equal(Array.from(bytes.subarray(5500, 6500)));
    expect(reads.slice(2)).to.deep.equal([
      [5500, 6500],
      [6500, 7500],
    ]);
  });

  it('stops at the end of the file: the last read is short and nothing is read past it', async () => {
    const { ahead, reads } = watched();
    ahead.restart(source, 9 * CHUNK, true, 5 * CHUNK);
    ahead.fill();
    expect(reads).to.deep.equal([
      [9000, 10000],
      [10000, 10300],
    ]);
    await ahead.next();
    const last = await ahead.next();
    expect(Array.from(last.bytes)).to.deep.equal(Array.from(bytes.subarray(10000)));
    ahead.fill();
    expect(reads.length).to.equal(2);
  });

  it('tells nothing to a watcher removed, and clear() drops the reads queued', () => {
    const { ahead, reads } = watched();
    ahead.restart(source, 0, true, 2 * CHUNK);
    ahead.watch(null);
    ahead.fill();
    expect(reads).to.deep.equal([]);
    ahead.watch((_chunk, start, end) => reads.push([start, end]));
    ahead.clear();
    ahead.fill();
    // The dropped reads are not queued again: the next restart says where to go on.
    expect(reads).to.deep.equal([
      [2000, 3000],
      [3000, 4000],
    ]);
  });
});
