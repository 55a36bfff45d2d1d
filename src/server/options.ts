import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { compileTrust, type ForwardedHeader, type TrustProxy } from './client-address.ts';
import { FOLDER_PATH_DEFAULTS, MAX_FOLDER_DEPTH } from './folder-path.ts';
import type { StaticMount } from './static-files.ts';
import type { UploadAnnouncement } from './session-events.ts';
import type { UploadStore } from './stores/store.ts';

/** Credentials a client sent with `AUTH`. */
export interface Credentials {
  login?: string;
  password?: string;
  token?: string;
}

/**
 * What an access hook may answer: `true` to let the client in, `{ user }` to let it in under that user name
 * (used for per-user folders), `false` to refuse.
 */
export type AccessDecision = boolean | { user: string };

/**
 * Decides whether an `AUTH` is accepted. The upgrade request is there for checks on headers or cookies.
 *
 * @returns true (or `{ user }`) to accept
 */
export type Authenticate = (
  credentials: Credentials,
  request: IncomingMessage,
) => AccessDecision | Promise<AccessDecision>;

/**
 * Decides from the HTTP upgrade request alone (a header, a cookie, a query parameter), before any `AUTH`.
 * `false` refuses the upgrade with HTTP 401; `true` or `{ user }` lets the client in without `AUTH`;
 * `undefined` leaves the decision to `AUTH` and the `authenticate` hook.
 */
export type AuthorizeUpgrade = (
  request: IncomingMessage,
) => AccessDecision | undefined | Promise<AccessDecision | undefined>;

/**
 * A file a client announced with STOR, as the `accept` hook sees it: the session's announcement of it
 * (session-events.ts: name, requested name, size, mime, parameters, folder) and who sent it over which
 * connection.
 */
export interface FileRequest extends UploadAnnouncement {
  /** The authenticated user, when there is one. */
  user?: string;
  /** The HTTP upgrade request of the connection. */
  request: IncomingMessage;
}

/** What an `accept` hook may answer: true to take the file, false for 403, or a code (403/413/415/422). */
export type AcceptDecision = boolean | { code: 403 | 413 | 415 | 422; message?: string };

/** Decides per file whether it is taken. */
export type Accept = (file: FileRequest) => AcceptDecision | Promise<AcceptDecision>;

/** How stored files are named: after the client's (sanitised) name, or after their SHA-256. */
export type Naming = 'original' | 'sha256';

