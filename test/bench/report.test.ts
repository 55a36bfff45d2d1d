// The bench report's raw limit (bench/report.ts): the limit is the fastest plain WebSocket row of the run,
// and a WebSocket row more than 5 % above it makes the report say the limit is wrong and print no ratios.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Contender } from '../../bench/contenders.ts';
import { rawLimit, uploadTable, type Row, type Sample } from '../../bench/report.ts';

const MiB = 1024 * 1024;
const quiet = { othersPercent: 1, stealPercent: 0, loadAvgMax: 1, loaded: false };

function row(name: string, mibPerSecond: number, flags: Partial<Contender>, loaded = false): Row {
  const sample: Sample = {
    mibPerSecond,
    bytes: 8 * MiB,
    browserCpu: 1,
    rendererCpu: 1,
    serverCpu: 1,
    heapIdle: MiB,
    heapPeak: MiB,
    longTasks: 0,
    longestTaskMs: 0,
    serverMaxRss: 80 * MiB,
    serverIdleRss: 60 * MiB,
    load: loaded ? { ...quiet, othersPercent: 40, loaded: true } : quiet,
  };
  return {
    contender: { name, server: 'disk', page: 'rawWebSocket', options: {}, ...flags },
    bytes: 8 * MiB,
    samples: [sample],
    errors: [],
  };
}

const plain = { limitCandidate: true, webSocketToDisk: true };

describe('bench report: raw limit', () => {
  it('takes the fastest plain WebSocket row as the limit and prints ratios to it', () => {
    const rows = [
      row('raw A', 100, plain),
      row('raw B', 150, plain),
      row('ours', 140, { webSocketToDisk: true, server: 'ref', page: 'core' }),
      row('fetch', 300, { isFetch: true, server: 'http', page: 'fetchPost' }),
    ];
    const { limit, speed, beatenBy } = rawLimit(rows);
    assert.equal(limit?.contender.name, 'raw B');
    assert.equal(speed, 150);
    assert.deepEqual(beatenBy, []);
    const table = uploadTable(rows, 8 * MiB);
    assert.match(table, /Raw limit of this run: \*\*150\.0 MiB\/s\*\*, raw B/);
    assert.match(table, /\| ours \| 8 \| 140\.0 \| 0\.93 \|/);
    // fetch() is not a WebSocket: faster than the limit is no contradiction.
    assert.doesNotMatch(table, /limit is wrong/);
  });

  it('says the limit is wrong, and prints no ratio, when a WebSocket row beats it by more than 5 %', () => {
    const rows = [row('raw A', 100, plain), row('ours', 106, { webSocketToDisk: true })];
    assert.deepEqual(
      rawLimit(rows).beatenBy.map((r) => r.contender.name),
      ['ours'],
    );
    const table = uploadTable(rows, 8 * MiB);
    assert.match(table, /\*\*The raw limit is wrong in this run\*\*: ours \(106\.0 MiB\/s, \+6 %\)/);
    assert.match(table, /\| ours \| 8 \| 106\.0 \| – \|/);
  });

  it('accepts a WebSocket row within 5 % of the limit', () => {
    const rows = [row('raw A', 100, plain), row('ours', 104.9, { webSocketToDisk: true })];
    assert.deepEqual(rawLimit(rows).beatenBy, []);
  });

  it('marks a row measured under others’ load', () => {
    const table = uploadTable([row('raw A', 100, plain, true)], 8 * MiB);
    assert.match(table, /⚠ 40 %/);
    assert.match(table, /1 row\(s\) ran while processes not of this bench/);
  });
});

describe('bench report: main-thread long tasks', () => {
  it('shows the worst run’s count of tasks over 50 ms and the longest task of all runs', () => {
    const ours = row('ours', 100, { webSocketToDisk: true });
    const first = ours.samples[0]!;
    ours.samples = [
      { ...first, longTasks: 3, longestTaskMs: 61.4 },
      { ...first, longTasks: 1, longestTaskMs: 120.2 },
    ];
    const table = uploadTable([row('raw', 100, plain), ours], 8 * MiB);
    assert.match(table, /page tasks > 50 ms: most · longest ms/);
    assert.match(table, /\| ours \|[^\n]*\| 3 · 120 \|/);
  });

  it('prints a dash where the engine has no Long Tasks API', () => {
    const ours = row('ours', 100, { webSocketToDisk: true });
    ours.samples = [{ ...ours.samples[0]!, longTasks: -1 }];
    const line = uploadTable([row('raw', 100, plain), ours], 8 * MiB)
      .split('\n')
      .find((l) => l.startsWith('| ours'))!;
    assert.equal(line.split('|')[9]!.trim(), '–');
  });
});
