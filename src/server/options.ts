import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { UploadStore } from './stores/store.ts';

/** Credentials a client sent with `AUTH`. */
export interface Credentials {
  login?: string;
  password?: string;
  token?: string;
}

/**
 * Decides whether an `AUTH` is accepted. The upgrade request is there for checks on headers or cookies.
 *
 * @returns true to accept
 */
export type Authenticate = (credentials: Credentials, request: IncomingMessage) => boolean | Promise<boolean>;

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
  /** Largest declared file size in bytes. Default 64 GiB. */
  maxFileSize?: number;
  /** Largest WebSocket message in bytes (ws `maxPayload`). Default 16 MiB. */
  maxPayload?: number;
  /** Longest text command in characters. Default 64 KiB. */
  maxCommandLength?: number;
  /** Milliseconds a client may wait between messages before it is closed. Default 120 s. */
  idleTimeout?: number;
  /** Replace a same-named file instead of adding ` (1)`. Default false. */
  overwrite?: boolean;
  /** Serve this folder over HTTP on the same port (the demo page). Standalone or attached. */
  staticDir?: string;
  /** Extra folders served under a URL prefix, e.g. `{ '/dist': 'dist' }`. */
  staticMounts?: Record<string, string>;
  /** Protocol v2: most chunks a client may keep unacknowledged. Default 16. */
  maxWindow?: number;
  /** Protocol v2: largest chunk in bytes (never above `maxPayload`). Default 4 MiB. */
  maxChunk?: number;
  /** Protocol v2: milliseconds an abandoned partial upload is kept for a resume. Default 24 h. */
  partialTtl?: number;
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
    | 'idleTimeout'
    | 'overwrite'
    | 'maxWindow'
    | 'maxChunk'
    | 'partialTtl'
  >
> &
  UploadServerOptions;

export const DEFAULTS = {
  path: '/upload',
  host: '127.0.0.1',
  maxFileSize: 64 * 1024 ** 3,
  maxPayload: 16 * 1024 * 1024,
  maxCommandLength: 64 * 1024,
  idleTimeout: 120_000,
  overwrite: false,
  maxWindow: 16,
  maxChunk: 4 * 1024 * 1024,
  partialTtl: 24 * 60 * 60 * 1000,
} as const;

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
  if (resolved.authenticate !== undefined && typeof resolved.authenticate !== 'function') {
    throw new TypeError('The "authenticate" option must be a function.');
  }
  for (const key of [
    'maxFileSize',
    'maxPayload',
    'maxCommandLength',
    'idleTimeout',
    'maxWindow',
    'maxChunk',
    'partialTtl',
  ] as const) {
    const value = resolved[key];
    if (typeof value !== 'number' || !(value > 0)) {
      throw new RangeError(`The "${key}" option must be a positive number; got ${String(value)}.`);
    }
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
