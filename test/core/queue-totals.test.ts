// The queue's running totals, step by step: each entry's share goes in and out as its fields change, so the
// counts, bytes and speed always equal a sum over the entries (recomputed here from scratch to compare).
import { expect } from '@open-wc/testing';
import { newEntry, type Entry, type UploadStatus } from '../../src/core/queue-items.ts';
import { QueueTotals } from '../../src/core/queue-totals.ts';
import { makeFile } from '../helpers/make-file.ts';

/** The totals recomputed from the entries, as the incremental ones must read. */
function recomputed(entries: Entry[]) {
  const live = entries.filter((entry) => entry.status !== 'cancelled');
  const sending = entries.filter((entry) => entry.status === 'sending');
  return {
    loaded: live.reduce((sum, entry) => sum + entry.loaded, 0),
    total: live.reduce((sum, entry) => sum + entry.total, 0),
    speed: sending.reduce((sum, entry) => sum + entry.speed, 0),
  };
}

function queueOf(sizes: number[]): { totals: QueueTotals; entries: Entry[] } {
  const totals = new QueueTotals();
  const entries = sizes.map((size, id) => newEntry(id, makeFile(size)));
  for (const entry of entries) totals.account(entry, 1);
  return { totals, entries };
}

describe('QueueTotals', () => {
  it('starts empty: nothing to send is 100 % with no time left', () => {
    const progress = new QueueTotals().progress;
    expect([
      progress.loaded,
      progress.total,
      progress.percentage,
      progress.speed,
      progress.remainingTime,
    ]).to.deep.equal([0, 0, 100, 0, 0]);
  });

  it('counts queued entries and their bytes', () => {
    const { totals } = queueOf([100, 300]);
    const progress = totals.progress;
    expect([progress.total, progress.loaded, progress.percentage]).to.deep.equal([400, 0, 0]);
    expect(progress.counts.queued).to.equal(2);
    expect(progress.remainingTime).to.equal(Infinity);
    expect(totals.running).to.equal(0);
  });

  it('follows changes of status, bytes and speed, and equals a sum recomputed from the entries', () => {
    const { totals, entries } = queueOf([1000, 2000, 3000]);
    const [a, b, c] = entries as [Entry, Entry, Entry];
    const steps: [Entry, Partial<Entry>][] = [
      [a, { status: 'connecting' }],
      [a, { status: 'sending', loaded: 400, speed: 100 }],
      [b, { status: 'sending', loaded: 1000, speed: 250 }],
      [a, { status: 'retrying', speed: 0 }],
      [c, { status: 'cancelled' }],
      [b, { status: 'complete', loaded: 2000, speed: 0 }],
      [a, { status: 'sending', loaded: 900, speed: 50 }],
    ];
    for (const [entry, fields] of steps) {
      totals.change(entry, () => Object.assign(entry, fields));
      const expected = recomputed(entries);
      const progress = totals.progress;
      expect([progress.loaded, progress.total, progress.speed]).to.deep.equal([
        expected.loaded,
        expected.total,
        expected.speed,
      ]);
    }
    const progress = totals.progress;
    // The cancelled 3000 bytes no longer count; 900 + 2000 of 3000 are loaded, 100 left at 50 B/s.
    expect([progress.loaded, progress.total, progress.remainingTime]).to.deep.equal([2900, 3000, 2]);
    expect(progress.counts).to.include({ sending: 1, complete: 1, cancelled: 1, queued: 0 });
    expect(totals.running).to.equal(1);
  });

  it('counts connecting, sending and retrying as running', () => {
    const { totals, entries } = queueOf([1, 1, 1, 1]);
    const statuses: UploadStatus[] = ['connecting', 'sending', 'retrying', 'paused'];
    entries.forEach((entry, index) => totals.change(entry, () => (entry.status = statuses[index]!)));
    expect(totals.running).to.equal(3);
  });

  it('reports a speed of exactly 0 when nothing is sending, whatever float drift the sums left', () => {
    const { totals, entries } = queueOf([10]);
    const entry = entries[0]!;
    totals.change(entry, () => Object.assign(entry, { status: 'sending', speed: 0.1 + 0.2 }));
    totals.change(entry, () => (entry.speed = 0.3));
    totals.change(entry, () => Object.assign(entry, { status: 'paused', speed: 0 }));
    expect(totals.progress.speed).to.equal(0);
  });
});
