import { expect } from '@open-wc/testing';
import { visibleRange } from '../../src/element/visible-range.ts';

describe('visibleRange', () => {
  const base = { count: 500, pitch: 50, scrollTop: 0, viewport: 200, overscan: 3 };

  it('renders the rows in view plus the overscan below at the top of the list', () => {
    expect(visibleRange(base)).to.deep.equal({ start: 0, end: 7 });
  });

  it('renders the rows in view plus the overscan on both sides in the middle', () => {
    // Rows 100 to 104 intersect [5010, 5210): the first is partly scrolled out.
    expect(visibleRange({ ...base, scrollTop: 5010 })).to.deep.equal({ start: 97, end: 108 });
  });

  it('clamps to the list at its end, and when scrolled past it (after rows were removed)', () => {
    expect(visibleRange({ ...base, scrollTop: 500 * 50 - 200 })).to.deep.equal({ start: 493, end: 500 });
    expect(visibleRange({ ...base, count: 10, scrollTop: 5000 })).to.deep.equal({ start: 7, end: 10 });
  });

  it('renders every row when the pitch is unknown, and none for an empty list', () => {
    expect(visibleRange({ ...base, count: 12, pitch: 0 })).to.deep.equal({ start: 0, end: 12 });
    expect(visibleRange({ ...base, count: 0 })).to.deep.equal({ start: 0, end: 0 });
  });
});
