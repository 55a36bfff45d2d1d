// Diagnostic: a Chromium CPU profile (DevTools Profiler domain, no Network domain) of the element bench,
// summarised per busy stretch of the main thread: every run of non-idle samples longer than --min ms, with
// its top functions by self and by total time. For finding what a long task is made of.
// Usage: npm run build && node --import tsx bench/profile-element.ts [--files 500] [--size 20000] [--min 40]
//   [--out profile.cpuprofile] [--images] [--slowdown 1]
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { launchChromium } from './browser.ts';
import { startServer } from './child.ts';
import { inPage, type ElementResult } from './element.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '500' },
    size: { type: 'string', default: '20000' },
    min: { type: 'string', default: '40' },
    interval: { type: 'string', default: '100' },
    top: { type: 'string', default: '12' },
    out: { type: 'string', default: '' },
    images: { type: 'boolean', default: false },
    slowdown: { type: 'string', default: '1' },
  },
});

const browser = await launchChromium();
const server = await startServer('ref');
let profile: Profile;
let result: ElementResult;
try {
  const page = await browser.newPage();
  await page.goto(`${server.origin}/bench/element.html`);
  if (Number(values.slowdown) > 1)
    await page.send('Emulation.setCPUThrottlingRate', { rate: Number(values.slowdown) });
  await page.send('Profiler.enable');
  await page.send('Profiler.setSamplingInterval', { interval: Number(values.interval) });
  await page.send('Profiler.start');
  result = await page.evaluate<ElementResult>(
    `((__name) => (${inPage.toString()})(${values.files}, ${values.size}, 300000, ${values.images}))((target) => target)`,
    310_000,
  );
  ({ profile } = await page.send<{ profile: Profile }>('Profiler.stop', {}, 60_000));
} finally {
  await server.stop();
  await browser.close();
}
if (values.out) await writeFile(values.out, JSON.stringify(profile));
console.log(
  `longTasks ${result.longTasks}, longest ${result.longestTaskMs.toFixed(0)} ms, upload ${(result.totalMs / 1000).toFixed(2)} s, fps ${result.fps.toFixed(0)}`,
);
for (const frame of result.longFrames) console.log(`  LoAF ${frame}`);

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
// The page runs the minified bundle: positions in it are mapped back to the sources through its source map
// (source-map-js comes with the build tools; without it, minified positions are shown).
type Mapper = (line: number, column: number) => string | null;
let mapBundle: Mapper = () => null;
try {
  const { SourceMapConsumer } = await import('source-map-js');
  const map = JSON.parse(
    await readFile(new URL('../dist/ws-file-upload.bundle.min.js.map', import.meta.url), 'utf8'),
  );
  const consumer = new SourceMapConsumer(map);
  mapBundle = (line, column) => {
    const at = consumer.originalPositionFor({ line, column });
    if (!at.source) return null;
    return `${at.source.replace(/^.*node_modules\//, '').replace(/^(\.\.\/)+/, '')}:${at.line}${at.name ? ` (${at.name})` : ''}`;
  };
} catch {
  // no source map support: minified positions
}
const label = (node: ProfileNode): string => {
  const { functionName, url, lineNumber, columnNumber } = node.callFrame;
  const file = url ? url.slice(url.lastIndexOf('/') + 1) : '';
  const mapped = file.endsWith('.bundle.min.js') ? mapBundle(lineNumber + 1, columnNumber) : null;
  const where = mapped ?? (file ? `${file}:${lineNumber + 1}:${columnNumber + 1}` : '');
  return `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
};
const IDLE = new Set(['(idle)']);
// Busy stretches: consecutive non-idle samples, in ms from the profile start.
let time = 0;
const samples = profile.samples.map((id, i) => {
  time += profile.timeDeltas[i]! / 1000;
  return { id, at: time, ms: (profile.timeDeltas[i + 1] ?? 0) / 1000 };
});
const stretches: (typeof samples)[] = [];
let current: typeof samples = [];
for (const sample of samples) {
  if (IDLE.has(byId.get(sample.id)!.callFrame.functionName)) {
    if (current.length) stretches.push(current);
    current = [];
  } else current.push(sample);
}
if (current.length) stretches.push(current);
const min = Number(values.min);
const top = Number(values.top);
const long = stretches.filter((s) => s.reduce((sum, x) => sum + x.ms, 0) >= min);
console.log(`\n${long.length} busy stretches of ${min} ms or more`);
const summarise = (stretch: typeof samples) => {
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let ms = 0;
  for (const sample of stretch) {
    ms += sample.ms;
    const node = byId.get(sample.id)!;
    self.set(label(node), (self.get(label(node)) ?? 0) + sample.ms);
    const seen = new Set<string>();
    for (let at: number | undefined = sample.id; at !== undefined; at = parent.get(at)) {
      const name = label(byId.get(at)!);
      if (seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + sample.ms);
    }
  }
  return { self, total, ms };
};
const list = (map: Map<string, number>) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, t]) => `    ${t.toFixed(1).padStart(7)} ms  ${name}`)
    .join('\n');
const all = summarise(long.flat());
console.log(
  `all of them, ${all.ms.toFixed(0)} ms:\n  self:\n${list(all.self)}\n  total:\n${list(all.total)}`,
);
const whole = summarise(stretches.flat());
console.log(
  `\nthe whole run, ${whole.ms.toFixed(0)} ms busy:\n  self:\n${list(whole.self)}\n  total:\n${list(whole.total)}`,
);
for (const stretch of long) {
  const { self, total, ms } = summarise(stretch);
  console.log(
    `\n@ ${stretch[0]!.at.toFixed(0)} ms: ${ms.toFixed(1)} ms busy\n  self:\n${list(self)}\n  total:\n${list(total)}`,
  );
}