/** Options of {@link createUploadServer}. Limits have safe non-zero defaults. */
export interface UploadServerOptions {
  /** Upload folder. Created when missing. Required unless `store` is given. */
  dir?: string;
  /** Where uploads are kept; defaults to a {@link FileStore} on `dir`. */
  store?: UploadStore;
  /** Port to listen on when standalone (0 picks a free one). Ignored with `server`. */
  port?: number;
  /** Interface to listen on when standalone. Default `127.0.0.1`. */
  host?: string;
  /** An existing HTTP server to attach to; its other routes and upgrades are left alone. */
  server?: HttpServer;
  /** URL path of the WebSocket endpoint. Default `/upload`. */
  path?: string;
  /** Checks AUTH. When set, a STOR before a successful AUTH gets 401. When unset, AUTH is answered 200. */
  authenticate?: Authenticate;
  /** Checks the HTTP upgrade request (header, cookie, query) before the WebSocket opens. */
  authorizeUpgrade?: AuthorizeUpgrade;
  /**
   * Origins allowed to open the WebSocket (`https://example.com`; `*` for any). A browser always sends
   * `Origin`; a request without one (not a browser) is let through, as it could forge any Origin anyway.
   * Unset: every origin. Others are refused at the upgrade with HTTP 403.
   */
  allowedOrigins?: readonly string[];
  /** Asked for every file after STOR, before anything is stored; can refuse with 403/413/415/422. */
  accept?: Accept;
  /** Store each user's files in a sub-folder named after the user (login or hook's `user`). Default false. */
  userFolders?: boolean;
  /**
   * Store files sent with a folder path (STOR `path`) directly in the upload folder, dropping their folders.
   * Default false: the folders are recreated inside the upload folder, each segment sanitised.
   */
  flattenFolders?: boolean;
  /** Most folder levels a STOR `path` may have (`..` counts); deeper → 400. Default 16, at most 256. */
  maxFolderDepth?: number;
  /** Longest STOR `path` in characters (and stored, in UTF-8 bytes); longer → 400. Default 1024. */
  maxFolderPathLength?: number;
  /** Largest declared file size in bytes. Default 64 GiB. */
  maxFileSize?: number;
  /** Largest WebSocket message in bytes (ws `maxPayload`). Default 16 MiB. */
  maxPayload?: number;
  /** Longest text command in characters. Default 64 KiB. */
  maxCommandLength?: number;
  /** Deepest nesting of arrays and objects in a command's JSON body; deeper → 400. Default 64. */
  maxJsonDepth?: number;
  /** Uploads in progress at once from one client IP; more get 429. Default 8. */
  maxUploadsPerClient?: number;
  /** Uploads in progress at once in all; more get 429. Default 256. */
  maxUploads?: number;
  /** Open WebSocket connections from one client IP; more are refused at the upgrade (HTTP 429). Default 32. */
  maxConnectionsPerClient?: number;
  /** Open WebSocket connections in all; more are refused at the upgrade (HTTP 503). Default 4096. */
  maxConnections?: number;
  /** TCP connections from one address, counted when accepted (not for trusted proxies). Default WebSocket cap + 32. */
  maxSocketsPerClient?: number;
  /** Open TCP connections in all (Node's `server.maxConnections`). Default `maxConnections` + 1024. */
  maxSockets?: number;
  /** Resumable uploads one address may leave unfinished (kept until `partialExpiry`); more → 429. Default 256. */
  maxUnfinishedPerClient?: number;
  /** New connections per second one client address may open, sustained; more → HTTP 429. Default 20. */
  maxConnectionRatePerClient?: number;
  /** New connections one client address may open in a burst before that rate applies. Default 200. */
  connectionBurstPerClient?: number;
  /**
   * Proxies whose forwarded-for header is believed for the client address: a number of hops in front of
   * the server, or addresses and CIDR ranges (`loopback`, `private`, `linklocal` name the usual ones).
   * Default none: the TCP peer is the client.
   */
  trustProxy?: TrustProxy;
  /** The header those proxies set: `x-forwarded-for` (default) or RFC 7239 `forwarded`. */
  forwardedHeader?: ForwardedHeader;
  /** Milliseconds a client may wait between messages before it is closed. Default 120 s. */
  idleTimeout?: number;
  /**
   * Milliseconds between WebSocket pings; a connection that answered neither the last ping nor with any
   * message by the next is terminated, so that a peer that vanished without a FIN lets go of its upload
   * within two intervals. Default 15 s.
   */
  heartbeatInterval?: number;
  /**
   * Milliseconds between the keep-alive messages (`ALIVE`) sent to a v2 client that asked for them: a browser
   * cannot send WebSocket pings, and without them it cannot tell a black-holed connection from a quiet one
   * (the client takes silence for twice this plus 1 s as dead, then resumes). Default 5 s.
   */
  aliveInterval?: number;
  /** Milliseconds a standalone server waits for the request headers of a connection (slowloris). Default 10 s. */
  handshakeTimeout?: number;
  /**
   * Milliseconds a client may stay connected without being let in: a successful AUTH when authentication
   * is required, else its first STOR. Then it is closed with 1008. Default 30 s.
   */
  authTimeout?: number;
  /** Failed authentications (AUTH or at the upgrade) per address and per login before delays start. Default 5. */
  maxAuthFailures?: number;
  /** Milliseconds of the first delay after `maxAuthFailures`; each further failure doubles it. Default 1 s. */
  authBackoff?: number;
  /** The longest such delay, in milliseconds. Default 5 min. */
  maxAuthBackoff?: number;
  /** Milliseconds an unfinished upload is kept for a resume before it is swept (protocol v2). Default 24 h. */
  partialExpiry?: number;
  /** Bytes that must stay free on the upload disk after a new upload; else 507. Default 0 (no check). */
  minFreeSpace?: number;
  /** Replace a same-named file instead of adding ` (1)`. Default false. */
  overwrite?: boolean;
  /** Name files after the client's name (default) or after the SHA-256 of their content. */
  naming?: Naming;
  /** Permission bits of stored files, e.g. `0o640` (not subject to the umask). Default `0o600`. */
  fileMode?: number;
  /** A pino logger for one line per upload and per refusal, or false for none. Default false. */
  logger?: Logger | false;
  /**
   * Serve `/livez`, `/healthz` (`/readyz`) and `/metrics` (Prometheus text) on a standalone server. Default
   * true. `/metrics` is on the main listener only while it is bound to a loopback address, or with
   * `metricsToken`; else on the `metricsPort` listener.
   */
  metrics?: boolean;
  /** A bearer token `/metrics` requires (`Authorization: Bearer …`), wherever it is served. */
  metricsToken?: string;
  /** Serve the operational endpoints on their own listener on this port; `/metrics` then only there. */
  metricsPort?: number;
  /** Interface of the metrics listener. Default `127.0.0.1`. */
  metricsHost?: string;
  /** Serve this folder over HTTP on the same port (the demo page). Standalone or attached. */
  staticDir?: string;
  /**
   * Extra folders served under a URL prefix, e.g. `{ '/dist': 'dist' }`, or `{ dir, only }` to serve just
   * the paths `only` matches. Dotfiles, source maps and anything a symlink leads out of the folder are never
   * served.
   */
  staticMounts?: Record<string, string | StaticMount>;
  /** Protocol v2: most chunks a client may keep unacknowledged. Default 16. */
  maxWindow?: number;
  /** Protocol v2: largest chunk in bytes (never above `maxPayload`). Default 4 MiB. */
  maxChunk?: number;
  /**
   * Protocol v2 flow control in bytes: the most bytes one upload may keep unacknowledged (its byte credit,
   * granted to clients that offer `credit`). Default 64 MiB: 1 Gbit/s at 200 ms round trip needs 25 MB.
   */
  maxCredit?: number;
  /**
   * The most bytes all uploads together may keep unacknowledged: each upload's credit is its share, within
   * `maxCredit`, and acks tell a client when its share moved. Default 1 GiB.
   */
  creditBudget?: number;
  /** Protocol v2: tell clients that offer `reuse` that another STOR may follow a FIN. Default true. */
  reuseConnections?: boolean;
}

