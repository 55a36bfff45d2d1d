// Diagnostic: a Chromium trace (DevTools Tracing domain; no Network domain) of the element bench, read for the
// renderer's main-thread tasks between the bench's marks. Each task has a wall duration and a thread (CPU)
// duration: on a shared machine the wall time of a task swells while the thread waits for a core, its CPU
// time does not, so the CPU time says what the task itself costs. Prints the longest tasks by CPU time, each
// with the trace events that took its time.
// Usage: npm run build && node --import tsx bench/trace-element.ts [--files 500] [--size 20000] [--top 10]
//   [--categories blink,mojom] [--out trace.json]
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { launchChromium } from './browser.ts';
import { startServer } from './child.ts';
import { inPage, type ElementResult } from './element.ts';

interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: Record<string, unknown> & { data?: Record<string, unknown>; name?: string };
}

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '500' },
    size: { type: 'string', default: '20000' },
    top: { type: 'string', default: '10' },
    out: { type: 'string', default: '' },
    /** More trace categories, comma-separated (`blink,mojom` say), to split a task that the defaults leave whole. */
    categories: { type: 'string', default: '' },
  },
});

const CATEGORIES = [
  'toplevel',
  'devtools.timeline',
  'blink.user_timing',
  'v8',
  'disabled-by-default-v8.gc',
  ...values.categories.split(',').filter(Boolean),
];

const browser = await launchChromium();
const server = await startServer('ref');
let events: TraceEvent[];
let result: ElementResult;
try {
  const page = await browser.newPage();
  await page.goto(`${server.origin}/bench/element.html`);
  const complete = new Promise<string>((resolve) =>
    browser.cdp.on('Tracing.tracingComplete', (params) => resolve(params.stream as string)),
  );
  await browser.cdp.send('Tracing.start', {
    traceConfig: { includedCategories: CATEGORIES, recordMode: 'recordContinuously' },
    transferMode: 'ReturnAsStream',
    streamFormat: 'json',
  });
  result = await page.evaluate<ElementResult>(
    `((__name) => (${inPage.toString()})(${values.files}, ${values.size}, 300000))((target) => target)`,
    310_000,
  );
  await browser.cdp.send('Tracing.end');
  const stream = await complete;
  let text = '';
  for (;;) {
    const chunk = await browser.cdp.send<{ data: string; eof: boolean; base64Encoded?: boolean }>('IO.read', {
      handle: stream,
      size: 4 * 1024 * 1024,
    });
    text += chunk.base64Encoded ? Buffer.from(chunk.data, 'base64').toString('utf8') : chunk.data;
    if (chunk.eof) break;
  }
  await browser.cdp.send('IO.close', { handle: stream });
  if (values.out) await writeFile(values.out, text);
  const parsed = JSON.parse(text) as TraceEvent[] | { traceEvents: TraceEvent[] };
  events = Array.isArray(parsed) ? parsed : parsed.traceEvents;
} finally {
  await server.stop();
  await browser.close();
}
console.log(
  `page: ${result.longTasks} long tasks, longest ${result.longestTaskMs.toFixed(0)} ms, upload ${(result.totalMs / 1000).toFixed(2)} s, fps ${result.fps.toFixed(0)} (traced: slower than the bench)`,
);

// The page's main thread is the renderer thread that recorded the bench's marks.
const mark = (name: string) => events.find((e) => e.name === name && e.cat.includes('user_timing'));
const start = mark('element-bench:start');
const end = mark('element-bench:end');
if (!start || !end) throw new Error('The trace holds no element-bench marks.');
const thread = (e: TraceEvent) => e.pid === start.pid && e.tid === start.tid;
const mine = events.filter((e) => thread(e) && e.ph === 'X' && e.ts >= start.ts - 1000 && e.ts <= end.ts);
const tasks = mine.filter(
  (e) => e.cat === 'toplevel' && (e.name === 'ThreadControllerImpl::RunTask' || e.name === 'RunTask'),
);
const ms = (us = 0) => us / 1000;
const over = (limit: number, pick: (t: TraceEvent) => number | undefined) =>
  tasks.filter((t) => ms(pick(t)) > limit).length;
const cpu = tasks.reduce((sum, t) => sum + ms(t.tdur), 0);
console.log(
  `${tasks.length} tasks in ${ms(end.ts - start.ts).toFixed(0)} ms; CPU ${cpu.toFixed(0)} ms; over 50 ms: ` +
    `${over(50, (t) => t.dur)} by wall time, ${over(50, (t) => t.tdur)} by CPU time; over 30 ms CPU: ${over(30, (t) => t.tdur)}`,
);
const describe = (e: TraceEvent): string => {
  const data = e.args?.data ?? {};
  const detail = [data.functionName, data.type, typeof data.url === 'string' ? data.url.split('/').pop() : '']
    .filter(Boolean)
    .join(' ');
  return detail ? `${e.name} (${detail})` : e.name;
};
const top = [...tasks].sort((a, b) => (b.tdur ?? 0) - (a.tdur ?? 0)).slice(0, Number(values.top));
for (const task of top) {
  // Self time of each event inside the task: its duration less that of the events directly inside it.
  const inside = mine
    .filter((e) => e !== task && e.ts >= task.ts && e.ts + (e.dur ?? 0) <= task.ts + (task.dur ?? 0))
    .sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
  const self = new Map<string, { wall: number; cpu: number; count: number }>();
  const stack: { e: TraceEvent; childWall: number; childCpu: number }[] = [];
  const close = (frame: { e: TraceEvent; childWall: number; childCpu: number }) => {
    const key = describe(frame.e);
    const entry = self.get(key) ?? { wall: 0, cpu: 0, count: 0 };
    entry.wall += (frame.e.dur ?? 0) - frame.childWall;
    entry.cpu += (frame.e.tdur ?? 0) - frame.childCpu;
    entry.count += 1;
    self.set(key, entry);
    const parent = stack.at(-1);
    if (parent) {
      parent.childWall += frame.e.dur ?? 0;
      parent.childCpu += frame.e.tdur ?? 0;
    }
  };
  for (const e of inside) {
    while (stack.length && e.ts >= stack.at(-1)!.e.ts + (stack.at(-1)!.e.dur ?? 0)) close(stack.pop()!);
    stack.push({ e, childWall: 0, childCpu: 0 });
  }
  while (stack.length) close(stack.pop()!);
  const childCpu = inside.length ? [...self.values()].reduce((s, x) => s + x.cpu, 0) : 0;
  console.log(
    `\n+${ms(task.ts - start.ts).toFixed(0)} ms: task ${ms(task.dur).toFixed(1)} ms wall, ${ms(task.tdur).toFixed(1)} ms CPU ` +
      `(${ms((task.tdur ?? 0) - childCpu).toFixed(1)} ms CPU outside any event)`,
  );
  for (const [name, x] of [...self].sort((a, b) => b[1].cpu - a[1].cpu).slice(0, 12)) {
    console.log(
      `  ${ms(x.cpu).toFixed(1).padStart(6)} ms CPU ${ms(x.wall).toFixed(1).padStart(6)} ms wall  ×${x.count}  ${name}`,
    );
  }
}
