// The element's number formatting, without rendering: sizes in decimal units with three significant digits
// at most, durations as a clock (unknown as --:--), whole percentages in the locale's way.
import { expect } from '@open-wc/testing';
import { formatDuration, formatPercentage, formatSize } from '../../src/element/format.ts';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

describe('format', () => {
  it('formatSize: whole bytes, then decimal units with at most three significant digits', () => {
    expect(formatSize(0, UNITS, 'en')).to.equal('0 B');
    expect(formatSize(999, UNITS, 'en')).to.equal('999 B');
    expect(formatSize(1000, UNITS, 'en')).to.equal('1 kB');
    expect(formatSize(1536, UNITS, 'en')).to.equal('1.54 kB');
    expect(formatSize(12_345_678, UNITS, 'en')).to.equal('12.3 MB');
    expect(formatSize(123_456_789, UNITS, 'en')).to.equal('123 MB');
    expect(formatSize(2_147_483_648, UNITS, 'en')).to.equal('2.15 GB');
  });

  it('formatSize: stays in the largest unit it has, never goes below zero, and uses the locale', () => {
    expect(formatSize(5e15, UNITS, 'en')).to.equal('5,000 TB');
    expect(formatSize(-5, UNITS, 'en')).to.equal('0 B');
    expect(formatSize(1536, ['o', 'ko'], 'fr')).to.equal('1,54 ko');
  });

  it('formatDuration: m:ss, h:mm:ss from an hour, rounded up, unknown as --:--', () => {
    expect(formatDuration(0)).to.equal('0:00');
    expect(formatDuration(4.2)).to.equal('0:05');
    expect(formatDuration(65)).to.equal('1:05');
    expect(formatDuration(3600)).to.equal('1:00:00');
    expect(formatDuration(2 * 3600 + 3 * 60 + 9)).to.equal('2:03:09');
    for (const unknown of [Infinity, NaN, -1]) expect(formatDuration(unknown)).to.equal('--:--');
  });

  it("formatPercentage: whole, rounded down (never 100 % before the end), in the locale's way", () => {
    expect(formatPercentage(42.9, 'en')).to.equal('42%');
    expect(formatPercentage(99.99, 'en')).to.equal('99%');
    expect(formatPercentage(100, 'en')).to.equal('100%');
    // French puts a narrow no-break space before the sign.
    expect(formatPercentage(42, 'fr')).to.match(/^42\s%$/u);
  });
});