/** The options after defaults, as the server uses them. */
export type ResolvedOptions = Required<
  Pick<
    UploadServerOptions,
    | 'path'
    | 'host'
    | 'maxFileSize'
    | 'maxPayload'
    | 'maxCommandLength'
    | 'maxJsonDepth'
    | 'maxUploadsPerClient'
    | 'maxUploads'
    | 'maxConnectionsPerClient'
    | 'maxConnections'
    | 'maxSocketsPerClient'
    | 'maxSockets'
    | 'maxUnfinishedPerClient'
    | 'maxConnectionRatePerClient'
    | 'connectionBurstPerClient'
    | 'idleTimeout'
    | 'heartbeatInterval'
    | 'aliveInterval'
    | 'handshakeTimeout'
    | 'authTimeout'
    | 'partialExpiry'
    | 'maxAuthFailures'
    | 'authBackoff'
    | 'maxAuthBackoff'
    | 'minFreeSpace'
    | 'overwrite'
    | 'naming'
    | 'logger'
    | 'metrics'
    | 'userFolders'
    | 'flattenFolders'
    | 'maxFolderDepth'
    | 'maxFolderPathLength'
    | 'maxWindow'
    | 'maxChunk'
    | 'maxCredit'
    | 'creditBudget'
    | 'reuseConnections'
  >
