// The byte credit over a simulated link (a fake clock, no timers, no sockets): the send window keeps to the
// server's credit, and under it the sender's target follows the bandwidth-delay product it measures.
import { expect } from '@open-wc/testing';
import { ByteCredit, creditStart, INITIAL_CREDIT, MIN_TARGET } from '../../src/core/credit.ts';
import { SendWindow } from '../../src/core/send-window.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 256 * KiB;

/**
 * Sends `total` bytes through a link of `rttMs` and `bytesPerMs` (one direction serialised, acks free),
 * filling the window whenever it has room; returns the highest bytes in flight and the final allowance.
 */
function simulate(
  window: SendWindow,
  credit: ByteCredit,
  clock: { now: number },
  link: { rttMs: number; bytesPerMs: number },
  total: number,
  onAck: (loaded: number) => void = () => undefined,
): { maxInFlight: number; allowances: number[]; reached: (bytes: number) => number; queueMs: number[] } {
  const acks: { at: number }[] = [];
  /** [time, bytes in flight] after each send round; and each ack's wait behind the link's queue. */
  const inFlightAt: [number, number][] = [];
  const queueMs: number[] = [];
  let linkFreeAt = 0;
  let maxInFlight = 0;
  const allowances: number[] = [];
  for (let guard = 0; guard < 1_000_000 && window.loaded < total; guard++) {
    while (window.sent < total && window.fits(Math.min(CHUNK, total - window.sent))) {
      const length = Math.min(CHUNK, total - window.sent);
      window.push(length);
      maxInFlight = Math.max(maxInFlight, window.inFlightBytes);
      // The chunk waits for the link, crosses it at its rate, and its ack comes back half a round trip later.
      const start = Math.max(clock.now, linkFreeAt);
      queueMs.push(start - clock.now);
      linkFreeAt = start + length / link.bytesPerMs;
      acks.push({ at: linkFreeAt + link.rttMs });
    }
    inFlightAt.push([clock.now, window.inFlightBytes]);
    const ack = acks.shift();
    if (!ack) break;
    clock.now = Math.max(clock.now, ack.at);
    expect(window.acknowledge(window.loaded + nextLength(window)).ok).to.equal(true);
    allowances.push(credit.allowance);
    onAck(window.loaded);
  }
  const reached = (bytes: number) => inFlightAt.find(([, inFlight]) => inFlight >= bytes)?.[0] ?? Infinity;
  return { maxInFlight, allowances, reached, queueMs };

  function nextLength(w: SendWindow): number {
    // The oldest chunk in flight is a whole chunk except the file's last.
    return Math.min(CHUNK, total - w.loaded);
  }
}

function setUp(granted: number, start: number) {
  const clock = { now: 0 };
  const credit = new ByteCredit(granted, start, () => clock.now);
  const window = new SendWindow();
  window.restart(0, 16, true, credit);
  return { clock, credit, window };
}

