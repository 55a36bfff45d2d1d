// Element responsiveness: N files (default 500 × 20 kB) added at once to <ws-file-upload> and uploaded to
// the reference server in real Chromium; reports the page's long main-thread tasks and frames on the way.
// `npm run bench` runs it as one section of its report; `npm run bench:element` runs it alone:
//   npm run bench:element -- [--files 500] [--size 20000] [--images | --both] [--runs 1] [--slowdown 1]
// With --images every file is the same 1200 × 900 JPEG, so that each row makes a thumbnail (previews are on by
// default), and the list is scrolled through while the files upload, so that every row comes into view.
// The page is driven over the same raw DevTools client as the rest of the bench (no Network domain, which
// would copy every WebSocket frame to the driver and slow the page it measures).
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { launchChromium, type LaunchedBrowser } from './browser.ts';
import { startServer } from './child.ts';

/** What one run measured, in the page. */
export interface ElementResult {
  files: number;
  size: number;
  /** Whether the files were images (each row then makes a preview). */
  images: boolean;
  /** Distinct thumbnails seen in the list while it was scrolled through. */
  previews: number;
  complete: number;
  /** How long `addFiles()` itself took. */
  addMs: number;
  /** From `addFiles()` to the element's `complete` event. */
  totalMs: number;
  progressEvents: number;
  frames: number;
  fps: number;
  worstFrameGapMs: number;
  /** Main-thread tasks over 50 ms (the Long Tasks API) from `addFiles()` on. */
  longTasks: number;
  longestTaskMs: number;
  /**
   * The element's own rendering, apart from the uploads' work in the same tasks: how many updates it made
   * (render and commit to the DOM), their total and their longest time. The count does not depend on the
   * machine's load; it shows how well renders are batched.
   */
  renders: number;
  renderMs: number;
  longestRenderMs: number;
  /**
   * Where the time of each long animation frame went (Long Animation Frames API, where the browser has it):
   * its duration, then its longest scripts as `invoker ms`. For finding the cause of a long task.
   */
  longFrames: string[];
}

/**
 * Runs in the page (serialised with `toString()`, hence only browser globals): makes the files, lets that
 * task end, then adds them to the element in a task of their own, as a drop would, and watches until the
 * queue completes (bounded by `timeoutMs`). Exported for bench/profile-element.ts.
 */
