#!/usr/bin/env node
/**
 * The `ws-file-upload-server` command: flags and environment variables to options, secrets read from files
 * or the environment (argv is visible to every user in `ps`), and a bounded graceful shutdown.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { LevelWithSilent } from 'pino';
import { hashPassword, passwordFileAccess, tokenAccess } from './access.ts';
import { createLogger } from './logging.ts';
import type { UploadServerOptions } from './options.ts';
import { S3_USAGE } from './stores/s3-usage.ts';
import { createUploadServer } from './upload-server.ts';

const USAGE = `Usage: ws-file-upload-server --dir ./uploads [options]

Stores files uploaded over WebSocket (WebSocketFileTransfer protocol) into --dir.

  --port 8080  --host 127.0.0.1  --path /upload  --static ./public
Limits (sizes take K, M, G, T suffixes, powers of 1024; times are in seconds):
  --max-file-size 64G           --max-payload 16M
  --max-uploads 256             --max-uploads-per-client 8
  --max-connections 4096        --max-connections-per-client 32
  --max-sockets N               --max-sockets-per-client N    (TCP connections, counted before any request;
                                 default: --max-connections + 1024, --max-connections-per-client + 32)
  --idle-timeout 120            --handshake-timeout 10        --auth-timeout 30
  --heartbeat-interval 15       (ping; a peer silent for two intervals is dropped)
  --alive-interval 5            (v2 keep-alive message, so a browser can tell a dead connection)
  --max-command-length 65536    --max-json-depth 64
  --max-connection-rate-per-client 20   --connection-burst-per-client 200 (new connections/s, burst)
  --max-auth-failures 5         --auth-backoff 1     --max-auth-backoff 300 (doubling delays, seconds)
  --max-concurrent-hashes 1     --max-queued-hashes 16  (scrypt for --htpasswd; past the queue: 503)
  --partial-expiry 86400        --min-free-space 0 (bytes that must stay free; 0: no check)
  --max-unfinished-per-client 256  (resumable uploads one address may leave behind)
Access (secrets from files or the environment: argv is visible to every user in ps):
  --token-file FILE             (or WSFU_TOKEN, WSFU_TOKEN_FILE) AUTH {"token"}, "Authorization: Bearer",
                                or ?token= on the URL; --token TOKEN still works, with a warning
  --htpasswd FILE               (or WSFU_HTPASSWD) lines "user:scrypt:<salt hex>:<key hex>"; AUTH
                                login/password or HTTP Basic
  --trust-proxy HOPS|LIST       believe X-Forwarded-For from these proxies: a hop count, or addresses and
                                CIDR ranges (loopback, private, linklocal), comma-separated; default none
  --forwarded-header x-forwarded-for|forwarded
  --hash-password USER          read a password on stdin, print its --htpasswd line, exit
  --allow-origin ORIGIN         repeatable; others get 403 at the upgrade
  --user-folders                store each user's files in <dir>/<user>/
Files:
  --overwrite                   replace same-named files instead of adding " (1)"
  --naming original|sha256      name files after their content's SHA-256
  --flatten-folders             store files sent from a folder directly in <dir>, not in its sub-folders
  --max-folder-depth 16         --max-folder-path-length 1024 (a STOR "path" past them gets 400)
  --file-mode 600               permission bits of stored files (octal)
${S3_USAGE}
Operations:
  --log-level info              fatal, error, warn, info, debug, trace or silent
  --shutdown-timeout 10         seconds SIGTERM waits for connections to close before exiting
  --no-metrics                  do not serve /livez, /healthz, /readyz and /metrics
  --metrics-port PORT           serve them on their own listener (then /metrics only there)
  --metrics-host 127.0.0.1      interface of that listener
  --metrics-token-file FILE     (or WSFU_METRICS_TOKEN) bearer token /metrics requires; on the main
                                port of a non-loopback --host, /metrics needs it or --metrics-port`;

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `16M` → 16777216. NaN for anything else, so that resolveOptions names the option. */
function bytesOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  return match ? Math.floor(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!) : NaN;
}

/** Seconds on the command line, milliseconds in the options. */
function msOf(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text) * 1000;
}

/** A number, or undefined when the flag is absent (NaN is left for resolveOptions to name). */
function numberOf(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text);
}

/** `--trust-proxy 2` (hops) or `--trust-proxy 10.0.0.0/8,loopback` (a list). */
function trustOf(text: string | undefined): number | string[] | undefined {
  if (text === undefined) return undefined;
  return /^\d+$/.test(text.trim()) ? Number(text) : text.split(',').map((entry) => entry.trim());
}

