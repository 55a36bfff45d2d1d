// The markdown tables of `npm run bench`: the upload rows of one network with the run's raw limit (or the
// statement that the limit is wrong), the many-small-files rows and the capacity test. What each column
// means is in bench/README.md.
import type { CapacityResult } from './capacity.ts';
import type { Contender } from './contenders.ts';
import { formatLoad, worstLoad, type MachineLoad } from './load.ts';

const MiB = 1024 * 1024;

/** One measured upload. */
export interface Sample {
  mibPerSecond: number;
  bytes: number;
  browserCpu: number;
  rendererCpu: number;
  serverCpu: number;
  heapIdle: number;
  heapPeak: number;
  /** Main-thread tasks over 50 ms during the upload (Long Tasks API; -1 where the engine has none). */
  longTasks: number;
  /** The longest of them, in ms (0 when none). */
  longestTaskMs: number;
  serverMaxRss: number;
  serverIdleRss: number;
  load: MachineLoad;
}

/** One contender's runs on one network. */
export interface Row {
  contender: Contender;
  bytes: number;
  samples: Sample[];
  skipped?: string;
  errors: string[];
}

/** A WebSocket row more than this much above the fastest plain WebSocket row means the limit is wrong. */
export const LIMIT_TOLERANCE = 1.05;

