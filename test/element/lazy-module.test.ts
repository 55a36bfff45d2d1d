// A module the element loads with import() when first needed (lazy-module.ts): null until it arrives, then one
// update of the host; set up at once when the page loaded it already; a failed load tried again on the next
// ask, never in a loop of its own. Real import() of a real module; the host is recorded.
import { expect } from '@open-wc/testing';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { LazyModule } from '../../src/element/lazy-module.ts';

type Format = typeof import('../../src/element/format.ts');

function recordedHost(): ReactiveControllerHost & { updates: number } {
  return {
    updates: 0,
    addController: (_controller: ReactiveController) => undefined,
    removeController: (_controller: ReactiveController) => undefined,
    requestUpdate() {
      this.updates += 1;
    },
    updateComplete: Promise.resolve(true),
  };
}

describe('LazyModule', () => {
  it('is null until loaded, then sets up once and asks the host for one update', async () => {
    const host = recordedHost();
    const setUps: Format[] = [];
    const lazy = new LazyModule(
      host,
      () => import('../../src/element/format.ts'),
      (m) => setUps.push(m),
    );
    expect(lazy.get()).to.equal(null);
    expect(lazy.loading).to.be.instanceOf(Promise);
    const format = await lazy.loading!;
    expect(lazy.get()).to.equal(format);
    expect(format.formatDuration(61)).to.be.a('string');
    expect([setUps.length, host.updates, lazy.loading]).to.deep.equal([1, 1, null]);
    lazy.get();
    await lazy.preload();
    expect([setUps.length, host.updates]).to.deep.equal([1, 1], 'loaded once');
  });

  it('starts with a module the page loaded already: set up at once, no update asked', async () => {
    const host = recordedHost();
    const format = await import('../../src/element/format.ts');
    let setUps = 0;
    const lazy = new LazyModule(
      host,
      () => Promise.reject(new Error('not asked')),
      () => (setUps += 1),
      format,
    );
    expect([lazy.get(), setUps, host.updates, lazy.loading]).to.deep.equal([format, 1, 0, null]);
    expect(await lazy.preload()).to.equal(format);
    expect([setUps, host.updates]).to.deep.equal([1, 0], 'a preload (the idle one) sets up nothing again');
  });

  it('tries a failed load again on the next ask, and asks the host for nothing meanwhile', async () => {
    const host = recordedHost();
    let loads = 0;
    const lazy = new LazyModule(host, () => {
      loads += 1;
      return loads === 1 ? Promise.reject(new TypeError('network')) : import('../../src/element/format.ts');
    });
    let failure: unknown;
    await lazy.preload().catch((error: unknown) => (failure = error));
    expect((failure as Error).message).to.equal('network');
    expect([lazy.get() === null, loads, host.updates]).to.deep.equal([true, 2, 0]);
    await lazy.loading;
    expect(lazy.get()).to.not.equal(null);
    expect([loads, host.updates]).to.deep.equal([2, 1]);
  });
});
