/**
 * The upload server: the HTTP endpoint and its WebSocket upgrade (Origin, connection limits, the upgrade
 * hook and the authentication throttle, decided in upgrade-access.ts), the operational endpoints
 * (operations.ts), static files (static-files.ts), and shutdown. It owns what all its connections share —
 * the tracked store, the upload records, the holders of resumable uploads — and starts one session
 * (session.ts) with its guard per connection.
 */
import { EventEmitter } from 'node:events';
import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { clientIp, originAllowed } from './access.ts';
import { AuthThrottle } from './auth-throttle.ts';
import { ConnectionGuard, type GuardContext } from './connection-guard.ts';
import { ClientLimits } from './limits.ts';
import { UploadLog } from './logging.ts';
import { UploadMetrics } from './metrics.ts';
import { Operations } from './operations.ts';
import { PendingWork } from './pending-work.ts';
import { capSockets } from './socket-limits.ts';
import { staticHandler } from './static-files.ts';
import { resolveOptions, type ResolvedOptions, type UploadServerOptions } from './options.ts';
import { UploadSession } from './session.ts';
import type { SessionServices, StoredFile } from './session-events.ts';
import { FileStore } from './stores/file-store.ts';
import { decideUpgrade } from './upgrade-access.ts';
import type { UploadStore } from './stores/store.ts';
import { CreditBudget } from './credit-grant.ts';
import { UnfinishedUploads } from './unfinished-uploads.ts';
import { UploadHolders } from './upload-holders.ts';
import { UploadRecords } from './upload-records.ts';

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
  readonly #limits: ClientLimits;
  readonly #metrics: UploadMetrics;
  readonly #log: UploadLog;
  readonly #guardContext: GuardContext;
  readonly #work: PendingWork;
  /** What every session of this server shares: the tracked store and the server's upload records. */
  readonly #services: SessionServices;
  /** @internal The operational endpoints and their own listener. */
  readonly operations: Operations;
  #closing: Promise<void> | undefined;
  readonly #stopSweeping: () => void;

  /** @internal use {@link createUploadServer} */
  constructor(options: ResolvedOptions, httpServer: HttpServer, ownsServer: boolean) {
    super();
    this.options = options;
    this.httpServer = httpServer;
    this.#ownsServer = ownsServer;
    this.store =
      options.store ??
      new FileStore({
        dir: options.dir!,
        overwrite: options.overwrite,
        naming: options.naming,
        fileMode: options.fileMode,
      });
    this.#work = new PendingWork(this.store);
    // Through the tracked store, so that keeping a record and sweeping also hold up a shutdown.
    this.#services = {
      store: this.#work.store,
      // Swept at least as often as uploads expire (within a second to a minute of their expiry).
      records: new UploadRecords(this.#work.store, undefined, sweepIntervalFor(options.partialExpiry)),
      holders: new UploadHolders(),
      credits: new CreditBudget({
        maxCredit: options.maxCredit,
        creditBudget: options.creditBudget,
        // Below this a credit would hold back even a short link; the budget may be overdrawn by this much each.
        // A store acknowledging per part (S3) needs parts in flight, or every ack waits for an idle flush.
        minCredit: Math.min(Math.max(MIN_CREDIT, this.store.minCredit ?? 0), options.maxCredit),
      }),
    };
    this.#stopSweeping = this.#services.records.sweepPeriodically();
    this.#limits = new ClientLimits(options);
    this.#metrics = new UploadMetrics({
      connections: () => this.#limits.connections,
      activeUploads: () => this.#limits.uploads,
    });
    this.#log = new UploadLog(options.logger);
    this.#guardContext = {
      options,
      limits: this.#limits,
      authThrottle: new AuthThrottle(options),
      metrics: this.#metrics,
      log: this.#log,
      diskDir: this.store instanceof FileStore ? this.store.dir : options.dir,
      // Only a store that resumes keeps what a dropped connection left.
      unfinished: this.store.open ? new UnfinishedUploads(options.maxUnfinishedPerClient) : undefined,
      emitStored: (file) => this.emit('stored', file),
      emitFailed: (info) => this.emit('failed', info),
    };
    this.operations = new Operations({
      options,
      closing: () => this.#closing !== undefined,
      counts: () => ({ connections: this.connections, activeUploads: this.activeUploads }),
      diskDir: this.#guardContext.diskDir,
      metricsText: () => this.metricsText(),
      metricsContentType: () => this.metricsContentType,
    });
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload,
      perMessageDeflate: false,
    });
    this.#onUpgrade = (request, socket, head) => {
      if (pathOf(request) !== options.path) {
        // Another endpoint on a shared server may want it; a server of our own refuses it.
        if (this.#ownsServer) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      // Nothing may escape as an unhandled rejection: that would take the whole process down.
      this.#upgrade(request, socket, head).catch(() => socket.destroy());
    };
    httpServer.on('upgrade', this.#onUpgrade);
  }

  /** Open WebSocket connections. */
  get connections(): number {
    return this.#limits.connections;
  }

  /** Uploads in progress. */
  get activeUploads(): number {
    return this.#limits.uploads;
  }

  /**
   * The counters in Prometheus text format, as served at `/metrics` by a standalone server: for an
   * attached server, route it yourself.
   *
   * @returns the text exposition
   */
  metricsText(): Promise<string> {
    return this.#metrics.text();
  }

  /** The content type of {@link metricsText}. */
  get metricsContentType(): string {
    return this.#metrics.registry.contentType;
  }

  /**
   * Checks run before the WebSocket opens, cheapest first: Origin, connection limits, then the upgrade
   * hook. A refusal is an HTTP answer, so a browser's handshake fails without any WebSocket being opened.
   */
  async #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { options } = this;
    const ip = clientIp(request, options.trustProxy, options.forwardedHeader);
    // Until ws takes the socket over, an error on it (a reset) must not become an uncaught exception.
    socket.on('error', () => socket.destroy());
    if (this.#closing) return this.#refuse(socket, ip, 503, 'shuttingDown', 5000);
    if (!originAllowed(request, options.allowedOrigins)) return this.#refuse(socket, ip, 403, 'origin');
    const busy = this.#limits.connect(ip);
    if (busy) return this.#refuse(socket, ip, busy.code, 'connectionLimit', busy.retryAfter);
    const access = await decideUpgrade(options, this.#guardContext.authThrottle, request, ip);
    if (!access.ok) {
      this.#limits.disconnect(ip);
      return this.#refuse(socket, ip, access.status, access.reason, access.retryAfter);
    }
    const user = access.user;
    if (this.#closing || socket.destroyed) {
      this.#limits.disconnect(ip);
      socket.destroy();
      return;
    }
    let handedOver = false;
    // ws answers a malformed handshake itself without calling back: the slot must come back then too.
    socket.once('close', () => {
      if (!handedOver) this.#limits.disconnect(ip);
    });
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      handedOver = true;
      const guard = new ConnectionGuard(this.#guardContext, ws, request, ip, user);
      this.emit('connection', request);
      new UploadSession(ws, request, options, this.#services, guard);
    });
  }

  #refuse(socket: Duplex, ip: string, status: number, reason: string, retryAfter?: number): void {
    this.#metrics.refused(reason);
    this.#log.refused({ ip, code: status, reason });
    const body = `${STATUS_TEXT[status] ?? 'Refused'}\n`;
    const headers = [
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Refused'}`,
      'Connection: close',
      'Content-Type: text/plain',
      `Content-Length: ${Buffer.byteLength(body)}`,
      ...(retryAfter ? [`Retry-After: ${Math.ceil(retryAfter / 1000)}`] : []),
    ];
    socket.once('finish', () => socket.destroy());
    socket.end(headers.join('\r\n') + '\r\n\r\n' + body);
  }

  /** Answers `/livez`, `/healthz`, `/readyz` and `/metrics` (see operations.ts); false for another path. */
  handleOperationalRequest(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    return this.operations.handle(request, response, 'main');
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
   * Stops accepting connections, closes open ones (1001), waits for their storage clean-up and, when
   * standalone, closes the HTTP server. Idempotent: later calls return the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#stopSweeping();
      this.httpServer.off('upgrade', this.#onUpgrade);
      // Stop accepting first, so that nothing new starts while the open connections are closed.
      const httpClosed = this.#ownsServer
        ? new Promise<void>((done) => this.httpServer.close(() => done()))
        : Promise.resolve();
      // 1001 tells a client to come back later (a resuming client continues from the server's offset).
      for (const client of this.#wss.clients) client.close(1001, 'Server shutting down');
      const timer = setTimeout(() => {
        for (const client of this.#wss.clients) client.terminate();
      }, 1000);
      this.#wss.close(() => {
        clearTimeout(timer);
        if (this.#ownsServer) this.httpServer.closeAllConnections();
        // Sessions clean up after their close asynchronously: wait, so nothing half-done is left.
        void Promise.all([httpClosed, this.#work.settled(), this.operations.close()]).then(() => resolve());
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
  const serveStatic = staticHandler(resolved.staticDir, resolved.staticMounts);
  if (resolved.server) {
    if (serveStatic) resolved.server.on('request', serveStatic);
    const attached = new UploadServer(resolved, resolved.server, false);
    await attached.operations.listen();
    return attached;
  }
  const httpServer = createServer(
    {
      // Slowloris: a client that trickles its request headers is cut off after handshakeTimeout. Node
      // checks these timeouts every connectionsCheckingInterval, so that must be a fraction of it.
      headersTimeout: resolved.handshakeTimeout,
      requestTimeout: resolved.handshakeTimeout,
      connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(resolved.handshakeTimeout / 4))),
    },
    (request, response) => {
      server
        .handleOperationalRequest(request, response)
        .then((handled) => {
          if (handled) return;
          if (serveStatic) return serveStatic(request, response);
          response
            .writeHead(426, { 'content-type': 'text/plain' })
            .end('Upgrade to WebSocket at ' + resolved.path);
        })
        .catch(() => {
          if (!response.headersSent) response.writeHead(500);
          response.end();
        });
    },
  );
  // Node's headersTimeout starts with the first byte: a connection that sends nothing at all is bounded by
  // the socket inactivity timeout instead (ws clears it once the WebSocket is open).
  httpServer.timeout = resolved.handshakeTimeout;
  capSockets(httpServer, resolved);
  const server = new UploadServer(resolved, httpServer, true);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(resolved.port ?? 0, resolved.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  await server.operations.listen().catch(async (error: unknown) => {
    await server.close();
    throw error;
  });
  return server;
}

const STATUS_TEXT: Partial<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

function pathOf(request: IncomingMessage): string {
  try {
    return new URL(request.url ?? '/', 'http://localhost').pathname;
  } catch {
    return '';
  }
}

/** Between 1 s and 1 min, and no longer than an upload lives: an expired upload goes soon after its expiry. */
function sweepIntervalFor(partialExpiry: number): number {
  return Math.min(60_000, Math.max(1000, partialExpiry));
}

/** The smallest byte credit a share of the budget goes down to: 1 MiB. */
const MIN_CREDIT = 1024 * 1024;