/** The worst run's count of page tasks over 50 ms and the longest task of all runs; "–" without the API. */
function longTasksCell(samples: Sample[]): string {
  if (samples.some((s) => s.longTasks < 0)) return '–';
  const most = Math.max(...samples.map((s) => s.longTasks));
  return `${most} · ${fixed(Math.max(...samples.map((s) => s.longestTaskMs)), 0)}`;
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
export const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const mib = (bytes: number) => fixed(bytes / MiB, 0);
const speedOf = (row: Row) => median(row.samples.map((s) => s.mibPerSecond));

/** The run's raw limit: the fastest plain WebSocket row, and the rows that beat it by more than 5 %. */
export function rawLimit(rows: Row[]): { limit?: Row; speed: number; beatenBy: Row[] } {
  const measured = rows.filter((row) => row.samples.length > 0);
  let limit: Row | undefined;
  for (const row of measured) {
    if (row.contender.limitCandidate && (!limit || speedOf(row) > speedOf(limit))) limit = row;
  }
  if (!limit) return { speed: NaN, beatenBy: [] };
  const speed = speedOf(limit);
  const beatenBy = measured.filter(
    (row) => row.contender.webSocketToDisk && speedOf(row) > speed * LIMIT_TOLERANCE,
  );
  return { limit, speed, beatenBy };
}

/**
 * The upload table of one network, preceded by what the limit is (or that it is wrong, and then no ratio is
 * printed), and followed by the note on rows taken under load.
 */
export function uploadTable(rows: Row[], fileSize: number): string {
  const { limit, speed: limitSpeed, beatenBy } = rawLimit(rows);
  const fetchRow = rows.find((row) => row.contender.isFetch && row.samples.length > 0);
  const fetchSpeed = fetchRow ? speedOf(fetchRow) : NaN;
  const ratiosValid = limit !== undefined && beatenBy.length === 0;
  const lines: string[] = [];
  if (!limit) {
    lines.push('No plain WebSocket row ran in this run: there is no raw limit, and no ratio to it.');
  } else if (!ratiosValid) {
    const beaters = beatenBy
      .map(
        (row) =>
          `${row.contender.name} (${fixed(speedOf(row))} MiB/s, +${fixed((speedOf(row) / limitSpeed - 1) * 100, 0)} %)`,
      )
      .join('; ');
    lines.push(
      `**The raw limit is wrong in this run**: ${beaters} beat the fastest plain WebSocket row ` +
        `(${limit.contender.name}, ${fixed(limitSpeed)} MiB/s) by more than ${fixed((LIMIT_TOLERANCE - 1) * 100, 0)} %. ` +
        'A limit is the fastest plain sender we know how to write: add a plain row that does what these do. ' +
        'No ratios to it are printed.',
    );
  } else {
    const candidates = rows.filter((row) => row.contender.limitCandidate && row.samples.length > 0).length;
    lines.push(
      `Raw limit of this run: **${fixed(limitSpeed)} MiB/s**, ${limit.contender.name} — the fastest of the ` +
        `${candidates} plain WebSocket rows; no WebSocket row beat it by more than ${fixed((LIMIT_TOLERANCE - 1) * 100, 0)} %.`,
    );
  }
  lines.push(
    '',
    "| contender | MiB sent | MiB/s | × raw limit | × fetch() | browser CPU s/GiB: all procs (renderer) | server CPU s/GiB | JS heap MiB: peak (idle) | page tasks > 50 ms: most · longest ms | server RSS MiB: peak (idle) | others' load: CPU % · steal · load avg | runs ok |",
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  );
  let loadedRows = 0;
  for (const row of rows) {
    const { contender, samples } = row;
    const name =
      (row === limit ? '**limit:** ' : '') +
      contender.name +
      (row.bytes < fileSize ? ` — first ${mib(row.bytes)} MiB only` : '');
    if (samples.length === 0) {
      lines.push(
        `| ${name} | ${mib(row.bytes)} | ${row.skipped ?? 'failed: ' + row.errors.join('; ')} | | | | | | | | | 0 |`,
      );
      continue;
    }
    const speed = speedOf(row);
    const m = (pick: (s: Sample) => number) => median(samples.map(pick));
    const max = (pick: (s: Sample) => number) => Math.max(...samples.map(pick));
    const load = worstLoad(samples.map((s) => s.load));
    if (load?.loaded) loadedRows++;
    lines.push(
      `| ${name} | ${mib(row.bytes)} | ${fixed(speed)} | ${ratiosValid ? fixed(speed / limitSpeed, 2) : '–'} | ` +
        `${fixed(speed / fetchSpeed, 2)} | ` +
        `${fixed(m((s) => s.browserCpu))} (${fixed(m((s) => s.rendererCpu))}) | ${fixed(
          m((s) => s.serverCpu),
          2,
        )} | ` +
        `${fixed(max((s) => s.heapPeak) / MiB)} (${fixed(m((s) => s.heapIdle) / MiB)}) | ` +
        `${longTasksCell(samples)} | ` +
        `${fixed(max((s) => s.serverMaxRss) / MiB, 0)} (${fixed(m((s) => s.serverIdleRss) / MiB, 0)}) | ` +
        `${formatLoad(load)} | ${samples.length}/${samples.length + row.errors.length}` +
        `${row.errors.length ? ' ⚠ ' + row.errors.join('; ') : ''} |`,
    );
  }
  if (loadedRows > 0) {
    lines.push(
      '',
      `⚠ ${loadedRows} row(s) ran while processes not of this bench used more than 10 % of the machine (or the ` +
        'hypervisor stole more than 5 %): not quiet measurements; decide no default on them.',
    );
  }
  return lines.join('\n');
}

/** One way of sending many small files, measured once. */
export interface ManyFilesResult {
  name: string;
  files: number;
  fileBytes: number;
  concurrency: number;
  seconds: number;
  /** Wall time per file, minus the time the link's rate alone needs for its bytes (0 when unlimited). */
  overheadMs: number;
  ok: number;
  error?: string;
  load?: MachineLoad;
}

export function manyFilesTable(results: ManyFilesResult[] | string): string {
  if (typeof results === 'string') return results;
  const lines = [
    "| way | files × KiB | in parallel | s | ms per file | overhead ms per file | files stored intact | others' load: CPU % · steal · load avg |",
    '|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of results) {
    const failed = r.error ? ` ⚠ ${r.error}` : '';
    lines.push(
      `| ${r.name} | ${r.files} × ${fixed(r.fileBytes / 1024, 0)} | ${r.concurrency} | ${r.error && !r.ok ? '–' : fixed(r.seconds, 2)} | ` +
        `${r.error && !r.ok ? '–' : fixed((r.seconds * 1000) / r.files, 1)} | ${r.error && !r.ok ? '–' : fixed(r.overheadMs, 1)} | ` +
        `${r.ok}/${r.files}${failed} | ${formatLoad(r.load)} |`,
    );
  }
  return lines.join('\n');
}

export function capacityTable(results: CapacityResult[] | string): string {
  if (typeof results === 'string') return results;
  return [
    '| server | clients × MiB | aggregate MiB/s | wall s | server CPU s (s/GiB; of which system) | server RSS MiB: peak (idle) | ack p50 / p99 ms | files ok | corrupted |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|',
    ...results.map(
      (r) =>
        `| ${r.name} | ${r.clients} × ${r.mib} | ${fixed(r.mibPerSecond)} | ${fixed(r.seconds)} | ${fixed(r.serverCpuSeconds)} (${fixed(r.serverCpuPerGiB, 2)}; ${fixed(r.serverSystemPerGiB, 2)}) | ` +
        `${fixed(r.serverMaxRss / MiB, 0)} (${fixed(r.serverIdleRss / MiB, 0)}) | ${fixed(r.ackP50)} / ${fixed(r.ackP99)} | ${r.ok}/${r.clients} | ${fixed(r.corrupted, 0)} |`,
    ),
    ...results.flatMap((r) =>
      r.failed.length ? ['', `Failures (${r.name}): ${r.failed.slice(0, 5).join('; ')}`] : [],
    ),
  ].join('\n');
}
