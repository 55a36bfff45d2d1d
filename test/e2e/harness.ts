// End-to-end harness: each selected engine (Chromium, Firefox, WebKit: see browsers.ts; BROWSERS= narrows them)
// against the real reference server, which also serves the built dist/ and the fixture pages.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { after, before } from 'node:test';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { CHROMIUM_ARGS, chromiumPath } from '../chromium.mjs';
import { selectedEngines } from '../engines.mjs';
import { createUploadServer, type StoredFile, type UploadServerOptions } from '../../src/server/index.ts';
import { launchEngine, type E2eBrowser, type E2ePage, type Engine } from './browsers.ts';
import { TcpProxy, type TcpProxyOptions } from '../helpers/tcp-proxy.ts';

export { call, type E2eBrowser, type E2ePage, type Engine } from './browsers.ts';

/** The engines this run covers: all three unless BROWSERS names some. */
export const ENGINES: Engine[] = selectedEngines();

/** The engine behind the tests' one page API (browsers.ts). */
export function launchE2eBrowser(engine: Engine): Promise<E2eBrowser> {
  return launchEngine(engine);
}

export { CHROMIUM_ARGS, chromiumPath };

/** Plain puppeteer Chromium, for the bench diagnostics (bench/v2-throughput.ts) that drive a page directly. */
export function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
}

/** A reference server on 127.0.0.1:0 storing into a temp folder and serving dist/, demo/ and the fixtures. */
export async function startE2eServer(options: Partial<UploadServerOptions> = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wsfu-e2e-'));
  const server = await createUploadServer({
    dir,
    port: 0,
    host: '127.0.0.1',
    staticDir: 'demo',
    staticMounts: { '/dist': 'dist', '/e2e': 'test/e2e/fixtures' },
    ...options,
  });
  const stored: StoredFile[] = [];
  server.on('stored', (file) => stored.push(file));
  const http = server.url.replace(/^ws/, 'http').replace(server.options.path, '');
  return {
    server,
    dir,
    stored,
    http,
    url: server.url,
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A started {@link startE2eServer}: the server, its upload folder, what it stored, its http base URL. */
export type E2eServer = Awaited<ReturnType<typeof startE2eServer>>;

/** Deterministic pseudo-random bytes (xorshift), fast enough for tens of MiB. */
export function randomBytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  const words = new Uint32Array(out.buffer, out.byteOffset, Math.floor(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < size; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) & 0xff;
  return out;
}

export const sha256 = (data: Buffer | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Writes files into a fresh temp folder and returns their paths and hashes. */
export async function writeFiles(files: { name: string; data: Buffer }[]) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wsfu-src-'));
  const written = [];
  for (const file of files) {
    const filePath = path.join(dir, file.name);
    await writeFile(filePath, file.data);
    written.push({ name: file.name, path: filePath, size: file.data.length, sha256: sha256(file.data) });
  }
  return {
    dir,
    files: written,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export async function storedHash(dir: string, name: string): Promise<string> {
  return sha256(await readFile(path.join(dir, name)));
}

/** Source files written into a temp folder by {@link writeFiles}. */
export type SourceFiles = Awaited<ReturnType<typeof writeFiles>>;

/** What the tests of one engine share: its browser and the source files, both there from `before` on. */
export interface EngineSuite {
  readonly browser: E2eBrowser;
  readonly source: SourceFiles;
}

/**
 * The hooks every per-engine suite repeats, registered in the calling `describe`: before its tests, launch
 * the engine and write the source files (made then, not at load time); after them, close and remove both.
 *
 * @param engine - the engine of the suite
 * @param files - the source files to write
 * @returns the suite's browser and files (read them inside tests and hooks, not at registration)
 */
export function engineSuite(engine: Engine, files: () => { name: string; data: Buffer }[]): EngineSuite {
  let browser: E2eBrowser | undefined;
  let source: SourceFiles | undefined;
  before(async () => {
    browser = await launchE2eBrowser(engine);
    source = await writeFiles(files());
  });
  after(async () => {
    await browser?.close();
    await source?.remove();
  });
  return {
    get browser() {
      if (!browser) throw new Error(`${engine} is not launched yet (read the suite inside a test)`);
      return browser;
    },
    get source() {
      if (!source) throw new Error('the source files are not written yet (read the suite inside a test)');
      return source;
    },
  };
}

/**
 * Opens a page of test/e2e/fixtures (served under /e2e), waits until it says `window.ready`, and picks
 * `paths` in its file input.
 *
 * @param page - the page
 * @param url - the fixture's URL, e.g. `${http}/e2e/v2.html`
 * @param paths - the files to pick
 */
export async function openFixture(page: E2ePage, url: string, paths: string[]): Promise<void> {
  await page.goto(url);
  await page.waitFor('window.ready === true', { timeout: 10_000 });
  await page.setFiles("document.querySelector('input')", paths);
}

/** What a browser upload through a {@link TcpProxy} ended in: the page's outcome and what the proxy saw. */
export interface ProxiedUpload<Outcome, Extra> {
  outcome: Outcome;
  /** Bytes the proxy passed to the server. */
  upstream: number;
  /** Connections the proxy carried. */
  connections: number;
  stored: E2eServer['stored'];
  /** What `inspect` read from the server before it stopped. */
  extra: Extra;
}

/**
 * Uploads a file from test/e2e/fixtures/v2.html through a TCP proxy (a byte flipped in transit, cuts) into a
 * fresh server, which stops afterwards; what block integrity's tests (files and S3) repeat.
 *
 * @param browser - the browser to open the page in
 * @param file - the path of the file to pick
 * @param how - the proxy's faults, the server's options, the page's upload settings (url, window 8 and
 *   quick retries are given), and `inspect`, run on the server before it stops (e.g. the stored file's hash)
 */
export async function uploadThroughProxy<Outcome, Extra = undefined>(
  browser: E2eBrowser,
  file: string,
  how: {
    proxy?: TcpProxyOptions;
    server?: Partial<UploadServerOptions>;
    settings?: Record<string, unknown>;
    inspect?: (env: E2eServer) => Promise<Extra>;
  } = {},
): Promise<ProxiedUpload<Outcome, Extra>> {
  const env = await startE2eServer(how.server);
  const proxy = await TcpProxy.start(env.server.port, how.proxy ?? {});
  const page = await browser.newPage();
  try {
    await openFixture(page, `${env.http}/e2e/v2.html`, [file]);
    const url = env.url.replace(`:${env.server.port}/`, `:${proxy.port}/`);
    const settings = { url, window: 8, retryDelays: [0, 50, 200], ...how.settings };
    const outcome = await page.evaluate<Outcome>(`upload(${JSON.stringify(settings)})`);
    const extra = (await how.inspect?.(env)) as Extra;
    return { outcome, upstream: proxy.upstream, connections: proxy.connections, stored: env.stored, extra };
  } finally {
    await page.close();
    await proxy.close();
    await env.stop();
  }
}
