// One benchmark server in its own process, so that its CPU time and RSS are its own.
// Usage (by bench/child.ts through fork): node bench/server-child.mjs <kind> <dir>
// Plain JavaScript run by plain `node`, with no TypeScript loader: the reference server (`ref`) is the
// compiled product in dist/server (what `npm run build` ships and operators run), and the other servers
// carry no loader either, so that idle and peak RSS compare like with like. Run `npm run build` first.
// It serves the bench page, dist/ and tus-js-client's browser bundle over HTTP on 127.0.0.1:0 (same origin
// as the endpoint, so no CORS is involved), reports {ready, origin} over IPC, and answers:
//   'reset'  → starts counting CPU from now            → {type: 'reset'}
//   'report' → CPU seconds since reset, peak RSS bytes → {type: 'report', cpuSeconds, systemSeconds, maxRss}
//   'stop'   → closes and exits.
import { createWriteStream, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import sirv from 'sirv';
import { WebSocketServer } from 'ws';

/** @typedef {import('./server-types.ts').ServerKind} ServerKind */

/** @type {Record<string, string>} */
const MOUNTS = {
  '/dist': 'dist',
  '/bench': 'bench/page',
  '/tus': 'node_modules/tus-js-client/dist',
};

const [kind, dir] = /** @type {[ServerKind, string]} */ (process.argv.slice(2));
await mkdir(dir, { recursive: true });

const statics = Object.entries(MOUNTS).map(
  ([prefix, folder]) => /** @type {const} */ ([prefix, sirv(path.resolve(folder), { dev: true })]),
);
/**
 * @param {import('node:http').IncomingMessage} request
 * @param {import('node:http').ServerResponse} response
 */
function serveStatic(request, response) {
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
 * N bytes arrived (with `disk`, once they are written and the file is closed); with `"ack": true`, also
 * `{"acked":N}` after each binary message is written (an application-level window). The capacity test's floor
 * rows add `"name"` (a file of its own per connection, one path segment) and `"fsync": true` (fsync before
 * the answer, as the reference server does at FIN).
 *
 * @param {import('ws').WebSocket} socket
 * @param {boolean} toDisk
 */
function rawWebSocket(socket, toDisk) {
  let size = -1;
  let received = 0;
  let fsync = false;
  let acks = false;
  /** @type {string | undefined} */
  let target;
  /** @type {import('node:fs').WriteStream | undefined} */
  let file;
  socket.on('message', (/** @type {Buffer} */ data, /** @type {boolean} */ isBinary) => {
    if (!isBinary) {
      const start = JSON.parse(data.toString());
      size = start.size;
      fsync = start.fsync === true;
      acks = start.ack === true;
      target = path.join(dir, path.basename(String(start.name ?? 'raw.bin')));
      if (toDisk) file = createWriteStream(target);
      return;
    }
    received += data.length;
    // With "ack": true the client keeps a window of unacknowledged bytes: each message is acked once
    // written (handed to the OS), or at once when only counting; the window is what the client holds back.
    const ack = acks
      ? (
          (total) => () =>
            socket.send(JSON.stringify({ acked: total }))
        )(received)
      : undefined;
    if (file) {
      if (!file.write(data, ack)) {
        socket.pause();
        file.once('drain', () => socket.resume());
      }
    } else ack?.();
    if (received >= size) {
      const answer = () => socket.send(JSON.stringify({ received }));
      if (!file) return answer();
      file.end(() => {
        if (!fsync || !target) return answer();
        open(target, 'r+')
          .then((handle) => handle.sync().finally(() => handle.close()))
          .then(answer, () => socket.close(1011));
      });
    }
  });
  socket.on('error', () => undefined);
}

/** @type {string} */
let origin;
/** @type {string} */
let endpoint;
if (kind === 'ref') {
  // The compiled server, as operators run it (`npm run build`); not the TypeScript sources.
  const { createUploadServer } = await import('../dist/server/index.js');
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
  // Loaded only for its own row, so that the other servers' RSS does not include tus.
  let tus;
  if (kind === 'tus') {
    const { Server: TusServer } = await import('@tus/server');
    const { FileStore: TusFileStore } = await import('@tus/file-store');
    tus = new TusServer({ path: '/files', datastore: new TusFileStore({ directory: dir }) });
  }
  const http = createServer((request, response) => {
    const url = request.url ?? '/';
    if (tus && url.startsWith('/files')) {
      void tus.handle(request, response);
    } else if (kind === 'http' && /^\/upload(\?|$)/.test(url) && request.method === 'POST') {
      // Streams the request body to the file (`?name=` for the many-files row: letters, digits, `-_.`), with
      // backpressure; answers once the file is closed.
      const name = new URL(url, 'http://127.0.0.1').searchParams.get('name');
      const target = path.join(dir, name && /^[\w-][\w.-]*$/.test(name) ? name : 'post.bin');
      let size = 0;
      request.on('data', (/** @type {Buffer} */ chunk) => (size += chunk.length));
      pipeline(request, createWriteStream(target)).then(
        () => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ size })),
        (error) => response.writeHead(500).end(String(error)),
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
  await new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (http.address());
  origin = `http://127.0.0.1:${port}`;
  endpoint = {
    count: `ws://127.0.0.1:${port}/raw`,
    disk: `ws://127.0.0.1:${port}/raw`,
    http: `${origin}/upload`,
    tus: `${origin}/files`,
  }[/** @type {'count' | 'disk' | 'http' | 'tus'} */ (kind)];
}

/**
 * Peak resident set of this process in bytes: VmHWM from /proc/self/status, the high-water mark of this
 * process's own memory, which starts afresh at exec. Not `process.resourceUsage().maxRSS`: Linux carries
 * the parent's high-water mark over into a forked and exec'd child (getrusage's ru_maxrss is at least what
 * the forking process had), so a child of a big benchmark process reported the benchmark's RSS.
 */
function peakRss() {
  try {
    const kib = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib) return Number(kib) * 1024;
  } catch {
    // Not Linux: fall back below.
  }
  return process.resourceUsage().maxRSS * 1024;
}

let baseline = process.cpuUsage();
process.on('message', (/** @type {string} */ message) => {
  if (message === 'reset') {
    baseline = process.cpuUsage();
    process.send?.({ type: 'reset' });
  } else if (message === 'report') {
    const used = process.cpuUsage(baseline);
    /** @type {import('./server-types.ts').ChildReport} */
    const report = {
      type: 'report',
      cpuSeconds: (used.user + used.system) / 1e6,
      systemSeconds: used.system / 1e6,
      maxRss: peakRss(),
    };
    process.send?.(report);
  } else if (message === 'stop') {
    process.exit(0);
  }
});
// Never outlive the benchmark.
process.on('disconnect', () => process.exit(0));
/** @type {import('./server-types.ts').ChildReady} */
const ready = { type: 'ready', origin, endpoint };
process.send?.(ready);