> &
  UploadServerOptions;

export const DEFAULTS = {
  path: '/upload',
  host: '127.0.0.1',
  maxFileSize: 64 * 1024 ** 3,
  maxPayload: 16 * 1024 * 1024,
  maxCommandLength: 64 * 1024,
  maxJsonDepth: 64,
  maxUploadsPerClient: 8,
  maxUploads: 256,
  maxConnectionsPerClient: 32,
  maxConnections: 4096,
  maxUnfinishedPerClient: 256,
  maxConnectionRatePerClient: 20,
  connectionBurstPerClient: 200,
  idleTimeout: 120_000,
  heartbeatInterval: 15_000,
  aliveInterval: 5000,
  handshakeTimeout: 10_000,
  authTimeout: 30_000,
  partialExpiry: 24 * 60 * 60 * 1000,
  maxAuthFailures: 5,
  authBackoff: 1000,
  maxAuthBackoff: 5 * 60 * 1000,
  minFreeSpace: 0,
  overwrite: false,
  naming: 'original',
  logger: false,
  metrics: true,
  userFolders: false,
  flattenFolders: false,
  maxFolderDepth: FOLDER_PATH_DEFAULTS.maxDepth,
  maxFolderPathLength: FOLDER_PATH_DEFAULTS.maxLength,
  maxWindow: 16,
  maxChunk: 4 * 1024 * 1024,
  maxCredit: 64 * 1024 * 1024,
  creditBudget: 1024 * 1024 * 1024,
  reuseConnections: true,
} as const;

const POSITIVE = [
  'maxFileSize',
  'maxPayload',
  'maxCommandLength',
  'maxJsonDepth',
  'maxUploadsPerClient',
  'maxUploads',
  'maxConnectionsPerClient',
  'maxConnections',
  'maxConnectionRatePerClient',
  'connectionBurstPerClient',
  'idleTimeout',
  'heartbeatInterval',
  'aliveInterval',
  'handshakeTimeout',
  'authTimeout',
  'partialExpiry',
  'maxAuthFailures',
  'authBackoff',
  'maxAuthBackoff',
  'maxWindow',
  'maxChunk',
  'maxCredit',
  'creditBudget',
  'maxFolderDepth',
  'maxFolderPathLength',
  'maxSocketsPerClient',
  'maxSockets',
  'maxUnfinishedPerClient',
] as const;
const HOOKS = ['authenticate', 'authorizeUpgrade', 'accept'] as const;
const BOOLEANS = ['overwrite', 'metrics', 'userFolders', 'reuseConnections', 'flattenFolders'] as const;

/**
 * Applies defaults, then checks every option before any work starts.
 *
 * @param options - what the caller gave
 * @returns the options with defaults
 * @throws {TypeError} when a required option is missing or of the wrong type
 * @throws {RangeError} when a limit is not a positive number
 */