describe('ByteCredit', () => {
  it('never lets more than the credit be in flight, whatever it measures', () => {
    const { clock, credit, window } = setUp(1 * MiB, 4 * MiB);
    const { maxInFlight } = simulate(window, credit, clock, { rttMs: 100, bytesPerMs: 125_000 }, 64 * MiB);
    expect(maxInFlight).to.equal(1 * MiB);
  });

  it('grows beyond its floor to fill a long fat link (1 Gbit/s, 100 ms: 12.5 MB in flight)', () => {
    const { clock, credit, window } = setUp(64 * MiB, 4 * MiB);
    const { maxInFlight } = simulate(window, credit, clock, { rttMs: 100, bytesPerMs: 125_000 }, 256 * MiB);
    expect(maxInFlight).to.be.at.least(12.5e6);
    expect(maxInFlight).to.be.at.most(64 * MiB);
  });

  it('stays near the product on a slow link (50 Mbit/s, 100 ms: 625 kB) instead of queueing seconds', () => {
    const { clock, credit, window } = setUp(64 * MiB, 512 * KiB);
    const { allowances } = simulate(window, credit, clock, { rttMs: 100, bytesPerMs: 6_250 }, 64 * MiB);
    const settled = allowances.slice(-20);
    // At most about three products in flight: 0.3 s of queue at most, against 10 s the 64 MiB credit allows.
    for (const allowance of settled) expect(allowance).to.be.at.most(3 * 625_000 + CHUNK);
    for (const allowance of settled) expect(allowance).to.be.at.least(625_000);
  });

  it('follows the server when it lowers or raises the credit mid-upload', () => {
    const { clock, credit, window } = setUp(8 * MiB, 4 * MiB);
    let lowered = Infinity;
    let highest = 0;
    simulate(window, credit, clock, { rttMs: 20, bytesPerMs: 125_000 }, 64 * MiB, (loaded) => {
      if (loaded >= 16 * MiB && loaded < 32 * MiB) {
        window.grant(1 * MiB);
        lowered = Math.min(lowered, credit.allowance);
      } else if (loaded >= 32 * MiB) {
        window.grant(8 * MiB);
        highest = Math.max(highest, window.inFlightBytes);
      }
    });
    expect(lowered).to.equal(1 * MiB);
    expect(highest).to.be.above(1 * MiB);
  });

  it("starts at its initial credit, a window the caller gave, or the server's credit when smaller", () => {
    expect(creditStart(4 * MiB, false)).to.equal(INITIAL_CREDIT);
    // A larger default window (window × chunk) is kept from the start, as the chunk window kept it.
    expect(creditStart(16 * MiB, false)).to.equal(16 * MiB);
    // A window the caller set is its own bound, also below the initial credit.
    expect(creditStart(512 * KiB, true)).to.equal(512 * KiB);
    expect(setUp(64 * MiB, INITIAL_CREDIT).credit.allowance).to.equal(INITIAL_CREDIT);
    expect(setUp(2 * MiB, INITIAL_CREDIT).credit.allowance).to.equal(2 * MiB);
  });

  it('fills 1 Gbit/s at 200 ms (25 MB in flight) in its second round trip: the ack clock shows the link', () => {
    const { clock, credit, window } = setUp(64 * MiB, INITIAL_CREDIT);
    const { reached } = simulate(window, credit, clock, { rttMs: 200, bytesPerMs: 125_000 }, 256 * MiB);
    // Simulated time (a fake clock): the first 8 MiB leave at 0 and their acks arrive from 200 ms on, spaced
    // by the link's rate; a ramp by the per-chunk rate alone (slow start) would need three round trips.
    expect(reached(25e6)).to.be.at.most(200 + 100);
  });

  it('also at 100 ms: twice the product (2 × 12.5 MB) in flight before the second round trip ends', () => {
    const { clock, credit, window } = setUp(64 * MiB, INITIAL_CREDIT);
    const { reached, maxInFlight } = simulate(
      window,
      credit,
      clock,
      { rttMs: 100, bytesPerMs: 125_000 },
      256 * MiB,
    );
    expect(reached(2 * 12.5e6 - CHUNK)).to.be.at.most(2 * 100);
    expect(maxInFlight).to.be.at.most(64 * MiB);
  });

  it('takes acks the server sends in batches (S3 parts) for no faster link than they are', () => {
    // 20 chunks acknowledged at the same instant, every 100 ms: 5 MiB per 100 ms, whatever the burst suggests.
    const clock = { now: 0 };
    const credit = new ByteCredit(64 * MiB, INITIAL_CREDIT, () => clock.now);
    let loaded = 0;
    let highest = 0;
    for (let batch = 1; batch <= 10; batch++) {
      for (let i = 0; i < 20; i++) credit.sent(loaded);
      clock.now = batch * 100;
      for (let i = 0; i < 20; i++) {
        loaded += CHUNK;
        credit.acknowledged(loaded, CHUNK);
        highest = Math.max(highest, credit.target);
      }
    }
    // 5 MiB per 100 ms is 52 kB/ms; at a 100 ms round trip twice the product is 10 MiB, plus growth's slack.
    expect(highest).to.be.at.most(2 * 10 * MiB);
    expect(credit.allowance).to.be.at.most(64 * MiB);
  });

  it('falls back when the round trip rises above its minimum: a slow link keeps well under a second queued', () => {
    const { clock, credit, window } = setUp(64 * MiB, INITIAL_CREDIT);
    const link = { rttMs: 100, bytesPerMs: 6_250 }; // 50 Mbit/s
    const { queueMs, allowances } = simulate(window, credit, clock, link, 64 * MiB);
    // The initial credit queues about 1.3 s once; after that a chunk waits about a round trip behind the others.
    const settled = queueMs.slice(queueMs.length / 2);
    expect(Math.max(...settled)).to.be.below(400);
    expect(Math.max(...queueMs)).to.be.below(1500);
    for (const allowance of allowances.slice(-20)) expect(allowance).to.be.at.least(MIN_TARGET);
  });

  it("keeps at least the server's hold when acks come in bursts (S3 parts), but still under the credit", () => {
    // A server that acknowledges once per 5 MiB part: the first chunk of a part waits for the whole part,
    // which looks like a queue of ~100 ms over the 20 ms round trip of its last chunk.
    const acksInBursts = (credit: ByteCredit, clock: { now: number }) => {
      let loaded = 0;
      for (let part = 0; part < 20; part++) {
        for (let i = 0; i < 20; i++) credit.sent(loaded);
        clock.now += 100;
        for (let i = 0; i < 20; i++) {
          loaded += CHUNK;
          credit.acknowledged(loaded, CHUNK);
          clock.now += 1;
        }
      }
      return credit.allowance;
    };
    const floorless = { now: 0 };
    expect(
      acksInBursts(new ByteCredit(64 * MiB, INITIAL_CREDIT, () => floorless.now), floorless),
    ).to.be.below(25 * MiB, 'without a floor the bursts shrink it');
    const held = { now: 0 };
    const withHold = new ByteCredit(64 * MiB, INITIAL_CREDIT, () => held.now, 25 * MiB);
    expect(withHold.allowance).to.equal(25 * MiB, 'it starts there');
    expect(acksInBursts(withHold, held)).to.be.at.least(25 * MiB);
    const clock = { now: 0 };
    expect(new ByteCredit(8 * MiB, INITIAL_CREDIT, () => clock.now, 25 * MiB).allowance).to.equal(8 * MiB);
  });

  it('always lets one chunk go when nothing is in flight, even under a credit smaller than a chunk', () => {
    const { window } = setUp(1000, 1000);
    expect(window.fits(CHUNK)).to.equal(true);
    window.push(CHUNK);
    expect(window.fits(1)).to.equal(false);
  });
});
