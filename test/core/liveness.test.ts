// The liveness watch over a hand-driven clock: no wall clock, no socket. It takes anything heard as a sign
// of life, silence for 2 × alive + 1 s as a dead connection (once), watches nothing when nothing was
// granted, and stops for good when told.
import { expect } from '@open-wc/testing';
import { ALIVE_MESSAGE } from '../../src/protocol/index.ts';
import type { TransferEnvironment } from '../../src/core/environment.ts';
import { LivenessWatch, silenceBound } from '../../src/core/liveness.ts';

/** Timers that run when the test moves the clock past them. */
function clockEnvironment(): TransferEnvironment & { advance(ms: number): void; pending(): number } {
  let now = 0;
  let next = 1;
  const timers = new Map<number, { at: number; callback: () => void }>();
  const env = {
    webSocket: () => undefined,
    setTimeout: (callback: () => void, ms: number) => {
      timers.set(next, { at: now + ms, callback });
      return next++;
    },
    clearTimeout: (handle: unknown) => void timers.delete(handle as number),
    now: () => now,
    whenOnline: (then: () => void) => (then(), () => undefined),
    advance(ms: number) {
      const end = now + ms;
      // Bounded: each round runs the timers due by then, which may set new ones.
      for (let round = 0; round < 1000; round++) {
        const due = [...timers].filter(([, timer]) => timer.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].callback();
      }
      now = end;
    },
    pending: () => timers.size,
  };
  return env;
}

describe('LivenessWatch', () => {
  it('declares a connection dead once, after 2 × alive + 1 s of silence', () => {
    const env = clockEnvironment();
    const watch = new LivenessWatch(env);
    const deaths: number[] = [];
    watch.start(100, (bound) => deaths.push(bound));
    expect(silenceBound(100)).to.equal(1200);
    env.advance(1199);
    expect(deaths).to.deep.equal([]);
    env.advance(2);
    expect(deaths).to.deep.equal([1200]);
    env.advance(10_000);
    expect(deaths).to.deep.equal([1200], 'once');
    expect(env.pending()).to.equal(0);
  });

  it('takes any frame as a sign of life, and tells keep-alive messages apart', () => {
    const env = clockEnvironment();
    const watch = new LivenessWatch(env);
    let dead = false;
    watch.start(100, () => (dead = true));
    for (let i = 0; i < 20; i++) {
      env.advance(1000);
      expect(watch.heard(i % 2 ? ALIVE_MESSAGE : '{"type":"DATA","code":200}')).to.equal(i % 2 === 1);
    }
    expect(dead).to.equal(false);
    env.advance(1100);
    expect(dead).to.equal(false, 'the bound counts from the last frame');
    env.advance(200);
    expect(dead).to.equal(true);
  });

  it('watches nothing when the server granted nothing, and nothing after stop()', () => {
    const env = clockEnvironment();
    const watch = new LivenessWatch(env);
    let deaths = 0;
    watch.start(null, () => deaths++);
    expect([watch.bound, env.pending()]).to.deep.equal([0, 0]);
    watch.start(100, () => deaths++);
    expect(watch.bound).to.equal(1200);
    watch.stop();
    env.advance(60_000);
    expect([deaths, watch.bound, env.pending()]).to.deep.equal([0, 0, 0]);
  });
});
