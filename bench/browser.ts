// The system Chromium driven over a raw DevTools-protocol connection.
//
// Why not puppeteer's Page: it enables the Network domain, and Chromium then copies every WebSocket frame to
// the driver, which slows WebSocket uploads 3–4×. This client only ever sends the commands below (Target,
// Page.navigate, Runtime, DOM.setFileInputFiles, Network.enable only for the `--network-check` row; Profiler,
// Tracing and IO in the diagnostics profile-*.ts and trace-element.ts), so no frame is copied. How it was checked: `npm run bench -- --network-check` adds a row that runs the raw
// WebSocket contender after `Network.enable`; compare its MiB/s with the plain raw row of the same run. On
// 2026-11-29 (bench/results/2026-11-29T1146Z-128MiB-partial.md): 19 MiB/s without, 2.2 MiB/s with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, rm, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { CHROMIUM_ARGS, chromiumPath } from '../test/e2e/harness.ts';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** A DevTools-protocol connection to the browser target, with flat sessions for pages. */
export class Cdp {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, Pending>();
  /** Handlers of the few events a diagnostic asks for (bench/trace-element.ts: Tracing.tracingComplete). */
  readonly #handlers = new Map<string, (params: Record<string, unknown>) => void>();
  #nextId = 1;

  constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as {
        id?: number;
        method?: string;
        params?: Record<string, unknown>;
        result?: unknown;
        error?: { message: string };
      };
      if (message.id === undefined) {
        // Events: no domain that streams them (Network) is ever enabled, on purpose; see the file header.
        if (message.method) this.#handlers.get(message.method)?.(message.params ?? {});
        return;
      }
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.error) pending.reject(new Error(message.error.message));
      else pending.resolve(message.result);
    });
    socket.on('close', () => {
      for (const pending of this.#pending.values()) {
        clearTimeout(pending.timer);
        pending.reject(new Error('DevTools connection closed'));
      }
      this.#pending.clear();
    });
  }

  /** Sends one command; rejects on a protocol error or after `timeoutMs`. */
  send<T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
    timeoutMs = 30_000,
  ): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.#socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  /** Calls `handler` with the params of every `method` event (one handler per event name). */
  on(method: string, handler: (params: Record<string, unknown>) => void): void {
    this.#handlers.set(method, handler);
  }

  close(): void {
    this.#socket.close();
  }
}

/** One page (tab) attached through a flat session. */
export class BenchPage {
  constructor(
    readonly cdp: Cdp,
    readonly sessionId: string,
  ) {}

  send<T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    timeoutMs?: number,
  ) {
    return this.cdp.send<T>(method, params, this.sessionId, timeoutMs);
  }

  /** Evaluates an expression, awaits its promise and returns its value; throws what the page threw. */
  async evaluate<T>(expression: string, timeoutMs = 30_000): Promise<T> {
    const reply = await this.send<{
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    }>('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, timeoutMs);
    if (reply.exceptionDetails) {
      const { text, exception } = reply.exceptionDetails;
      throw new Error(`Page error: ${exception?.description ?? text}`);
    }
    return reply.result.value as T;
  }

  /** Loads `url` and waits (bounded) until the page sets `window.ready`. */
  async goto(url: string): Promise<void> {
    await this.send('Page.navigate', { url });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const ready = await this.evaluate<boolean>('window.ready === true').catch(() => false);
      if (ready) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${url} did not become ready in 20 s`);
  }

  /** Picks a file through `<input type=file id=...>`, as a user would. */
  async pickFile(inputId: string, filePath: string): Promise<void> {
    const reply = await this.send<{ result: { objectId?: string } }>('Runtime.evaluate', {
      expression: `document.getElementById(${JSON.stringify(inputId)})`,
    });
    if (!reply.result.objectId) throw new Error(`No #${inputId} on the page`);
    await this.send('DOM.setFileInputFiles', { files: [filePath], objectId: reply.result.objectId });
  }

  /** The page's JS heap in use, in bytes (V8's own count; no domain needs enabling for it). */
  async heapUsed(): Promise<number> {
    const { usedSize } = await this.send<{ usedSize: number }>('Runtime.getHeapUsage');
    return usedSize;
  }
}

/** A launched Chromium: the DevTools connection and the process tree for CPU accounting. */
export interface LaunchedBrowser {
  cdp: Cdp;
  newPage(): Promise<BenchPage>;
  /** CPU seconds used so far by every Chromium process, and by the renderers alone. */
  cpuSeconds(): Promise<{ all: number; renderer: number }>;
  close(): Promise<void>;
}

/** Starts the system Chromium headless with a temporary profile and connects over DevTools. */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'wsfu-bench-profile-'));
  const child: ChildProcess = spawn(
    chromiumPath(),
    [
      '--headless',
      '--remote-debugging-port=0',
      `--user-data-dir=${profile}`,
      ...CHROMIUM_ARGS,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not start in 20 s:\n${text}`)), 20_000);
    child.stderr!.on('data', (data: Buffer) => {
      text += data.toString();
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Chromium exited (${code}):\n${text}`));
    });
  });
  const socket = new WebSocket(endpoint, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const cdp = new Cdp(socket);
  const rootPid = child.pid!;
  return {
    cdp,
    async newPage() {
      const { targetId } = await cdp.send<{ targetId: string }>('Target.createTarget', {
        url: 'about:blank',
      });
      const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', {
        targetId,
        flatten: true,
      });
      return new BenchPage(cdp, sessionId);
    },
    cpuSeconds: () => treeCpuSeconds(rootPid),
    async close() {
      await cdp.send('Browser.close').catch(() => undefined);
      cdp.close();
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      await rm(profile, { recursive: true, force: true });
    },
  };
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** Sums utime + stime from /proc over `rootPid` and all its descendants. */
async function treeCpuSeconds(rootPid: number): Promise<{ all: number; renderer: number }> {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(name), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // the process ended while we looked
    }
  }
  const inTree = (pid: number): boolean => {
    for (let hops = 0, at = pid; hops < 16 && at > 1; hops++) {
      if (at === rootPid) return true;
      at = stats.get(at)?.ppid ?? 0;
    }
    return false;
  };
  let all = 0;
  let renderer = 0;
  for (const [pid, { ticks }] of stats) {
    if (!inTree(pid)) continue;
    all += ticks;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('--type=renderer')) renderer += ticks;
  }
  return { all: all / CLOCK_TICKS, renderer: renderer / CLOCK_TICKS };
}
