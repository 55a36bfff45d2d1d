// Starts bench/server-child.mjs in its own Node process (plain `node`, no TypeScript loader; the reference
// server is the compiled dist/server) and talks to it over IPC; and, for emulated networks, the link emulator
// (bench/link-child.ts) in front of it.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createReadStream, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { LinkOptions } from './link.ts';
import type { ChildReady, ChildReport, ServerKind } from './server-types.ts';

const CHILD = new URL('./server-child.mjs', import.meta.url).pathname;

/** A running benchmark server process. */
export interface ServerProcess {
  kind: ServerKind;
  origin: string;
  endpoint: string;
  /** The folder it stores into (removed by `stop`). */
  dir: string;
  /** RSS of the process once listening, before any upload: Node and the server code. */
  idleRss: number;
  /** Starts counting the server's CPU from now. */
  reset(): Promise<void>;
  /** CPU seconds since `reset` and the process's peak RSS. */
  report(): Promise<ChildReport>;
  stop(): Promise<void>;
}

function request<T extends { type: string }>(
  child: ChildProcess,
  message: string,
  type: T['type'],
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server child did not answer '${message}'`)), 10_000);
    const onMessage = (reply: T) => {
      if (reply.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(reply);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

/** Forks a server of `kind` storing into a fresh temp folder; resolves once it listens. */
export async function startServer(kind: ServerKind): Promise<ServerProcess> {
  if (kind === 'ref' && !existsSync(new URL('../dist/server/index.js', import.meta.url))) {
    throw new Error('The reference server runs from dist/server: run `npm run build` first.');
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), `wsfu-bench-${kind}-`));
  // BENCH_CPU_PROF=<folder>: each server process writes a V8 CPU profile there (open it in Chrome DevTools).
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  // execArgv is set explicitly: the benchmark itself runs under tsx, which the child must not inherit.
  const child = fork(CHILD, [kind, dir], { execArgv: profile, stdio: 'inherit' });
  const ready = await new Promise<ChildReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start in 20 s`)), 20_000);
    child.once('message', (message: ChildReady) => {
      clearTimeout(timer);
      resolve(message);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} server exited with ${code}`));
    });
  });
  const idle = await request<ChildReport>(child, 'report', 'report');
  return {
    kind,
    idleRss: idle.maxRss,
    origin: ready.origin,
    endpoint: ready.endpoint,
    dir,
    reset: () => request(child, 'reset', 'reset').then(() => undefined),
    report: () => request<ChildReport>(child, 'report', 'report'),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.send('stop');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** SHA-256 (hex) of a file, or of its first `limit` bytes. */
export async function hashFile(file: string, limit?: number): Promise<string> {
  const hash = createHash('sha256');
  const stream = createReadStream(file, limit ? { end: limit - 1 } : {});
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The largest file under `dir` that is not tus metadata: what a contender stored. */
export async function storedFile(dir: string): Promise<{ path: string; size: number } | undefined> {
  let best: { path: string; size: number } | undefined;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.json')) continue;
    const full = path.join(entry.parentPath, entry.name);
    const { size } = await stat(full);
    if (!best || size > best.size) best = { path: full, size };
  }
  return best;
}

/** Every stored file under `dir` that is not metadata (`.json`): what a many-files row stored. */
export async function storedFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && !entry.name.endsWith('.json')) files.push(path.join(entry.parentPath, entry.name));
  }
  return files;
}

const LINK_CHILD = new URL('./link-child.ts', import.meta.url).pathname;

/** A link emulator process (bench/link-child.ts) in front of a server. */
export interface LinkProcess {
  /** The port on 127.0.0.1 that goes through the link. */
  port: number;
  stop(): Promise<void>;
}

/**
 * Forks the link emulator in front of `127.0.0.1:targetPort`; resolves once it listens.
 *
 * @param targetPort - the server's port
 * @param link - delays, rates and queue (rates of Infinity travel as null)
 * @param lifetimeMs - the link closes itself after this long, whatever happens to the bench
 */
export async function startLinkProcess(
  targetPort: number,
  link: Omit<LinkOptions, 'targetPort'>,
  lifetimeMs: number,
): Promise<LinkProcess> {
  const wire = JSON.stringify({ ...link, lifetimeMs }, (_key, value: unknown) =>
    value === Infinity ? null : value,
  );
  // Under tsx (the link is TypeScript); the proxy's RSS is not a figure of the report.
  const child = fork(LINK_CHILD, [String(targetPort), wire], {
    execArgv: ['--import', 'tsx'],
    stdio: 'inherit',
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('link emulator did not start in 20 s')), 20_000);
    child.once('message', (message: { port: number }) => {
      clearTimeout(timer);
      resolve(message.port);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`link emulator exited with ${code}`));
    });
  });
  return {
    port,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A server reached directly or through a link emulator: the URLs a page uses, and one stop for both. */
export interface NetServer {
  server: ServerProcess;
  /** The page's origin and the upload endpoint, both through the link when there is one. */
  origin: string;
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts a server of `kind` and, when `link` is given, a link emulator in front of it: then the page, the
 * WebSocket, fetch() and tus all reach the server through the link (one origin, one port).
 */
export async function startServerOnNet(
  kind: ServerKind,
  link: Omit<LinkOptions, 'targetPort'> | undefined,
  lifetimeMs: number,
): Promise<NetServer> {
  const server = await startServer(kind);
  if (!link) return { server, origin: server.origin, endpoint: server.endpoint, stop: () => server.stop() };
  try {
    const serverHost = new URL(server.origin).host;
    const proxy = await startLinkProcess(Number(new URL(server.origin).port), link, lifetimeMs);
    const viaLink = (url: string) => url.replace(`//${serverHost}`, `//127.0.0.1:${proxy.port}`);
    return {
      server,
      origin: viaLink(server.origin),
      endpoint: viaLink(server.endpoint),
      async stop() {
        await proxy.stop();
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
