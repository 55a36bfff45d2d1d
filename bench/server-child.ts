// One benchmark server in its own process, so that its CPU time and RSS are its own.
// Usage (by bench/run.ts through fork): server-child.ts <kind> <dir>
// It serves the bench page, dist/ and tus-js-client's browser bundle over HTTP on 127.0.0.1:0 (same origin
// as the endpoint, so no CORS is involved), reports {ready, origin} over IPC, and answers:
//   'reset'  → starts counting CPU from now            → {type: 'reset'}
//   'report' → CPU seconds since reset, peak RSS bytes → {type: 'report', cpuSeconds, maxRss}
//   'stop'   → closes and exits.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import sirv from 'sirv';
import { WebSocketServer, type WebSocket } from 'ws';
import { Server as TusServer } from '@tus/server';
import { FileStore as TusFileStore } from '@tus/file-store';
import { createUploadServer } from '../src/server/index.ts';

export type ServerKind = 'ref' | 'count' | 'disk' | 'http' | 'tus';

export interface ChildReady {
  type: 'ready';
  origin: string;
  /** Where the contender sends: a ws:// URL or an http:// endpoint. */
  endpoint: string;
}

export interface ChildReport {
  type: 'report';
  cpuSeconds: number;
  /** Peak resident set size of this process over its life, in bytes (kernel high-water mark). */
  maxRss: number;
}

const MOUNTS: Record<string, string> = {
  '/dist': 'dist',
  '/bench': 'bench/page',
  '/tus': 'node_modules/tus-js-client/dist',
};

const [kind, dir] = process.argv.slice(2) as [ServerKind, string];
await mkdir(dir, { recursive: true });

const statics = Object.entries(MOUNTS).map(
  ([prefix, folder]) => [prefix, sirv(path.resolve(folder), { dev: true })] as const,
);
function serveStatic(request: IncomingMessage, response: ServerResponse): void {
  const notFound = () => {
    response.writeHead(404).end('Not found');
  };
  const url = request.url ?? '/';
  for (const [prefix, handler] of statics) {
    if (url.startsWith(prefix + '/')) {
      request.url = url.slice(prefix.length);
      return handler(request, response, notFound);
    }
  }
  notFound();
}

/**
 * The raw-limit endpoint: a text message `{"size":N}`, then binary messages; answers `{"received":N}` once
 * N bytes arrived (with `disk`, once they are written and the file is closed).
 */
function rawWebSocket(socket: WebSocket, toDisk: boolean): void {
  let size = -1;
  let received = 0;
  let file: ReturnType<typeof createWriteStream> | undefined;
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) {
      size = (JSON.parse(data.toString()) as { size: number }).size;
      if (toDisk) file = createWriteStream(path.join(dir, 'raw.bin'));
      return;
    }
    received += data.length;
    if (file && !file.write(data)) {
      socket.pause();
      file.once('drain', () => socket.resume());
    }
    if (received >= size) {
      const answer = () => socket.send(JSON.stringify({ received }));
      if (file) file.end(answer);
      else answer();
    }
  });
  socket.on('error', () => undefined);
}

let origin: string;
let endpoint: string;
if (kind === 'ref') {
  const server = await createUploadServer({
    dir,
    port: 0,
    host: '127.0.0.1',
    staticMounts: MOUNTS,
    // Every benchmark client comes from 127.0.0.1: the per-address limits (8 uploads, 32 connections by
    // default) would turn the capacity test into a test of those limits.
    maxUploadsPerClient: 1000,
    maxConnectionsPerClient: 1000,
  });
  origin = server.url.replace(/^ws/, 'http').replace(server.options.path, '');
  endpoint = server.url;
} else {
  const tus =
    kind === 'tus'
      ? new TusServer({ path: '/files', datastore: new TusFileStore({ directory: dir }) })
      : undefined;
  const http = createServer((request, response) => {
    const url = request.url ?? '/';
    if (tus && url.startsWith('/files')) {
      void tus.handle(request, response);
    } else if (kind === 'http' && url === '/upload' && request.method === 'POST') {
      // Streams the request body to the file, with backpressure; answers once the file is closed.
      const target = path.join(dir, 'post.bin');
      let size = 0;
      request.on('data', (chunk: Buffer) => (size += chunk.length));
      pipeline(request, createWriteStream(target)).then(
        () => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ size })),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    } else {
      serveStatic(request, response);
    }
  });
  if (kind === 'count' || kind === 'disk') {
    const wss = new WebSocketServer({
      server: http,
      path: '/raw',
      perMessageDeflate: false,
      maxPayload: 64 << 20,
    });
    wss.on('connection', (socket) => rawWebSocket(socket, kind === 'disk'));
  }
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  endpoint = {
    count: `ws://127.0.0.1:${port}/raw`,
    disk: `ws://127.0.0.1:${port}/raw`,
    http: `${origin}/upload`,
    tus: `${origin}/files`,
  }[kind];
}

let baseline = process.cpuUsage();
process.on('message', (message: string) => {
  if (message === 'reset') {
    baseline = process.cpuUsage();
    process.send!({ type: 'reset' });
  } else if (message === 'report') {
    const used = process.cpuUsage(baseline);
    const report: ChildReport = {
      type: 'report',
      cpuSeconds: (used.user + used.system) / 1e6,
      maxRss: process.resourceUsage().maxRSS * 1024,
    };
    process.send!(report);
  } else if (message === 'stop') {
    process.exit(0);
  }
});
// Never outlive the benchmark.
process.on('disconnect', () => process.exit(0));
const ready: ChildReady = { type: 'ready', origin, endpoint };
process.send!(ready);
