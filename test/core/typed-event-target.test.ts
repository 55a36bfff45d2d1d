// TypedEventTarget: typed listeners on a plain EventTarget, and emit building the CustomEvent.
import { expect } from '@open-wc/testing';
import { TypedEventTarget } from '../../src/core/typed-event-target.ts';

interface Map {
  ping: CustomEvent<{ n: number }>;
}

class Pinger extends TypedEventTarget<Map> {
  ping(n: number): void {
    this.emit('ping', { n });
  }
}

describe('TypedEventTarget', () => {
  it('delivers the detail to typed listeners, with the target as this, until removed', () => {
    const pinger = new Pinger();
    const heard: number[] = [];
    const targets: unknown[] = [];
    const listener = function (this: Pinger, event: Map['ping']): void {
      targets.push(this);
      heard.push(event.detail.n);
    };
    pinger.addEventListener('ping', listener);
    pinger.ping(1);
    pinger.removeEventListener('ping', listener);
    pinger.ping(2);
    expect(heard).to.deep.equal([1]);
    expect(targets).to.deep.equal([pinger]);
    expect(pinger).to.be.instanceOf(EventTarget);
  });
});
