// The answer deadline and the reconnect wait over an environment whose timers and online state the test
// drives by hand: no wall clock, no socket.
import { expect } from '@open-wc/testing';
import type { TransferEnvironment } from '../../src/core/environment.ts';
import { AnswerDeadline, ReconnectWait } from '../../src/core/waits.ts';

function handEnvironment(): TransferEnvironment & { fire(): void; goOnline(): void; online: boolean } {
  const timers = new Map<number, () => void>();
  let next = 1;
  let waiting: (() => void) | null = null;
  return {
    online: true,
    webSocket: () => undefined,
    setTimeout: (callback) => {
      timers.set(next, callback);
      return next++;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    now: () => 0,
    whenOnline(then) {
      if (this.online) {
        then();
        return () => undefined;
      }
      waiting = then;
      return () => (waiting = null);
    },
    fire() {
      const due = [...timers.values()];
      timers.clear();
      for (const callback of due) callback();
    },
    goOnline() {
      this.online = true;
      waiting?.();
    },
  };
}

describe('waits', () => {
  it('AnswerDeadline: tells the answer due, times out once, and a settled deadline never fires', () => {
    const env = handEnvironment();
    const deadline = new AnswerDeadline(env);
    let timeouts = 0;
    deadline.expect('STOR', 10, () => timeouts++);
    expect(deadline.due).to.equal('STOR');
    deadline.settle();
    env.fire();
    expect([deadline.due, timeouts]).to.deep.equal([null, 0]);
    deadline.expect('DATA', 10, () => timeouts++);
    env.fire();
    expect(timeouts).to.equal(1);
  });

  it('ReconnectWait: counts attempts until progress, and waits for the host to be online', () => {
    const env = handEnvironment();
    const wait = new ReconnectWait(env, { delays: [0, 5], random: () => 0.5 });
    const situation = { cause: 'socketClosed' as const, resumable: true };
    expect(wait.decide(situation)).to.equal(0);
    expect(wait.decide(situation)).to.equal(5);
    expect(wait.decide(situation)).to.equal(null);
    wait.progressed();
    expect(wait.decide(situation)).to.equal(0);
    let reconnected = 0;
    env.online = false;
    wait.schedule(0, () => reconnected++);
    env.fire();
    expect(reconnected).to.equal(0);
    env.goOnline();
    expect(reconnected).to.equal(1);
  });

  it('ReconnectWait: a cancelled wait never reconnects', () => {
    const env = handEnvironment();
    const wait = new ReconnectWait(env, { delays: [0] });
    let reconnected = 0;
    wait.schedule(0, () => reconnected++);
    wait.cancel();
    env.fire();
    expect(reconnected).to.equal(0);
  });
});