export function resolveOptions(options: UploadServerOptions): ResolvedOptions {
  const resolved = { ...DEFAULTS, ...stripUndefined(options) } as ResolvedOptions;
  if (!resolved.store && (typeof resolved.dir !== 'string' || resolved.dir === '')) {
    throw new TypeError('The "dir" option must be a folder path (or pass a "store").');
  }
  if (typeof resolved.path !== 'string' || !resolved.path.startsWith('/')) {
    throw new TypeError('The "path" option must start with "/".');
  }
  for (const key of HOOKS) {
    if (resolved[key] !== undefined && typeof resolved[key] !== 'function') {
      throw new TypeError(`The "${key}" option must be a function.`);
    }
  }
  for (const key of BOOLEANS) {
    if (typeof resolved[key] !== 'boolean') throw new TypeError(`The "${key}" option must be a boolean.`);
  }
  // WebSockets plus room for plain HTTP (health checks, static files, upgrades being read).
  resolved.maxSocketsPerClient ??= resolved.maxConnectionsPerClient + 32;
  resolved.maxSockets ??= resolved.maxConnections + 1024;
  for (const key of POSITIVE) {
    const value = resolved[key];
    if (typeof value !== 'number' || !(value > 0)) {
      throw new RangeError(`The "${key}" option must be a positive number; got ${String(value)}.`);
    }
  }
  if (resolved.maxFolderDepth > MAX_FOLDER_DEPTH) {
    throw new RangeError(`The "maxFolderDepth" option must be at most ${MAX_FOLDER_DEPTH}.`);
  }
  // Node keeps timers in a signed 32-bit millisecond field: a longer one fires at once.
  const timers = [
    'idleTimeout',
    'heartbeatInterval',
    'aliveInterval',
    'handshakeTimeout',
    'authTimeout',
  ] as const;
  for (const key of timers) {
    if (resolved[key] > 2 ** 31 - 1) {
      throw new RangeError(`The "${key}" option must be at most ${2 ** 31 - 1} ms; got ${resolved[key]}.`);
    }
  }
  if (typeof resolved.minFreeSpace !== 'number' || !(resolved.minFreeSpace >= 0)) {
    throw new RangeError(
      `The "minFreeSpace" option must be a number of bytes, 0 or more; got ${String(resolved.minFreeSpace)}.`,
    );
  }
  if (
    resolved.fileMode !== undefined &&
    !(Number.isInteger(resolved.fileMode) && resolved.fileMode >= 0 && resolved.fileMode <= 0o777)
  ) {
    throw new RangeError(`The "fileMode" option must be from 0 to 0o777; got ${String(resolved.fileMode)}.`);
  }
  if (resolved.naming !== 'original' && resolved.naming !== 'sha256') {
    throw new TypeError(
      `The "naming" option must be "original" or "sha256"; got ${String(resolved.naming)}.`,
    );
  }
  if (
    resolved.logger !== false &&
    (resolved.logger === null ||
      typeof resolved.logger !== 'object' ||
      typeof resolved.logger.info !== 'function' ||
      typeof resolved.logger.child !== 'function')
  ) {
    throw new TypeError('The "logger" option must be a pino logger or false.');
  }
  if (
    resolved.allowedOrigins !== undefined &&
    (!Array.isArray(resolved.allowedOrigins) || !resolved.allowedOrigins.every((o) => typeof o === 'string'))
  ) {
    throw new TypeError('The "allowedOrigins" option must be an array of origin strings.');
  }
  if (resolved.trustProxy !== undefined) compileTrust(resolved.trustProxy);
  if (
    resolved.forwardedHeader !== undefined &&
    resolved.forwardedHeader !== 'x-forwarded-for' &&
    resolved.forwardedHeader !== 'forwarded'
  ) {
    throw new TypeError('The "forwardedHeader" option must be "x-forwarded-for" or "forwarded".');
  }
  if (
    resolved.metricsToken !== undefined &&
    (typeof resolved.metricsToken !== 'string' || resolved.metricsToken === '')
  ) {
    throw new TypeError('The "metricsToken" option must be a non-empty string.');
  }
  if (
    resolved.metricsPort !== undefined &&
    !(Number.isInteger(resolved.metricsPort) && resolved.metricsPort >= 0 && resolved.metricsPort < 65536)
  ) {
    throw new RangeError(
      `The "metricsPort" option must be an integer from 0 to 65535; got ${String(resolved.metricsPort)}.`,
    );
  }
  if (
    resolved.port !== undefined &&
    !(Number.isInteger(resolved.port) && resolved.port >= 0 && resolved.port < 65536)
  ) {
    throw new RangeError(
      `The "port" option must be an integer from 0 to 65535; got ${String(resolved.port)}.`,
    );
  }
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
