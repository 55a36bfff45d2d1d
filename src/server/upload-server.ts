import { EventEmitter } from 'node:events';
import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import sirv from 'sirv';
import { WebSocketServer } from 'ws';
import { resolveOptions, type ResolvedOptions, type UploadServerOptions } from './options.ts';
import { UploadSession, type StoredFile } from './session.ts';
import { FileStore } from './stores/file-store.ts';
import type { UploadStore } from './stores/store.ts';

/** Events of an {@link UploadServer}. */
export interface UploadServerEvents {
  /** A file is in its final place (emitted before the client hears of it). */
  stored: [file: StoredFile];
  /** An upload or connection ended with an error answer. */
  failed: [info: { code: number; message: string; filename?: string }];
  /** A client connected. */
  connection: [request: IncomingMessage];
}

/** A running upload server. `close()` stops it. */
export class UploadServer extends EventEmitter<UploadServerEvents> {
  /** The HTTP server carrying the WebSocket endpoint (yours when attached). */
  readonly httpServer: HttpServer;
  /** The options in force, defaults included. */
  readonly options: ResolvedOptions;
  /** Where files go. */
  readonly store: UploadStore;
  readonly #wss: WebSocketServer;
  readonly #ownsServer: boolean;
  readonly #onUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  #closing: Promise<void> | undefined;

  /** @internal use {@link createUploadServer} */
  constructor(options: ResolvedOptions, httpServer: HttpServer, ownsServer: boolean) {
    super();
    this.options = options;
    this.httpServer = httpServer;
    this.#ownsServer = ownsServer;
    this.store = options.store ?? new FileStore({ dir: options.dir!, overwrite: options.overwrite });
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload,
      perMessageDeflate: false,
    });
    this.#wss.on('connection', (socket, request: IncomingMessage) => {
      this.emit('connection', request);
      new UploadSession(socket, request, options, this.store, {
        stored: (file) => this.emit('stored', file),
        failed: (info) => this.emit('failed', info),
      });
    });
    this.#onUpgrade = (request, socket, head) => {
      if (pathOf(request) !== options.path) {
        // Another endpoint on a shared server may want it; a server of our own refuses it.
        if (this.#ownsServer) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      this.#wss.handleUpgrade(request, socket, head, (ws) => this.#wss.emit('connection', ws, request));
    };
    httpServer.on('upgrade', this.#onUpgrade);
  }

  /** The port the HTTP server listens on. */
  get port(): number {
    return (this.httpServer.address() as AddressInfo).port;
  }

  /** `ws://host:port/path` of the endpoint. */
  get url(): string {
    const address = this.httpServer.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `ws://${host}:${address.port}${this.options.path}`;
  }

  /**
   * Stops accepting connections, closes open ones (1001) and, when standalone, the HTTP server.
   * Idempotent: later calls return the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.httpServer.off('upgrade', this.#onUpgrade);
      for (const client of this.#wss.clients) client.close(1001, 'Server shutting down');
      const timer = setTimeout(() => {
        for (const client of this.#wss.clients) client.terminate();
      }, 1000);
      this.#wss.close(() => {
        clearTimeout(timer);
        if (!this.#ownsServer) return resolve();
        this.httpServer.close(() => resolve());
        this.httpServer.closeAllConnections();
      });
    });
    return this.#closing;
  }
}

/**
 * Starts an upload server: standalone on `port` (resolves once listening), or attached to `server`.
 *
 * @param options - see {@link UploadServerOptions}
 * @returns the running server
 * @throws {TypeError | RangeError} for invalid options, before anything starts
 */
export async function createUploadServer(options: UploadServerOptions): Promise<UploadServer> {
  const resolved = resolveOptions(options);
  const serveStatic = staticHandler(resolved);
  if (resolved.server) {
    if (serveStatic) resolved.server.on('request', serveStatic);
    return new UploadServer(resolved, resolved.server, false);
  }
  const httpServer = createServer((request, response) => {
    if (serveStatic) return serveStatic(request, response);
    response.writeHead(426, { 'content-type': 'text/plain' }).end('Upgrade to WebSocket at ' + resolved.path);
  });
  const server = new UploadServer(resolved, httpServer, true);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(resolved.port ?? 0, resolved.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  return server;
}

function staticHandler(
  options: ResolvedOptions,
): ((req: IncomingMessage, res: ServerResponse) => void) | undefined {
  const mounts = Object.entries(options.staticMounts ?? {}).map(
    ([prefix, dir]) => [prefix.replace(/\/$/, ''), sirv(path.resolve(dir), { dev: true })] as const,
  );
  const root = options.staticDir ? sirv(path.resolve(options.staticDir), { dev: true }) : undefined;
  if (!root && mounts.length === 0) return undefined;
  return (request, response) => {
    const notFound = () => {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    };
    const url = request.url ?? '/';
    for (const [prefix, handler] of mounts) {
      if (url === prefix || url.startsWith(prefix + '/')) {
        request.url = url.slice(prefix.length) || '/';
        return handler(request, response, notFound);
      }
    }
    return root ? root(request, response, notFound) : notFound();
  };
}

function pathOf(request: IncomingMessage): string {
  try {
    return new URL(request.url ?? '/', 'http://localhost').pathname;
  } catch {
    return '';
  }
}