/** `--file-mode 640` → 0o640. */
function modeOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return /^0?[0-7]{3}$/.test(text.trim()) ? parseInt(text, 8) : NaN;
}

/** The secret in a file (one line; the line break is not part of it), or undefined without a file. */
async function secretFile(file: string | undefined, flag: string): Promise<string | undefined> {
  if (!file) return undefined;
  const secret = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  if (secret === '') throw new TypeError(`${flag}: ${file} is empty.`);
  return secret;
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      path: { type: 'string', default: '/upload' },
      static: { type: 'string' },
      'max-file-size': { type: 'string' },
      'max-payload': { type: 'string' },
      'max-uploads': { type: 'string' },
      'max-uploads-per-client': { type: 'string' },
      'max-connections': { type: 'string' },
      'max-connections-per-client': { type: 'string' },
      'max-sockets': { type: 'string' },
      'max-sockets-per-client': { type: 'string' },
      'max-unfinished-per-client': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'heartbeat-interval': { type: 'string' },
      'alive-interval': { type: 'string' },
      'handshake-timeout': { type: 'string' },
      'auth-timeout': { type: 'string' },
      'partial-expiry': { type: 'string' },
      'min-free-space': { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      htpasswd: { type: 'string' },
      'trust-proxy': { type: 'string' },
      'forwarded-header': { type: 'string' },
      'file-mode': { type: 'string' },
      'max-command-length': { type: 'string' },
      'max-json-depth': { type: 'string' },
      'max-connection-rate-per-client': { type: 'string' },
      'connection-burst-per-client': { type: 'string' },
      'max-auth-failures': { type: 'string' },
      'auth-backoff': { type: 'string' },
      'max-auth-backoff': { type: 'string' },
      'max-concurrent-hashes': { type: 'string' },
      'max-queued-hashes': { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      'metrics-token-file': { type: 'string' },
      'hash-password': { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      'user-folders': { type: 'boolean', default: false },
      overwrite: { type: 'boolean', default: false },
      naming: { type: 'string' },
      'flatten-folders': { type: 'boolean', default: false },
      'max-folder-depth': { type: 'string' },
      'max-folder-path-length': { type: 'string' },
      's3-bucket': { type: 'string' },
      's3-prefix': { type: 'string' },
      's3-endpoint': { type: 'string' },
      's3-region': { type: 'string' },
      's3-path-style': { type: 'boolean', default: false },
      's3-part-memory': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'shutdown-timeout': { type: 'string', default: '10' },
      'no-metrics': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values['hash-password'] !== undefined) {
    console.log(await hashPassword(values['hash-password'], await readStdin()));
    return;
  }
  const env = process.env;
  if (values.token !== undefined) {
    console.error('Warning: --token is visible to every user in ps; use --token-file or WSFU_TOKEN.');
  }
  const token =
    values.token ??
    (await secretFile(values['token-file'] ?? env.WSFU_TOKEN_FILE, '--token-file')) ??
    (env.WSFU_TOKEN || undefined);
  const htpasswd = values.htpasswd ?? (env.WSFU_HTPASSWD || undefined);
  if (token !== undefined && htpasswd !== undefined) {
    throw new TypeError('Use a token or --htpasswd, not both.');
  }
  const hashing = {
    maxConcurrentHashes: numberOf(values['max-concurrent-hashes']),
    maxQueuedHashes: numberOf(values['max-queued-hashes']),
  };
  const access = token
    ? tokenAccess(token)
    : htpasswd
      ? passwordFileAccess(await readFile(htpasswd, 'utf8'), hashing)
      : {};
  const metricsToken =
    (await secretFile(values['metrics-token-file'], '--metrics-token-file')) ??
    (env.WSFU_METRICS_TOKEN || undefined);
  const shutdownTimeout = Number(values['shutdown-timeout']) * 1000;
  if (!(shutdownTimeout > 0))
    throw new RangeError('--shutdown-timeout must be a positive number of seconds.');
  const logger = createLogger(values['log-level'] as LevelWithSilent);
  // Loaded only when asked for: a file-store server never loads the SDK.
  const store =
    values['s3-bucket'] === undefined
      ? undefined
      : (await import('./stores/s3-flags.ts')).s3StoreOf(values, bytesOf(values['s3-part-memory']));
  if (store && values.dir !== undefined) throw new TypeError('Use --dir or --s3-bucket, not both.');
  const dir = values.dir ?? (store ? undefined : './uploads');
  const options: UploadServerOptions = {
    dir,
    ...(store ? { store } : {}),
    port: Number(values.port),
    host: values.host,
    path: values.path,
    overwrite: values.overwrite,
    maxFileSize: bytesOf(values['max-file-size']),
    maxCommandLength: numberOf(values['max-command-length']),
    maxJsonDepth: numberOf(values['max-json-depth']),
    maxConnectionRatePerClient: numberOf(values['max-connection-rate-per-client']),
    connectionBurstPerClient: numberOf(values['connection-burst-per-client']),
    maxAuthFailures: numberOf(values['max-auth-failures']),
    authBackoff: msOf(values['auth-backoff']),
    maxAuthBackoff: msOf(values['max-auth-backoff']),
    trustProxy: trustOf(values['trust-proxy']),
    forwardedHeader: values['forwarded-header'] as UploadServerOptions['forwardedHeader'],
    fileMode: modeOf(values['file-mode']),
    metricsPort: numberOf(values['metrics-port']),
    metricsHost: values['metrics-host'],
    metricsToken,
    maxPayload: bytesOf(values['max-payload']),
    maxUploads: values['max-uploads'] === undefined ? undefined : Number(values['max-uploads']),
    maxUploadsPerClient:
      values['max-uploads-per-client'] === undefined ? undefined : Number(values['max-uploads-per-client']),
    maxConnections: values['max-connections'] === undefined ? undefined : Number(values['max-connections']),
    maxConnectionsPerClient:
      values['max-connections-per-client'] === undefined
        ? undefined
        : Number(values['max-connections-per-client']),
    maxSockets: numberOf(values['max-sockets']),
    maxSocketsPerClient: numberOf(values['max-sockets-per-client']),
    maxUnfinishedPerClient: numberOf(values['max-unfinished-per-client']),
    idleTimeout: msOf(values['idle-timeout']),
    heartbeatInterval: msOf(values['heartbeat-interval']),
    aliveInterval: msOf(values['alive-interval']),
    handshakeTimeout: msOf(values['handshake-timeout']),
    authTimeout: msOf(values['auth-timeout']),
    partialExpiry: msOf(values['partial-expiry']),
    minFreeSpace: bytesOf(values['min-free-space']),
    allowedOrigins: values['allow-origin'],
    userFolders: values['user-folders'],
    naming: values.naming as UploadServerOptions['naming'],
    flattenFolders: values['flatten-folders'],
    maxFolderDepth: numberOf(values['max-folder-depth']),
    maxFolderPathLength: numberOf(values['max-folder-path-length']),
    metrics: !values['no-metrics'],
    logger,
    ...access,
    staticDir: values.static,
    // The demo page loads the built browser bundles from /dist: only those, not the server's own code.
    staticMounts: values.static
      ? { '/dist': { dir: new URL('..', import.meta.url).pathname, only: /^\/[\w.-]+\.min\.js$/ } }
      : undefined,
  };
  const server = await createUploadServer(options);
  const http = server.url.replace(/^ws/, 'http').replace(server.options.path, '/');
  // The URL line stays plain text on stdout: people and scripts read it to find the port.
  const where = store ? `s3://${store.bucket}/${store.prefix}` : dir;
  console.log(`ws-file-upload server: uploads to ${server.url} are stored in ${where}`);
  // What a crash left (multipart uploads without state, expired uploads) goes now, not at the first upload.
  store
    ?.expire(Date.now())
    .catch((error: unknown) => logger.warn({ event: 'store.sweep', err: error }, 'sweep failed'));
  if (values.static) console.log(`Demo page: ${http}`);
  const metricsPort = server.operations.metricsPort;
  if (metricsPort !== undefined) {
    console.log(`Metrics: http://${values['metrics-host'] ?? '127.0.0.1'}:${metricsPort}/metrics`);
  }
  const stop = (signal: string) => {
    logger.info({ event: 'server.stop', signal }, 'shutting down');
    // The bound: a connection that does not close in time must not keep the process (and a deploy) waiting.
    setTimeout(() => {
      logger.warn({ event: 'server.stop', signal }, 'shutdown timed out');
      process.exit(1);
    }, shutdownTimeout).unref();
    void server.close().then(() => {
      logger.info({ event: 'server.stopped' }, 'stopped');
      logger.flush();
      process.exit(0);
    });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  console.error(USAGE);
  process.exit(1);
});
