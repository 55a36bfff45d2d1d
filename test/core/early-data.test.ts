// Early data's accounting (src/core/early-data.ts): how many bytes a fresh upload sends right behind its STOR
// under the terms the socket's previous upload was granted, and when the STOR answer took them.
import { expect } from '@open-wc/testing';
import { V1_TERMS, type StorAnswerV2, type Terms } from '../../src/protocol/index.ts';
import { INITIAL_CREDIT } from '../../src/core/credit.ts';
import { earlyTaken, planEarly } from '../../src/core/early-data.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 256 * KiB;

const known: Terms = Object.freeze({
  ...V1_TERMS,
  version: 2,
  encoding: 'binary',
  window: 16,
  maxChunk: 4 * MiB,
  fin: true,
  resumable: true,
  credit: 64 * MiB,
  reuse: true,
  early: true,
});

const answer = (offset: number): StorAnswerV2 => ({
  v: 2,
  id: 'u_1',
  offset,
  ext: { binary: true, window: 16, maxChunk: 4 * MiB, checksum: null, fin: true, expires: '', early: true },
});

describe('early data', () => {
  it('sends a small file whole, and of a large one whole chunks up to the initial credit', () => {
    expect(planEarly(known, 100 * KiB, CHUNK, true)?.bytes).to.equal(100 * KiB);
    expect(planEarly(known, 64 * MiB, CHUNK, true)?.bytes).to.equal(INITIAL_CREDIT);
    // A smaller credit granted last time bounds it, in whole chunks, and never below one chunk.
    expect(planEarly({ ...known, credit: CHUNK * 2 + 5 }, 64 * MiB, CHUNK, true)?.bytes).to.equal(2 * CHUNK);
    expect(planEarly({ ...known, credit: 1000 }, 64 * MiB, CHUNK, true)?.bytes).to.equal(CHUNK);
    // Chunks within the known maxChunk.
    expect(planEarly({ ...known, maxChunk: 64 * KiB }, 64 * MiB, CHUNK, true)?.chunkSize).to.equal(64 * KiB);
  });

  it('sends nothing early on a fresh socket, without the grant, for a resume, in base64 or for an empty file', () => {
    expect(planEarly(null, MiB, CHUNK, true)).to.equal(null);
    expect(planEarly({ ...known, early: false }, MiB, CHUNK, true)).to.equal(null);
    expect(planEarly(known, MiB, CHUNK, false)).to.equal(null);
    expect(planEarly({ ...known, encoding: 'base64' }, MiB, CHUNK, true)).to.equal(null);
    expect(planEarly(known, 0, CHUNK, true)).to.equal(null);
  });

  it('counts the early bytes taken only by an answer at offset 0 under the terms they were sent under', () => {
    const plan = planEarly(known, 10 * MiB, CHUNK, true)!;
    expect(earlyTaken(plan, answer(0), known)).to.equal(true);
    expect(earlyTaken(plan, answer(CHUNK), known)).to.equal(false);
    expect(earlyTaken(plan, null, null)).to.equal(false);
    expect(earlyTaken(plan, answer(0), { ...known, integrity: 'sha256-blocks', block: 4 * MiB })).to.equal(
      false,
    );
    expect(earlyTaken(plan, answer(0), { ...known, maxChunk: 64 * KiB })).to.equal(false);
  });
});
