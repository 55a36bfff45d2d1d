#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { LevelWithSilent } from 'pino';
import { hashPassword, passwordFileAccess, tokenAccess } from './access.ts';
import { createLogger } from './logging.ts';
import type { UploadServerOptions } from './options.ts';
import { createUploadServer } from './upload-server.ts';

const USAGE = `Usage: ws-file-upload-server --dir ./uploads [options]

Stores files uploaded over WebSocket (WebSocketFileTransfer protocol) into --dir.

  --port 8080  --host 127.0.0.1  --path /upload  --static ./public
Limits (sizes take K, M, G, T suffixes, powers of 1024; times are in seconds):
  --max-file-size 64G           --max-payload 16M
  --max-uploads 256             --max-uploads-per-client 8
  --max-connections 4096        --max-connections-per-client 32
  --idle-timeout 120            --handshake-timeout 10        --auth-timeout 30
  --heartbeat-interval 15       (ping; a peer silent for two intervals is dropped)
  --partial-expiry 86400        --min-free-space 0 (bytes that must stay free; 0: no check)
Access:
  --token TOKEN                 AUTH {"token"}, "Authorization: Bearer", or ?token= on the URL
  --htpasswd FILE               lines "user:scrypt:<salt hex>:<key hex>"; AUTH login/password or Basic
  --hash-password USER          read a password on stdin, print its --htpasswd line, exit
  --allow-origin ORIGIN         repeatable; others get 403 at the upgrade
  --user-folders                store each user's files in <dir>/<user>/
Files:
  --overwrite                   replace same-named files instead of adding " (1)"
  --naming original|sha256      name files after their content's SHA-256
Operations:
  --log-level info              fatal, error, warn, info, debug, trace or silent
  --shutdown-timeout 10         seconds SIGTERM waits for connections to close before exiting
  --no-metrics                  do not serve /healthz and /metrics`;

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

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: './uploads' },
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
      'idle-timeout': { type: 'string' },
      'heartbeat-interval': { type: 'string' },
      'handshake-timeout': { type: 'string' },
      'auth-timeout': { type: 'string' },
      'partial-expiry': { type: 'string' },
      'min-free-space': { type: 'string' },
      token: { type: 'string' },
      htpasswd: { type: 'string' },
      'hash-password': { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      'user-folders': { type: 'boolean', default: false },
      overwrite: { type: 'boolean', default: false },
      naming: { type: 'string' },
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
  if (values.token !== undefined && values.htpasswd !== undefined) {
    throw new TypeError('Use --token or --htpasswd, not both.');
  }
  const access = values.token
    ? tokenAccess(values.token)
    : values.htpasswd
      ? passwordFileAccess(await readFile(values.htpasswd, 'utf8'))
      : {};
  const shutdownTimeout = Number(values['shutdown-timeout']) * 1000;
  if (!(shutdownTimeout > 0))
    throw new RangeError('--shutdown-timeout must be a positive number of seconds.');
  const logger = createLogger(values['log-level'] as LevelWithSilent);
  const options: UploadServerOptions = {
    dir: values.dir,
    port: Number(values.port),
    host: values.host,
    path: values.path,
    overwrite: values.overwrite,
    maxFileSize: bytesOf(values['max-file-size']),
    maxPayload: bytesOf(values['max-payload']),
    maxUploads: values['max-uploads'] === undefined ? undefined : Number(values['max-uploads']),
    maxUploadsPerClient:
      values['max-uploads-per-client'] === undefined ? undefined : Number(values['max-uploads-per-client']),
    maxConnections: values['max-connections'] === undefined ? undefined : Number(values['max-connections']),
    maxConnectionsPerClient:
      values['max-connections-per-client'] === undefined
        ? undefined
        : Number(values['max-connections-per-client']),
    idleTimeout: msOf(values['idle-timeout']),
    heartbeatInterval: msOf(values['heartbeat-interval']),
    handshakeTimeout: msOf(values['handshake-timeout']),
    authTimeout: msOf(values['auth-timeout']),
    partialExpiry: msOf(values['partial-expiry']),
    minFreeSpace: bytesOf(values['min-free-space']),
    allowedOrigins: values['allow-origin'],
    userFolders: values['user-folders'],
    naming: values.naming as UploadServerOptions['naming'],
    metrics: !values['no-metrics'],
    logger,
    ...access,
    staticDir: values.static,
    // The demo page loads the built browser bundles from /dist.
    staticMounts: values.static ? { '/dist': new URL('..', import.meta.url).pathname } : undefined,
  };
  const server = await createUploadServer(options);
  const http = server.url.replace(/^ws/, 'http').replace(server.options.path, '/');
  // The URL line stays plain text on stdout: people and scripts read it to find the port.
  console.log(`ws-file-upload server: uploads to ${server.url} are stored in ${values.dir}`);
  if (values.static) console.log(`Demo page: ${http}`);
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
