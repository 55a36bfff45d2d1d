// The page's memory of early grants (early-memory.ts) over the browser's real sessionStorage: what one page
// load wrote, the next one (a new memory over the same storage, as after a reload) reads back; anything that
// is not a grant reads as none; a storage that throws costs nothing but the memory.
import { expect } from '@open-wc/testing';
import { EarlyGrants } from '../../src/core/early-memory.ts';
import { V1_TERMS, type Terms } from '../../src/protocol/index.ts';

const url = `ws://early-memory.test/${Math.random().toString(36).slice(2)}`;
const granted: Terms = {
  ...V1_TERMS,
  version: 2,
  encoding: 'binary',
  window: 16,
  maxChunk: 4 * 1024 * 1024,
  integrity: 'sha256-blocks',
  block: 4 * 1024 * 1024,
  fin: true,
  resumable: true,
  credit: 64 * 1024 * 1024,
  reuse: true,
  early: true,
};

afterEach(() => sessionStorage.removeItem(`ws-file-upload:early:${url}`));

describe('EarlyGrants', () => {
  it('keeps a grant over a reload: a new memory over the same sessionStorage recalls its terms', () => {
    new EarlyGrants(sessionStorage).remember(url, granted);
    const recalled = new EarlyGrants(sessionStorage).recall(url);
    expect(recalled).to.include({
      encoding: 'binary',
      window: 16,
      maxChunk: 4 * 1024 * 1024,
      integrity: 'sha256-blocks',
      block: 4 * 1024 * 1024,
      credit: 64 * 1024 * 1024,
      early: true,
      fin: true,
    });
    // Only what early data goes under: no id, no resume, no reuse claimed for a socket that carried nothing.
    expect(recalled).to.include({ resumable: false, reuse: false });
  });

  it('forgets a server that did not take early data, and one whose answer granted none', () => {
    const memory = new EarlyGrants(sessionStorage);
    memory.remember(url, granted);
    memory.forget(url);
    expect(memory.recall(url)).to.equal(null);
    expect(new EarlyGrants(sessionStorage).recall(url)).to.equal(null);
    memory.remember(url, granted);
    memory.remember(url, { ...granted, early: false });
    expect(new EarlyGrants(sessionStorage).recall(url)).to.equal(null);
  });

  it('recalls it only for an upload that offers the integrity it was granted under', () => {
    const memory = new EarlyGrants(sessionStorage);
    memory.remember(url, granted);
    expect(memory.recallFor(url, true)).to.not.equal(null);
    expect(memory.recallFor(url, false)).to.equal(null);
  });

  it('reads anything but a grant as none: damaged text, other encodings, zero sizes', () => {
    const key = `ws-file-upload:early:${url}`;
    for (const text of [
      '{',
      'null',
      JSON.stringify({ ...granted, encoding: 'base64' }),
      JSON.stringify({ ...granted, maxChunk: 0 }),
      JSON.stringify({ ...granted, early: 'yes' }),
    ]) {
      sessionStorage.setItem(key, text);
      expect(new EarlyGrants(sessionStorage).recall(url), text).to.equal(null);
    }
  });

  it('goes on in memory when the storage throws (quota, privacy mode)', () => {
    const throwing = {
      getItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
      setItem: () => {
        throw new DOMException('full', 'QuotaExceededError');
      },
      removeItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
    } as unknown as Storage;
    const memory = new EarlyGrants(throwing);
    expect(memory.recall(url)).to.equal(null);
    memory.remember(url, granted);
    expect(memory.recall(url)?.early).to.equal(true);
    memory.forget(url);
    expect(memory.recall(url)).to.equal(null);
  });
});
