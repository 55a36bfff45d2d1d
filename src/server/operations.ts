/**
 * The operational HTTP endpoints: `/livez` (liveness: the process answers), `/healthz` and `/readyz`
 * (readiness: not shutting down, the upload folder writable, the free-space floor met) and `/metrics`
 * (Prometheus text). Counters tell an attacker how busy the server is and what fails, so `/metrics` is
 * served on its own listener (`metricsPort`, loopback by default) or behind a bearer token (`metricsToken`);
 * on the main listener of a server bound to a non-loopback address it needs the token.
 */
import { constants } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { secretsEqual } from './access.ts';
import type { ResolvedOptions } from './options.ts';

/** What the endpoints read from the server. */
export interface OperationsSource {
  readonly options: ResolvedOptions;
  closing(): boolean;
  counts(): { connections: number; activeUploads: number };
  /** The folder the readiness check writes to, when the store is on a disk. */
  readonly diskDir: string | undefined;
  metricsText(): Promise<string>;
  metricsContentType(): string;
}

/** Which listener a request came in on. */
export type Listener = 'main' | 'metrics';

interface Readiness {
  ready: boolean;
  checks: { writable: boolean; freeSpace: boolean };
}

// Readiness probes come often, and anyone can send them on the main listener: the disk is asked at most
// once per this many milliseconds.
const READINESS_CACHE = 1000;

export class Operations {
  readonly #source: OperationsSource;
  #readiness: { at: number; result: Promise<Readiness> } | undefined;
  #listener: Server | undefined;

  constructor(source: OperationsSource) {
    this.#source = source;
  }

  /** The metrics listener's port, when there is one. */
  get metricsPort(): number | undefined {
    return (this.#listener?.address() as AddressInfo | null)?.port;
  }

  /** Starts the metrics listener when `metricsPort` is set. */
  async listen(): Promise<void> {
    const { metricsPort, metricsHost } = this.#source.options;
    if (metricsPort === undefined) return;
    const listener = createServer((request, response) => {
      this.handle(request, response, 'metrics')
        .then((handled) => {
          if (!handled) response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
        })
        .catch(() => {
          if (!response.headersSent) response.writeHead(500);
          response.end();
        });
    });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(metricsPort, metricsHost ?? '127.0.0.1', () => {
        listener.off('error', reject);
        resolve();
      });
    });
    this.#listener = listener;
  }

  /** Stops the metrics listener. */
  async close(): Promise<void> {
    const listener = this.#listener;
    if (!listener) return;
    this.#listener = undefined;
    await new Promise<void>((resolve) => {
      listener.close(() => resolve());
      listener.closeAllConnections();
    });
  }

  /**
   * Answers an operational request.
   *
   * @returns false when the path is not one of them (or they are off)
   */
  async handle(request: IncomingMessage, response: ServerResponse, listener: Listener): Promise<boolean> {
    const { options } = this.#source;
    if (!options.metrics || (request.method !== 'GET' && request.method !== 'HEAD')) return false;
    const url = pathOf(request);
    if (url === '/livez') {
      send(response, 200, { status: 'alive' });
      return true;
    }
    if (url === '/healthz' || url === '/readyz') {
      const { ready, checks } = await this.#ready();
      const status = this.#source.closing() ? 'closing' : ready ? 'ok' : 'unready';
      const { connections, activeUploads } = this.#source.counts();
      send(response, status === 'ok' ? 200 : 503, { status, connections, activeUploads, checks });
      return true;
    }
    if (url !== '/metrics') return false;
    // On the main listener while a metrics listener exists, or bound publicly without a token: not here.
    if (
      listener === 'main' &&
      (options.metricsPort !== undefined || (!options.metricsToken && !loopbackOnly(options)))
    ) {
      return false;
    }
    if (options.metricsToken && !secretsEqual(bearer(request) ?? '', options.metricsToken)) {
      response
        .writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' })
        .end('Unauthorized');
      return true;
    }
    const text = await this.#source.metricsText();
    response
      .writeHead(200, { 'content-type': this.#source.metricsContentType(), 'cache-control': 'no-store' })
      .end(text);
    return true;
  }

  #ready(): Promise<Readiness> {
    const now = Date.now();
    if (!this.#readiness || now - this.#readiness.at >= READINESS_CACHE) {
      this.#readiness = { at: now, result: this.#check() };
    }
    return this.#readiness.result;
  }

  async #check(): Promise<Readiness> {
    const dir = this.#source.diskDir;
    if (!dir) return { ready: true, checks: { writable: true, freeSpace: true } };
    const writable = await access(dir, constants.W_OK).then(
      () => true,
      () => false,
    );
    const floor = this.#source.options.minFreeSpace;
    const freeSpace =
      floor <= 0 ||
      (await statfs(dir).then(
        (stats) => stats.bavail * stats.bsize >= floor,
        () => false,
      ));
    return { ready: writable && freeSpace, checks: { writable, freeSpace } };
  }
}

function send(response: ServerResponse, status: number, body: object): void {
  response
    .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    .end(JSON.stringify(body));
}

/** Whether the main listener only listens on a loopback address (then anyone reaching it is local). */
function loopbackOnly(options: ResolvedOptions): boolean {
  if (options.server) return false;
  const host = options.host;
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

function bearer(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization ?? '';
  return header.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : undefined;
}

function pathOf(request: IncomingMessage): string {
  try {
    return new URL(request.url ?? '/', 'http://localhost').pathname;
  } catch {
    return '';
  }
}