export async function inPage(
  files: number,
  size: number,
  timeoutMs: number,
  images = false,
): Promise<ElementResult> {
  // The global tag map types it (the element's module is in this project); the page runs the bundle.
  const el = document.querySelector('ws-file-upload')!;
  el.url = `ws://${location.host}/upload`;
  // Making 500 Files is the bench's work, not the element's: done before observing, in an earlier task.
  let list: File[];
  if (images) {
    // A 1200 × 900 photo-sized JPEG: about a megapixel to decode per thumbnail, a small file to upload.
    const canvas = new OffscreenCanvas(1200, 900);
    const context = canvas.getContext('2d')!;
    const gradient = context.createLinearGradient(0, 0, 1200, 900);
    gradient.addColorStop(0, '#2a6');
    gradient.addColorStop(1, '#a26');
    context.fillStyle = gradient;
    context.fillRect(0, 0, 1200, 900);
    const jpeg = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
    list = Array.from(
      { length: files },
      (_, i) => new File([jpeg], `bench-${i}.jpg`, { type: 'image/jpeg' }),
    );
  } else {
    const data = new Uint8Array(size);
    list = Array.from({ length: files }, (_, i) => new File([data], `bench-${i}.bin`));
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  const tasks: { at: number; ms: number }[] = [];
  const observer = new PerformanceObserver((entries) => {
    for (const entry of entries.getEntries()) tasks.push({ at: entry.startTime, ms: entry.duration });
  });
  observer.observe({ type: 'longtask' });
  const longFrames: { at: number; text: string }[] = [];
  type Script = { invoker: string; duration: number; sourceFunctionName?: string };
  const frameObserver = new PerformanceObserver((entries) => {
    for (const entry of entries.getEntries() as (PerformanceEntry & { scripts?: Script[] })[]) {
      const scripts = [...(entry.scripts ?? [])].sort((a, b) => b.duration - a.duration).slice(0, 3);
      const parts = scripts.map((x) => `${x.invoker} ${x.sourceFunctionName ?? ''} ${x.duration.toFixed(0)}`);
      longFrames.push({ at: entry.startTime, text: `${entry.duration.toFixed(0)} ms: ${parts.join('; ')}` });
    }
  });
  if (PerformanceObserver.supportedEntryTypes.includes('long-animation-frame')) {
    frameObserver.observe({ type: 'long-animation-frame' });
  }
  let frames = 0;
  let worstGap = 0;
  let last = performance.now();
  let running = true;
  const tick = (now: number): void => {
    frames += 1;
    worstGap = Math.max(worstGap, now - last);
    last = now;
    if (running) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  // Times each update of this element (render + DOM commit), wrapping the instance's own `update`.
  const render = { count: 0, ms: 0, longest: 0 };
  const host = el as unknown as { update(changed: unknown): void };
  const update = host.update;
  host.update = function (this: unknown, changed: unknown) {
    const began = performance.now();
    try {
      update.call(this, changed);
    } finally {
      const ms = performance.now() - began;
      render.count += 1;
      render.ms += ms;
      render.longest = Math.max(render.longest, ms);
    }
  };
  let progressEvents = 0;
  el.addEventListener('progress', () => (progressEvents += 1));
  const done = new Promise<void>((resolve, reject) => {
    el.addEventListener('complete', () => resolve(), { once: true });
    setTimeout(() => reject(new Error(`not complete after ${timeoutMs} ms`)), timeoutMs);
  });
  await new Promise((resolve) => setTimeout(resolve, 0));
  // Marks for a trace of the run (bench/trace-element.ts); nothing reads them here.
  performance.mark('element-bench:start');
  const start = performance.now();
  el.addFiles(list);
  const addMs = performance.now() - start;
  // Scrolled through while it uploads, so that every row is rendered (and, with images, makes its preview).
  const seen = new Set<string>();
  const scroller = setInterval(() => {
    const viewport = el.shadowRoot!.querySelector<HTMLElement>('[part~="file-list-viewport"]');
    if (!viewport) return;
    for (const img of el.shadowRoot!.querySelectorAll<HTMLImageElement>('[part~="preview-image"]')) {
      seen.add(img.src);
    }
    viewport.scrollTop = viewport.scrollTop + 120 >= viewport.scrollHeight ? 0 : viewport.scrollTop + 120;
  }, 50);
  await done.finally(() => clearInterval(scroller));
  const totalMs = performance.now() - start;
  performance.mark('element-bench:end');
  running = false;
  // Long-task entries are delivered after the task; give the last ones time to arrive.
  await new Promise((resolve) => setTimeout(resolve, 200));
  observer.disconnect();
  frameObserver.disconnect();
  const mine = tasks.filter((task) => task.at >= start - 1);
  return {
    files,
    size: list[0]?.size ?? size,
    images,
    previews: seen.size,
    complete: el.items.filter((item) => item.status === 'complete').length,
    addMs,
    totalMs,
    progressEvents,
    frames,
    fps: frames / (totalMs / 1000),
    worstFrameGapMs: worstGap,
    longTasks: mine.length,
    longestTaskMs: Math.max(0, ...mine.map((task) => task.ms)),
    renders: render.count,
    renderMs: render.ms,
    longestRenderMs: render.longest,
    longFrames: longFrames
      .filter((frame) => frame.at >= start - 1)
      .map((frame) => `+${(frame.at - start).toFixed(0)} ms, ${frame.text}`),
  };
}

/**
 * Measures one run on a fresh reference server (its own process) and a fresh page load.
 *
 * @param browser - a Chromium from {@link launchChromium}
 * @param options - how many files of how many bytes
 * @returns the page's figures
 */
export async function measureElement(
  browser: LaunchedBrowser,
  {
    files = 500,
    size = 20_000,
    images = false,
    slowdown = 1,
  }: { files?: number; size?: number; images?: boolean; slowdown?: number } = {},
): Promise<ElementResult> {
  const server = await startServer('ref');
  const page = await browser.newPage();
  try {
    await page.goto(`${server.origin}/bench/element.html`);
    // A slowed CPU (DevTools throttling) makes the element's own long tasks show on a quiet machine too,
    // and makes a run less at the mercy of what else the machine is doing.
    if (slowdown > 1) await page.send('Emulation.setCPUThrottlingRate', { rate: slowdown });
    const timeoutMs = 300_000;
    // tsx compiles with esbuild's keepNames, which wraps inner functions in `__name(...)`: the page gets a
    // no-op of its own.
    return await page.evaluate<ElementResult>(
      `((__name) => (${inPage.toString()})(${files}, ${size}, ${timeoutMs}, ${images}))((target) => target)`,
      timeoutMs + 10_000,
    );
  } finally {
    await page.send('Page.close').catch(() => undefined);
    await server.stop();
  }
}

/**
 * The report's table for element runs, one row per run.
 *
 * @param results - the runs, or an error message
 * @returns markdown
 */
export function elementTable(results: ElementResult[] | string): string {
  if (typeof results === 'string') return results;
  const lines = [
    '| files × size | previews | complete | addFiles() ms | upload s | long tasks > 50 ms | longest task ms | worst frame gap ms | fps | renders | render ms (longest) |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.files} × ${r.size} B${r.images ? ' JPEG' : ''} | ${r.images ? r.previews : '—'} | ${r.complete}/${r.files} | ${r.addMs.toFixed(1)} | ${(r.totalMs / 1000).toFixed(2)} | ` +
        `${r.longTasks} | ${r.longestTaskMs.toFixed(0)} | ${r.worstFrameGapMs.toFixed(0)} | ${r.fps.toFixed(0)} | ` +
        `${r.renders} | ${r.renderMs.toFixed(0)} (${r.longestRenderMs.toFixed(0)}) |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      files: { type: 'string', default: '500' },
      size: { type: 'string', default: '20000' },
      runs: { type: 'string', default: '1' },
      images: { type: 'boolean', default: false },
      // Plain files then images, alternating, in one run of the browser: the two compared under one load.
      both: { type: 'boolean', default: false },
      slowdown: { type: 'string', default: '1' },
    },
  });
  const browser = await launchChromium();
  try {
    const results: ElementResult[] = [];
    const kinds = values.both ? [false, true] : [values.images];
    for (let run = 0; run < Number(values.runs); run++) {
      for (const images of kinds) {
        const options = { files: Number(values.files), size: Number(values.size), images };
        results.push(await measureElement(browser, { ...options, slowdown: Number(values.slowdown) }));
      }
    }
    console.log(elementTable(results));
    // To stderr: the table stays clean for pasting, the attribution is there for whoever chases a long task.
    results.forEach((result, run) => {
      if (result.longFrames.length > 0)
        console.error(`run ${run + 1}, long frames:\n  ${result.longFrames.join('\n  ')}`);
    });
  } finally {
    await browser.close();
  }
}
